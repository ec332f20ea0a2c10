#include "stats.h"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <string>

#include "gemmini_commands.h"

namespace gemmini {

void Stats::count_dma(uint64_t rows, uint64_t row_bytes, bool is_load) {
  const uint64_t beats = (row_bytes + timing.dma_bytes_per_cycle - 1) / timing.dma_bytes_per_cycle;
  const uint64_t cycles = timing.dma_command_cycles + rows * (beats > 0 ? beats : 1);
  (is_load ? load_cycles : store_cycles) += cycles;
}

std::string Stats::to_json() const {
  std::ostringstream o;
  o << "{\n  \"commands\": {";
  bool first = true;
#define IVIT_STATS_COMMAND(name, code)                                   \
  if (commands[code] != 0) {                                             \
    o << (first ? "" : ",") << "\n    \"" #name "\": " << commands[code]; \
    first = false;                                                       \
  }
  GEMMINI_COMMAND_LIST(IVIT_STATS_COMMAND)
#undef IVIT_STATS_COMMAND
  o << (first ? "}" : "\n  }") << ",\n";
  o << "  \"ops\": {\"mvin\": " << mvin_ops << ", \"mvout\": " << mvout_ops
    << ", \"preload\": " << preload_ops << ", \"compute\": " << compute_ops << "},\n";
  o << "  \"bytes_in\": " << bytes_in << ",\n  \"bytes_out\": " << bytes_out << ",\n";
  o << "  \"macs_array\": " << macs_array << ",\n  \"macs_useful\": " << macs_useful << ",\n";
  const uint64_t overlapped = std::max(load_cycles, std::max(execute_cycles, store_cycles));
  o << "  \"cycles\": {\"load\": " << load_cycles << ", \"execute\": " << execute_cycles
    << ", \"store\": " << store_cycles << ", \"serial\": "
    << load_cycles + execute_cycles + store_cycles << ", \"overlapped\": " << overlapped << "},\n";
  const std::string mesh = mesh_json ? mesh_json() : std::string();
  if (!mesh.empty()) o << "  \"rtl\": " << mesh << ",\n";
  o << "  \"timing_model\": {\"dma_bytes_per_cycle\": " << timing.dma_bytes_per_cycle
    << ", \"dma_command_cycles\": " << timing.dma_command_cycles
    << ", \"mesh_latency\": " << timing.mesh_latency << ", \"rows_per_cycle\": 1}\n}\n";
  return o.str();
}

bool write_stats_json(const Stats& stats, const std::string& path) {
  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) return false;
  const std::string text = stats.to_json();
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok) return false;
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

}  // namespace gemmini
