// CONFIG (execute / load / store / norm), model construction, COUNTER.
#include <cstring>
#include <string>

#include "model.h"

namespace gemmini {

namespace {
float float_from_bits(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// rs1 activation field -> activation; "none" keeps a softmax set through the norm config.
Act decode_act(uint64_t field, Act current) {
  switch (field & 3) {
    case 1: return Act::Relu;
    case 2: return Act::LayerNorm;
    case 3: return Act::IGelu;
    default: return current == Act::Softmax ? Act::Softmax : Act::None;
  }
}
}  // namespace

Model::Model(GuestMemory& mem, Stats& stats)
    : mem_(mem), stats_(stats), spad_(static_cast<size_t>(kSpRows) * DIM, 0),
      acc_(static_cast<size_t>(kAccRows) * DIM, 0),
      mesh_(make_mesh_backend([this](int tag, const int32_t v[DIM][DIM]) { write_output(tag, v); })) {
  stats_.mesh_json = [this] { return mesh_->stats_json(stats_.macs_useful); };
}

void Model::config(uint64_t rs1, uint64_t rs2) {
  static constexpr Unit kUnitOf[4] = {kExec, kLoad, kStore, kStore};  // norm: store side
  stats_.timing.config(kUnitOf[rs1 & 3]);
  switch (rs1 & 3) {
    case 0: {  // execute
      sync_mesh(true);
      const bool set_only_strides = (rs1 >> 7) & 1;
      const auto mode = ((rs1 >> 2) & 1) ? Dataflow::WS : Dataflow::OS;
      const bool a_t = (rs1 >> 8) & 1, b_t = (rs1 >> 9) & 1;
      const uint64_t shift = rs2 & 0xFFFFFFFF;
      if (shift >= 32)
        throw ModelError("CONFIG_EX: in_shift " + std::to_string(shift) + " must be below 32");
      if ((mode == Dataflow::OS && !a_t && b_t) || (mode == Dataflow::WS && a_t && b_t))
        throw ModelError("CONFIG_EX: this dataflow does not support that A/B transpose pair");
      if (!set_only_strides) {
        mode_ = mode;
        sys_act_ = decode_act(rs1 >> 3, acc_act_);
        sys_shift_ = static_cast<uint32_t>(shift);
        a_transpose_ = a_t;
        b_transpose_ = b_t;
      }
      c_stride_ = static_cast<uint16_t>(rs2 >> 48);
      a_stride_ = static_cast<uint16_t>(rs1 >> 16);
      break;
    }
    case 1: {  // load unit
      const int unit = (rs1 >> 3) & 3;
      if (unit >= kLoadUnits)
        throw ModelError("CONFIG_LD: load unit id " + std::to_string(unit) + " must be 0, 1 or 2");
      LoadConfig& lc = load_[unit];
      lc.dram_stride = rs2;
      lc.block_stride = static_cast<uint16_t>(rs1 >> 16);
      // The fp32 scale as given: bits 0 are +0.0 (A * 0 = 0), as in the RTL's LoadController,
      // which latches rs1[63:32] unchanged (no "0 means identity" rule).
      lc.scale = float_from_bits(static_cast<uint32_t>(rs1 >> 32));
      lc.shrunk = (rs1 >> 2) & 1;
      lc.pixels_per_row = static_cast<uint8_t>(rs1 >> 8) == 0 ? 1 : static_cast<uint8_t>(rs1 >> 8);
      break;
    }
    case 2: {  // store unit
      store_.dram_stride = static_cast<uint32_t>(rs2);
      store_.scale = float_from_bits(static_cast<uint32_t>(rs2 >> 32));
      acc_act_ = decode_act(rs1 >> 2, acc_act_);
      store_.pool_stride = (rs1 >> 4) & 3;
      store_.pool_size = (rs1 >> 6) & 3;
      store_.pool_upad = (rs1 >> 8) & 3;
      store_.pool_lpad = (rs1 >> 10) & 3;
      store_.pool_out_dim = static_cast<uint8_t>(rs1 >> 24);
      store_.porows = static_cast<uint8_t>(rs1 >> 32);
      store_.pocols = static_cast<uint8_t>(rs1 >> 40);
      store_.orows = static_cast<uint8_t>(rs1 >> 48);
      store_.ocols = static_cast<uint8_t>(rs1 >> 56);
      break;
    }
    default: {  // norm: I-GELU constants; the statistics unit itself is not modelled
      if (!((rs1 >> 17) & 1)) {
        igelu_qb_ = static_cast<int32_t>(rs2);
        igelu_qc_ = static_cast<int32_t>(rs2 >> 32);
        const uint64_t act = (((rs1 >> 16) & 1) << 2) | static_cast<uint64_t>(acc_act_);
        if (act > 4)
          throw ModelError("CONFIG_NORM: activation " + std::to_string(act) + " is undefined");
        acc_act_ = static_cast<Act>(act);
      }
      break;
    }
  }
}

// COUNTER: the counter file reads the timing model's events (timing.cc).
uint64_t Model::counter(uint64_t rs1) { return stats_.counters.access(rs1, stats_.timing); }

}  // namespace gemmini
