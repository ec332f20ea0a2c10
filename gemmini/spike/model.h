// Gemmini's architectural state and the semantics of its commands (default configuration),
// following upstream's functional model (ucb-bar/libgemmini gemmini.cc) bit for bit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "gemmini_params.h"
#include "guest_memory.h"
#include "mesh_backend.h"
#include "stats.h"

namespace gemmini {

constexpr uint32_t kGarbage = 0xFFFFFFFFu;
constexpr uint32_t kSpRows = BANK_NUM * BANK_ROWS;
constexpr uint32_t kAccRows = ACC_ROWS;
constexpr int kLoadUnits = 3;

// Invalid use of the accelerator; the extension reports it with the instruction and traps.
using ModelError = MeshError;

enum class Dataflow : uint8_t { OS = 0, WS = 1 };
enum class Act : uint8_t { None = 0, Relu = 1, LayerNorm = 2, IGelu = 3, Softmax = 4 };

// A local-address operand: address in [31:0], columns in [47:32], rows in [63:48].
struct LocalOperand {
  uint32_t addr;
  uint16_t cols;
  uint16_t rows;
  static LocalOperand decode(uint64_t v) {
    return {static_cast<uint32_t>(v), static_cast<uint16_t>(v >> 32), static_cast<uint16_t>(v >> 48)};
  }
  bool garbage() const { return addr == kGarbage; }
  bool is_acc() const { return (addr >> 31) & 1; }
  bool accumulate() const { return (addr >> 30) & 1; }
  bool full() const { return (addr >> 29) & 1; }
};

inline std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

inline uint64_t local_operand(uint32_t addr, uint64_t cols, uint64_t rows) {
  return (rows << 48) | (cols << 32) | addr;
}

struct LoadConfig {
  uint64_t dram_stride = 0;
  uint16_t block_stride = DIM;
  bool shrunk = false;
  float scale = 1.0f;
  uint8_t pixels_per_row = 1;
};

struct StoreConfig {
  uint32_t dram_stride = 0;
  float scale = 1.0f;
  uint8_t pool_stride = 0, pool_size = 0, pool_upad = 0, pool_lpad = 0;
  uint8_t pool_out_dim = 0, porows = 0, pocols = 0, orows = 0, ocols = 0;
};

struct LoopWsState {
  uint16_t I = 0, J = 0, K = 0, pad_I = 0, pad_J = 0, pad_K = 0;
  uint64_t A = 0, B = 0, D = 0, C = 0;
  uint64_t A_stride = 0, B_stride = 0, D_stride = 0, C_stride = 0;
};

struct LoopConvState {
  uint16_t batch_size = 0, in_row_dim = 0, in_col_dim = 0, in_channels = 0, out_channels = 0;
  uint16_t in_stride = 0, weight_stride = 0, out_stride = 0;
  uint16_t out_row_dim = 0, pool_out_row_dim = 0, out_col_dim = 0, pool_out_col_dim = 0;
  uint16_t stride = 0, padding = 0, kernel_dim = 0, kernel_dilation = 0;
  uint16_t pool_size = 0, pool_stride = 0, pool_padding = 0;
  uint16_t batches = 0, porows = 0, pocols = 0, pochs = 0;
  uint16_t krows = 0, kcols = 0, kchs = 0, lpad = 0, rpad = 0, upad = 0, dpad = 0;
  uint16_t plpad = 0, prad = 0, pupad = 0, pdpad = 0, orows = 0, ocols = 0;
  uint64_t weights = 0, output = 0, bias = 0, input = 0;
  uint32_t d_row = 0, c_row = 0;  // accumulator halves used by successive convolutions
};

struct ConvGeometry;

class Model {
 public:
  Model(GuestMemory& mem, Stats& stats);
  ~Model() {  // the statistics outlive the model: keep the mesh's last figures
    const std::string mesh = mesh_->stats_json(stats_.macs_useful);
    stats_.mesh_json = [mesh] { return mesh; };
  }
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  void config(uint64_t rs1, uint64_t rs2);
  void mvin(uint64_t dram, uint64_t local, int unit);
  void mvout(uint64_t dram, uint64_t local);
  void preload(uint64_t bd, uint64_t c);
  void compute(uint64_t a, uint64_t bd, bool new_weights);
  void loop_ws_config(int which, uint64_t rs1, uint64_t rs2);
  void loop_ws(uint64_t rs1, uint64_t rs2);
  void loop_conv_config(int which, uint64_t rs1, uint64_t rs2);
  void loop_conv_ws(uint64_t rs1, uint64_t rs2);
  uint64_t counter(uint64_t rs1);

 private:
  int8_t* sp_row(uint32_t row) { return &spad_[static_cast<size_t>(row) * DIM]; }
  int32_t* acc_row(uint32_t row) { return &acc_[static_cast<size_t>(row) * DIM]; }
  void check_rows(const char* what, bool acc, uint64_t first, uint64_t last) const;
  void gather_a(const LocalOperand& a, MeshJob& job);
  void write_output(int tag, const int32_t values[DIM][DIM]);
  void time_compute(const LocalOperand& a, const LocalOperand& bd, bool new_weights);
  // Before a command touches the scratchpad (acc=false) or the accumulator (acc=true) or the
  // execute configuration (both): deliver mesh results in flight that could write there.
  void sync_mesh(bool acc);
  int8_t activation(int8_t v, Act act) const { return act == Act::Relu && v < 0 ? 0 : v; }
  void store_row(uint64_t r, uint32_t base, uint64_t cols, bool to_acc, bool wide,
                 bool accumulate, uint32_t block_stride);
  void mvout_pooled(uint64_t dram, const LocalOperand& op, uint32_t base);
  void conv_mvin_bias(const ConvGeometry& g);
  void conv_mvin_input(const ConvGeometry& g);
  void conv_mvin_weights(const ConvGeometry& g);
  void conv_compute(const ConvGeometry& g);
  void conv_mvout(const ConvGeometry& g);

  GuestMemory& mem_;
  Stats& stats_;
  std::vector<int8_t> spad_;
  std::vector<int32_t> acc_;
  std::vector<uint8_t> line_;  // one DRAM row in flight (reused: no allocation per command)
  // The mesh (functional or RTL, mesh_backend.h) and where its results go: one entry per
  // compute with a C operand, a ring indexed by tag (results arrive in order, few in flight).
  struct OutputTarget {
    LocalOperand c{kGarbage, 0, 0};
    uint16_t c_stride = 1;
    Act act = Act::None;
  };
  static constexpr int kTargets = 64;
  OutputTarget targets_[kTargets];
  int next_tag_ = 0;
  int spad_outputs_in_flight_ = 0;  // results in flight that write the scratchpad
  std::unique_ptr<MeshBackend> mesh_;
  MeshJob job_;  // reused: no DIM^2 zeroing on the stack per compute

  // execute configuration
  Dataflow mode_ = Dataflow::OS;
  Act sys_act_ = Act::None;
  uint32_t sys_shift_ = 0;
  uint16_t a_stride_ = 1, c_stride_ = 1;
  bool a_transpose_ = false, b_transpose_ = false;
  // load / store / norm configuration
  LoadConfig load_[kLoadUnits];
  StoreConfig store_;
  Act acc_act_ = Act::None;
  int32_t igelu_qb_ = 0, igelu_qc_ = 0;
  // the pending preload
  LocalOperand preload_bd_{kGarbage, 0, 0}, preload_c_{kGarbage, 0, 0};
  // loops
  LoopWsState ws_;
  LoopConvState conv_;
};

}  // namespace gemmini
