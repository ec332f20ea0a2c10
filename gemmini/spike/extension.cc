// The Spike extension "gemmini": decodes custom-3 (opcode 0x7B) itself, dispatches on funct7
// (codes from gemmini_commands.h, the one ISA table), and turns invalid use into a message
// naming the instruction and its operands followed by a trap.
#include <riscv/extension.h>
#include <riscv/mmu.h>
#include <riscv/processor.h>
#include <riscv/trap.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "gemmini_commands.h"
#include "model.h"
#include "stats.h"

namespace {

using gemmini::Model;
using gemmini::ModelError;

// Guest DRAM through the MMU: 8-byte accesses where aligned, bytes at the edges. A bad
// address raises Spike's access-fault trap at the Gemmini instruction.
class SpikeMemory final : public gemmini::GuestMemory {
 public:
  void set_mmu(mmu_t* mmu) { mmu_ = mmu; }
  void read(uint64_t addr, void* dst, size_t len) override {
    auto* out = static_cast<uint8_t*>(dst);
    size_t i = 0;
    for (; i < len && ((addr + i) & 7); ++i) out[i] = mmu_->load<uint8_t>(addr + i);
    for (; i + 8 <= len; i += 8) {
      const uint64_t v = mmu_->load<uint64_t>(addr + i);
      std::memcpy(out + i, &v, 8);
    }
    for (; i < len; ++i) out[i] = mmu_->load<uint8_t>(addr + i);
  }
  void write(uint64_t addr, const void* src, size_t len) override {
    const auto* in = static_cast<const uint8_t*>(src);
    size_t i = 0;
    for (; i < len && ((addr + i) & 7); ++i) mmu_->store<uint8_t>(addr + i, in[i]);
    for (; i + 8 <= len; i += 8) {
      uint64_t v;
      std::memcpy(&v, in + i, 8);
      mmu_->store<uint64_t>(addr + i, v);
    }
    for (; i < len; ++i) mmu_->store<uint8_t>(addr + i, in[i]);
  }

 private:
  mmu_t* mmu_ = nullptr;
};

const char* command_name(unsigned funct) {
  switch (funct) {
#define IVIT_NAME_CASE(name, code) \
  case code:                       \
    return #name;
    GEMMINI_COMMAND_LIST(IVIT_NAME_CASE)
#undef IVIT_NAME_CASE
    default:
      return nullptr;
  }
}

// One run's statistics, shared by all harts, written once at exit if $GEMMINI_STATS is set.
gemmini::Stats& run_stats() {
  static gemmini::Stats stats;
  return stats;
}

void write_stats_at_exit() {
  const char* path = std::getenv("GEMMINI_STATS");
  if (path != nullptr && *path != '\0' && !gemmini::write_stats_json(run_stats(), path))
    std::fprintf(stderr, "gemmini: warning: could not write statistics to %s\n", path);
}

class gemmini_extension_t final : public extension_t {
 public:
  gemmini_extension_t() : model_(memory_, run_stats()) {
    static bool registered = false;
    if (!registered) {
      registered = true;
      std::atexit(write_stats_at_exit);
      const char* spec = std::getenv("GEMMINI_TIMING");
      const std::string error = spec ? run_stats().timing.configure(spec) : "";
      if (!error.empty()) {
        std::fprintf(stderr, "gemmini: error: %s\n", error.c_str());
        std::exit(2);
      }
    }
  }
  const char* name() const override { return "gemmini"; }
  std::vector<insn_desc_t> get_instructions(const processor_t&) override;
  std::vector<disasm_insn_t*> get_disasms(const processor_t*) override { return {}; }

  reg_t execute(processor_t* p, insn_t insn);

 private:
  reg_t dispatch(unsigned funct, reg_t rs1, reg_t rs2);
  void report(unsigned funct, reg_t rs1, reg_t rs2, const std::string& what) const;

  SpikeMemory memory_;
  Model model_;
};

void gemmini_extension_t::report(unsigned funct, reg_t rs1, reg_t rs2,
                                 const std::string& what) const {
  const char* name = command_name(funct);
  std::fprintf(stderr, "gemmini: error: %s (funct7=%u) rs1=0x%llx rs2=0x%llx: %s\n",
               name ? name : "unknown command", funct, static_cast<unsigned long long>(rs1),
               static_cast<unsigned long long>(rs2), what.c_str());
  std::fflush(stderr);
}

reg_t gemmini_extension_t::dispatch(unsigned funct, reg_t rs1, reg_t rs2) {
  switch (funct) {
    case k_CONFIG: model_.config(rs1, rs2); return 0;
    case k_MVIN: model_.mvin(rs1, rs2, 0); return 0;
    case k_MVIN2: model_.mvin(rs1, rs2, 1); return 0;
    case k_MVIN3: model_.mvin(rs1, rs2, 2); return 0;
    case k_MVOUT: model_.mvout(rs1, rs2); return 0;
    case k_PRELOAD: model_.preload(rs1, rs2); return 0;
    case k_COMPUTE_PRELOADED: model_.compute(rs1, rs2, true); return 0;
    case k_COMPUTE_ACCUMULATE: model_.compute(rs1, rs2, false); return 0;
    case k_FLUSH: return 0;       // no queued state in a synchronous model
    case k_CLKGATE_EN: return 0;  // clock gating hint: nothing to model
    case k_LOOP_WS_CONFIG_BOUNDS: model_.loop_ws_config(0, rs1, rs2); return 0;
    case k_LOOP_WS_CONFIG_ADDRS_AB: model_.loop_ws_config(1, rs1, rs2); return 0;
    case k_LOOP_WS_CONFIG_ADDRS_DC: model_.loop_ws_config(2, rs1, rs2); return 0;
    case k_LOOP_WS_CONFIG_STRIDES_AB: model_.loop_ws_config(3, rs1, rs2); return 0;
    case k_LOOP_WS_CONFIG_STRIDES_DC: model_.loop_ws_config(4, rs1, rs2); return 0;
    case k_LOOP_WS: model_.loop_ws(rs1, rs2); return 0;
    case k_LOOP_CONV_WS_CONFIG_1: model_.loop_conv_config(1, rs1, rs2); return 0;
    case k_LOOP_CONV_WS_CONFIG_2: model_.loop_conv_config(2, rs1, rs2); return 0;
    case k_LOOP_CONV_WS_CONFIG_3: model_.loop_conv_config(3, rs1, rs2); return 0;
    case k_LOOP_CONV_WS_CONFIG_4: model_.loop_conv_config(4, rs1, rs2); return 0;
    case k_LOOP_CONV_WS_CONFIG_5: model_.loop_conv_config(5, rs1, rs2); return 0;
    case k_LOOP_CONV_WS_CONFIG_6: model_.loop_conv_config(6, rs1, rs2); return 0;
    case k_LOOP_CONV_WS: model_.loop_conv_ws(rs1, rs2); return 0;
    case k_COUNTER: return model_.counter(rs1);
    default: throw ModelError("unknown Gemmini funct7 " + std::to_string(funct));
  }
}

reg_t gemmini_extension_t::execute(processor_t* p, insn_t insn) {
  const unsigned funct = static_cast<unsigned>(insn.funct7());
  const bool xs1 = (insn.bits() >> 13) & 1, xs2 = (insn.bits() >> 12) & 1;
  const bool xd = (insn.bits() >> 14) & 1;
  state_t* state = p->get_state();
  const reg_t rs1 = xs1 ? state->XPR[insn.rs1()] : 0;
  const reg_t rs2 = xs2 ? state->XPR[insn.rs2()] : 0;
  memory_.set_mmu(p->get_mmu());
  reg_t result = 0;
  try {
    run_stats().commands[funct & 127]++;
    run_stats().timing.core_command();
    result = dispatch(funct, rs1, rs2);
  } catch (const ModelError& e) {
    report(funct, rs1, rs2, e.what());
    throw trap_illegal_instruction(insn.bits());
  } catch (trap_t& t) {
    report(funct, rs1, rs2,
           "guest memory fault (" + t.name() + ") at " + gemmini::hex(t.get_tval()));
    throw;
  }
  if (xd) state->XPR.write(insn.rd(), result);
  return result;
}

// Each processor owns its extension instance: look it up on every instruction rather than
// caching a pointer in a static, which would outlive (or mix up) instances when processors
// are created and destroyed in one process.
reg_t gemmini_custom3(processor_t* p, insn_t insn, reg_t pc) {
  static_cast<gemmini_extension_t*>(p->get_extension("gemmini"))->execute(p, insn);
  return pc + 4;
}

// FENCE (opcode 0x0F, funct3 0): a no-op in Spike; for the timing model it is where the core
// waits for Gemmini (gemmini_fence), closing a segment. Extension instructions are matched
// before the base ISA's, so this replaces Spike's own (equally empty) FENCE.
reg_t gemmini_fence_insn(processor_t*, insn_t, reg_t pc) {
  run_stats().timing.fence();
  return pc + 4;
}

std::vector<insn_desc_t> gemmini_extension_t::get_instructions(const processor_t&) {
  std::vector<insn_desc_t> insns;
  const insn_desc_t desc = {0x7B, 0x7F,
                            &::illegal_instruction, gemmini_custom3, &::illegal_instruction,
                            gemmini_custom3, &::illegal_instruction, gemmini_custom3,
                            &::illegal_instruction, gemmini_custom3};
  insns.push_back(desc);
  const insn_desc_t fence = {0x0F, 0x707F,
                             gemmini_fence_insn, gemmini_fence_insn, gemmini_fence_insn,
                             gemmini_fence_insn, gemmini_fence_insn, gemmini_fence_insn,
                             gemmini_fence_insn, gemmini_fence_insn};
  insns.push_back(fence);
  return insns;
}

}  // namespace

REGISTER_EXTENSION(gemmini, []() { return new gemmini_extension_t; })
