// Per-run statistics and the coarse Gemmini timing model (see README.md). Written as JSON to
// $GEMMINI_STATS at exit when that variable is set.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace gemmini {

// Timing model parameters (cycles of the accelerator clock).
struct TimingModel {
  uint64_t dma_bytes_per_cycle = 16;  // 128-bit system bus
  uint64_t dma_command_cycles = 8;    // fixed cost of one mvin/mvout command
  uint64_t mesh_latency = 2 * 16;     // fill + drain of the 16x16 mesh when weights change
};

struct Stats {
  uint64_t commands[128] = {};  // issued instructions by funct7 (loops count once)
  uint64_t mvin_ops = 0, mvout_ops = 0, preload_ops = 0, compute_ops = 0;
  uint64_t bytes_in = 0, bytes_out = 0;
  uint64_t macs_array = 0;   // DIM^3 per compute: what the mesh spends
  uint64_t macs_useful = 0;  // rows x inner x cols that hold real data
  uint64_t load_cycles = 0, execute_cycles = 0, store_cycles = 0;
  TimingModel timing;
  std::function<std::string()> mesh_json;  // the mesh backend's own statistics (RTL: "rtl")

  void count_dma(uint64_t rows, uint64_t row_bytes, bool is_load);
  std::string to_json() const;
};

// Write `stats` as JSON to `path` (temporary file + rename). Returns false on failure.
bool write_stats_json(const Stats& stats, const std::string& path);

}  // namespace gemmini
