// Per-run statistics and the Gemmini timing model's results (see README.md). Written as JSON to
// $GEMMINI_STATS at exit when that variable is set.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "gemmini_params.h"
#include "timing.h"

namespace gemmini {

struct Stats {
  uint64_t commands[128] = {};  // issued instructions by funct7 (loops count once)
  uint64_t mvin_ops = 0, mvout_ops = 0, preload_ops = 0, compute_ops = 0;
  uint64_t bytes_in = 0, bytes_out = 0;
  uint64_t macs_array = 0;   // DIM^3 per compute: what the mesh spends
  uint64_t macs_useful = 0;  // rows x inner x cols that hold real data
  Timing timing{BANK_NUM * BANK_ROWS, ACC_ROWS};
  CounterFile counters;
  std::function<std::string()> mesh_json;  // the mesh backend's own statistics (RTL: "rtl")

  std::string to_json() const;
};

// Write `stats` as JSON to `path` (temporary file + rename). Returns false on failure.
bool write_stats_json(const Stats& stats, const std::string& path);

}  // namespace gemmini
