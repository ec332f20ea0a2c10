#include "stats.h"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <string>

#include "gemmini_commands.h"

namespace gemmini {

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
  const Timing& t = timing;
  const TimingEvents& e = t.ev;
  const TimingParams& p = t.p;
  const uint64_t modelled = t.modelled();
  o << "  \"gemmini_cycles_modelled\": " << modelled << ",\n";
  o << "  \"gemmini_segments\": " << t.segments() << ",\n";
  o << "  \"gemmini_wait_cycles_modelled\": " << t.core_wait() << ",\n";
  o << "  \"cycles\": {\"label\": \"modelled\", \"modelled\": " << modelled
    << ", \"load\": " << e.load_busy << ", \"execute\": " << e.exec_busy
    << ", \"store\": " << e.store_busy << "},\n";
  o << "  \"events\": {\"load_busy\": " << e.load_busy << ", \"execute_busy\": " << e.exec_busy
    << ", \"store_busy\": " << e.store_busy << ", \"mesh_active\": " << e.mesh_active
    << ", \"weight_load_cycles\": " << e.weight_cycles << ", \"scratchpad_a_wait\": " << e.sp_a_wait
    << ", \"scratchpad_b_wait\": " << e.sp_b_wait << ", \"loop_active\": " << e.loop_active
    << ", \"dma_read_bytes\": " << e.rdma_bytes << ", \"dma_write_bytes\": " << e.wdma_bytes
    << ", \"dma_read_requests\": " << e.rdma_reqs << ", \"dma_write_requests\": " << e.wdma_reqs
    << "},\n";
  const std::string mesh = mesh_json ? mesh_json() : std::string();
  if (!mesh.empty()) o << "  \"rtl\": " << mesh << ",\n";
  o << "  \"timing_model\": {\"dim\": " << DIM << ", \"bus_bytes\": " << p.bus_bytes
    << ", \"mem_bus_bytes\": " << p.mem_bus_bytes << ", \"max_bytes\": " << p.max_bytes << ", \"max_in_flight\": " << p.max_in_flight
    << ", \"rs_entries_ld\": " << p.rs_entries[kLoad] << ", \"rs_entries_ex\": "
    << p.rs_entries[kExec] << ", \"rs_entries_st\": " << p.rs_entries[kStore]
    << ", \"loop_slots\": " << p.loop_slots << ", \"mem_latency\": " << p.mem_latency
    << ", \"write_latency\": " << p.write_latency << ", \"acc_read_latency\": "
    << p.acc_read_latency << ", \"core_cmd_cycles\": " << p.core_cmd_cycles
    << ", \"call_cycles\": " << p.call_cycles << "}\n}\n";
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
