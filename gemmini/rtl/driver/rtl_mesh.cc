// The RTL mesh backend: our SystemVerilog mesh (gemmini/rtl/*.sv), Verilated, driven one row
// per clock. Built into the `spike-rtl` extension (IVIT_RTL_MESH) and the RTL testbench.
//
// How computes become rows (the mesh's protocol is described in gemmini_mesh_top.sv):
// - A compute is held back until the next one arrives (one command of look-ahead), so that the
//   next tile's preload (WS: its weights; OS: its D) can stream into the chain buffers during
//   the last DIM cycles of this one's rows, as the hardware overlaps them: back-to-back
//   computes never drain the mesh. The first row of a COMPUTE_PRELOADED flips `prop`.
// - WS: row i of A (and of D as the partial sums to start from) per cycle; result row i leaves
//   the bottom LATENCY cycles later. OS: column k of A and row k of B per cycle; a tile's sums
//   leave through the chain after the next flip, pushed out by the next preload's D rows
//   (bottom row first), rounded-shifted and saturated at the edge when bound for the scratchpad.
// - Results are delivered when they leave the mesh (a ring records, per cycle fed, which tile
//   and row will come out LATENCY cycles later); drain() feeds what is held back plus idle
//   cycles until every result is out. The model drains before anything reads what results write.
// - Statistics: rtl_cycles (every clock), stall_cycles (the idle clocks of drains, which the
//   hardware would overlap with the following computes), mesh utilization, simulation speed.
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "Vgemmini_mesh_top.h"
#include "mesh_backend.h"
#include "verilated.h"

namespace gemmini {

namespace {

#ifndef IVIT_RTL_TILE
#define IVIT_RTL_TILE 1
#endif
constexpr int kLatency = 2 * (DIM / IVIT_RTL_TILE - 1) + 1;  // gemmini_mesh_top.sv
constexpr int kRing = 4 * DIM;  // > kLatency
static_assert(kRing > kLatency, "the expectation ring must cover the mesh latency");

class RtlMesh final : public MeshBackend {
 public:
  explicit RtlMesh(MeshOutput output) : output_(std::move(output)) {
    context_.randReset(0);
    top_ = std::make_unique<Vgemmini_mesh_top>(&context_);
    std::memset(zero_a_, 0, sizeof zero_a_);
    std::memset(zero_w_, 0, sizeof zero_w_);
    std::memset(os_saved_, 0, sizeof os_saved_);
    top_->clk = 0;
    top_->rst = 1;
    for (int i = 0; i < 4; ++i) tick();
    top_->rst = 0;
    cycles_ = 0;
  }
  ~RtlMesh() override { top_->final(); }

  void submit(const MeshJob& job) override {
    const auto start = std::chrono::steady_clock::now();
    if (job.ws != ws_) {  // the model drains on CONFIG_EX; nothing is in flight here
      drain_rows();
      ws_ = job.ws;
      weights_valid_ = false;  // the PEs now hold the other dataflow's values
      os_saved_valid_ = false;
      os_group_ = false;
    }
    if (ws_) submit_ws(job);
    else submit_os(job);
    busy_s_ += seconds_since(start);
  }

  void drain() override {
    const auto start = std::chrono::steady_clock::now();
    drain_rows();
    busy_s_ += seconds_since(start);
  }

  bool busy() const override { return has_pending_ || outstanding_ > 0 || os_group_tag_ >= 0; }

  std::string stats_json(uint64_t macs_useful) const override {
    const double peak = static_cast<double>(cycles_) * DIM * DIM;
    std::string s = "{\"dim\": " + std::to_string(DIM) + ", \"tile\": " +
                    std::to_string(IVIT_RTL_TILE) + ", \"latency\": " + std::to_string(kLatency) +
                    ", \"rtl_cycles\": " + std::to_string(cycles_) +
                    ", \"mac_row_cycles\": " + std::to_string(mac_cycles_) +
                    ", \"preload_row_cycles\": " + std::to_string(d_cycles_) +
                    ", \"drains\": " + std::to_string(drains_) +
                    ", \"stall_cycles\": " + std::to_string(stall_cycles_) +
                    ", \"streaming_cycles\": " + std::to_string(cycles_ - stall_cycles_) +
                    ", \"utilization\": " + std::to_string(peak > 0 ? macs_useful / peak : 0.0) +
                    ", \"sim_s\": " + std::to_string(busy_s_) + ", \"cycles_per_s\": " +
                    std::to_string(busy_s_ > 0 ? cycles_ / busy_s_ : 0.0);
#ifdef IVIT_RTL_BROKEN_SIGN
    s += ", \"broken_sign\": true";
#endif
    return s + "}";
  }

 private:
  enum Kind : uint8_t { kNone = 0, kB = 1, kC = 2 };
  struct Expect {
    Kind kind;
    int8_t slot;
    int16_t row;
  };
  struct Slot {  // a result tile being collected row by row
    int tag = -1;
    int rows_left = 0;
    uint32_t shift = 0;
    bool sat = false;
    int32_t values[DIM][DIM];
  };

  static double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  }

  // One clock: inputs for this cycle, settle, collect the row fed kLatency cycles ago, edge.
  void tick() {
    top_->clk = 0;
    top_->eval();
    top_->clk = 1;
    top_->eval();
  }

  void cycle(const int8_t* a, const int32_t* b, const int32_t* d, bool mac_v, bool d_v,
             uint32_t shift, bool sat, Expect expect) {
    for (int i = 0; i < DIM; ++i) {
      top_->in_a[i] = static_cast<uint8_t>(a[i]);
      top_->in_b[i] = static_cast<uint32_t>(b[i]);
      top_->in_d[i] = static_cast<uint32_t>(d[i]);
    }
    top_->mac_v = mac_v;
    top_->d_v = d_v;
    top_->prop = prop_;
    top_->ws = ws_;
    top_->shift = shift;
    top_->sat = sat;
    ring_[cycles_ % kRing] = expect;
    top_->clk = 0;
    top_->eval();
    if (cycles_ >= static_cast<uint64_t>(kLatency)) collect(ring_[(cycles_ - kLatency) % kRing]);
    top_->clk = 1;
    top_->eval();
    cycles_++;
    mac_cycles_ += mac_v;
    d_cycles_ += d_v;
  }

  void collect(Expect e) {
    if (e.kind == kNone) return;
    // The mesh's own valid bits must agree with what this driver expects to come out.
    if ((e.kind == kB && !top_->out_mac_v) || (e.kind == kC && !top_->out_d_v))
      throw MeshError("RTL mesh: no valid row at the bottom edge where one was expected");
    Slot& s = slots_[e.slot];
    int32_t* dst = s.values[e.row];
    for (int j = 0; j < DIM; ++j)
      dst[j] = static_cast<int32_t>(e.kind == kB ? top_->out_b[j] : top_->out_c[j]);
    outstanding_--;
    if (--s.rows_left == 0) {
      const int tag = s.tag;
      s.tag = -1;
      output_(tag, s.values);
    }
  }

  int alloc_slot(int tag, int rows, uint32_t shift, bool sat) {
    for (int i = 0; i < kSlots; ++i) {
      Slot& s = slots_[i];
      if (s.tag >= 0) continue;
      s.tag = tag;
      s.rows_left = rows;
      s.shift = shift;
      s.sat = sat;
      std::memset(s.values, 0, sizeof s.values);
      outstanding_ += rows;
      return i;
    }
    throw MeshError("RTL mesh: too many result tiles in flight");
  }

  // Feed the held-back compute's rows; with `preload`, the next tile's DIM preload rows go
  // into the chain during the last DIM cycles (padding with idle rows if there are fewer).
  void stream_pending(const int32_t (*preload)[DIM]) {
    const int n = has_pending_ ? pending_.rows : 0;
    const int total = preload != nullptr ? std::max(n, DIM) : n;
    int slot = -1;
    if (has_pending_ && ws_ && pending_.tag >= 0) slot = alloc_slot(pending_.tag, n, 0, false);
    for (int c = 0; c < total; ++c) {
      const bool mac = c < n;
      const int dr = preload != nullptr ? c - (total - DIM) : -1;
      const bool d_v = dr >= 0;
      Expect e{kNone, 0, 0};
      uint32_t shift = 0;
      bool sat = false;
      if (ws_) {
        if (mac && slot >= 0) e = {kB, static_cast<int8_t>(slot), static_cast<int16_t>(c)};
        const int8_t* a = mac ? pending_.a[c] : zero_a_;
        const int32_t* b = mac ? pending_.bd[c] : zero_w_;
        cycle(a, b, d_v ? preload[DIM - 1 - dr] : zero_w_, mac, d_v, 0, false, e);
        continue;
      }
      // OS: step k = c feeds column k of A and row k of B; preload rows push the chain out
      if (d_v && chain_slot_ >= 0) {
        const Slot& s = slots_[chain_slot_];
        e = {kC, static_cast<int8_t>(chain_slot_), static_cast<int16_t>(DIM - 1 - chain_emitted_)};
        shift = s.shift;
        sat = s.sat;
        if (++chain_emitted_ == DIM) chain_slot_ = -1;
      }
      int8_t acol[DIM];
      if (mac)
        for (int i = 0; i < DIM; ++i) acol[i] = pending_.a[i][c];
      cycle(mac ? acol : zero_a_, mac ? pending_.bd[c] : zero_w_,
            d_v ? preload[DIM - 1 - dr] : zero_w_, mac, d_v, shift, sat, e);
    }
    has_pending_ = false;
  }

  void hold(const MeshJob& job) {
    std::memcpy(&pending_, &job, sizeof job);
    has_pending_ = true;
  }

  void submit_ws(const MeshJob& job) {
    if (job.new_weights) {
      stream_pending(job.preload);
      prop_ = !prop_;  // the job's first row swaps the weight buffers
      weights_valid_ = true;
    } else {
      if (!weights_valid_)
        throw MeshError("RTL mesh: COMPUTE_ACCUMULATE in WS needs weights preloaded in WS");
      stream_pending(nullptr);
    }
    hold(job);
  }

  // OS: the running sums of a "group" (a COMPUTE_PRELOADED and the COMPUTE_ACCUMULATEs after
  // it) leave the mesh once, to the C of the group's last compute.
  void submit_os(const MeshJob& job) {
    const bool fresh = job.new_weights || !os_group_;
    if (fresh) {
      if (!job.new_weights && !os_saved_valid_)
        throw MeshError("RTL mesh: COMPUTE_ACCUMULATE in OS after the sums left for the "
                         "scratchpad (rounded) cannot continue them");
      stream_pending(job.new_weights ? job.preload : os_saved_);
      flip_os();
      os_group_ = true;
    } else {
      if (os_group_tag_ >= 0)
        throw MeshError("RTL mesh: an OS tile whose sums already have a C address cannot "
                         "accumulate further (the hardware writes each tile once)");
      stream_pending(nullptr);
    }
    os_group_tag_ = job.tag;
    os_group_shift_ = job.shift;
    os_group_sat_ = job.sat;
    hold(job);
  }

  // Swap the buffers: the group's sums become the chain, to be pushed out by the next DIM
  // preload rows (the previous chain has been pushed out by the DIM rows just fed).
  void flip_os() {
    prop_ = !prop_;
    chain_slot_ = -1;
    chain_emitted_ = 0;
    if (os_group_ && os_group_tag_ >= 0)
      chain_slot_ = alloc_slot(os_group_tag_, DIM, os_group_shift_, os_group_sat_);
    if (os_group_ && os_group_tag_ >= 0) last_drained_raw_ = !os_group_sat_;
    os_group_tag_ = -1;
    os_group_ = false;
  }

  void drain_rows() {
    if (!has_pending_ && outstanding_ == 0 && os_group_tag_ < 0) return;
    drains_++;
    if (ws_) {
      stream_pending(nullptr);
    } else {
      stream_pending(nullptr);
      if (chain_slot_ >= 0) push_chain();
      if (os_group_tag_ >= 0) {  // flip the group into the chain and push it out
        flip_os();
        os_capture_ = true;
        push_chain();
        os_capture_ = false;
        os_saved_valid_ = last_drained_raw_;
      }
    }
    const uint64_t before = cycles_;
    while (outstanding_ > 0) cycle(zero_a_, zero_w_, zero_w_, false, false, 0, false, {kNone, 0, 0});
    stall_cycles_ += cycles_ - before;
  }

  // DIM idle preload rows (zeros) push the chain's tile out of the bottom.
  void push_chain() {
    const int slot = chain_slot_;
    while (chain_slot_ >= 0) {
      const Slot& s = slots_[chain_slot_];
      const Expect e{kC, static_cast<int8_t>(chain_slot_), static_cast<int16_t>(DIM - 1 - chain_emitted_)};
      const uint32_t shift = s.shift;
      const bool sat = s.sat;
      if (++chain_emitted_ == DIM) chain_slot_ = -1;
      cycle(zero_a_, zero_w_, zero_w_, false, true, shift, sat, e);
    }
    if (os_capture_) {  // keep raw sums for a COMPUTE_ACCUMULATE that continues them
      while (outstanding_ > 0) cycle(zero_a_, zero_w_, zero_w_, false, false, 0, false, {kNone, 0, 0});
      std::memcpy(os_saved_, slots_[slot].values, sizeof os_saved_);
    }
  }

  static constexpr int kSlots = 8;
  MeshOutput output_;
  VerilatedContext context_;
  std::unique_ptr<Vgemmini_mesh_top> top_;
  bool ws_ = false, prop_ = false;
  bool weights_valid_ = true;  // reset: the PEs hold zeros, as the functional model's
  bool has_pending_ = false;
  MeshJob pending_;
  Expect ring_[kRing] = {};
  Slot slots_[kSlots];
  int outstanding_ = 0;
  // OS state: the group accumulating in the active buffers and the tile in the chain
  bool os_group_ = false;
  int os_group_tag_ = -1;
  uint32_t os_group_shift_ = 0;
  bool os_group_sat_ = false;
  int chain_slot_ = -1, chain_emitted_ = 0;
  bool os_capture_ = false, last_drained_raw_ = false, os_saved_valid_ = true;
  int32_t os_saved_[DIM][DIM];  // raw sums of the last drained tile (reset: zeros)
  int8_t zero_a_[DIM];
  int32_t zero_w_[DIM];
  uint64_t cycles_ = 0, mac_cycles_ = 0, d_cycles_ = 0, drains_ = 0;
  // Idle cycles clocked only to push results out because the model reads them now (an mvout,
  // a mode change): this bridge runs each command to completion, while the hardware would
  // keep streaming the following computes meanwhile. streaming = all cycles - these.
  uint64_t stall_cycles_ = 0;
  double busy_s_ = 0;
};

}  // namespace

std::unique_ptr<MeshBackend> make_mesh_backend(MeshOutput output) {
  return std::make_unique<RtlMesh>(std::move(output));
}

}  // namespace gemmini
