// The Gemmini timing model: a deterministic event-time model of the decoupled load / execute /
// store controllers behind the reservation station, the mesh pipeline and the DMA. It is fed by
// the functional model (one call per command, in issue order, including the commands LOOP_WS /
// LOOP_CONV_WS unroll into) and never changes a computed value. Every constant and where it
// comes from: gemmini/spike/README.md and docs/timing-model.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "gemmini_params.h"

namespace gemmini {

enum Unit : int { kLoad = 0, kExec = 1, kStore = 2 };

// Constants in cycles of the accelerator clock. RTL = ucb-bar/gemmini parameter of the default
// configuration; calibrated = fitted once, for all points together, to the published RTL
// measurements listed in docs/timing-model.md.
struct TimingParams {
  uint64_t bus_bytes = 16;           // RTL dma_buswidth 128 bits: one 16-byte beat per cycle
  uint64_t max_bytes = MAX_BYTES;    // RTL dma_maxbytes (64 by default): the largest request
  uint64_t mem_bus_bytes = 8;        // SoC: rocket-chip's memory bus (to DRAM) is 64 bits wide
  uint64_t max_in_flight = 64;       // RTL max_in_flight_mem_reqs (XactTracker entries)
  uint64_t rs_entries[3] = {8, 16, 4};  // RTL reservation_station_entries_ld / _ex / _st
  uint64_t loop_slots = 2;           // RTL LoopMatmul/LoopConv concurrent_loops
  uint64_t mem_latency = 80;         // calibrated: DMA read request to data in the scratchpad
  uint64_t write_latency = 40;       // calibrated: DMA write request to its acknowledgement
  uint64_t acc_read_latency = 4;     // RTL AccumulatorMem read + AccumulatorScale pipeline (approx)
  uint64_t core_cmd_cycles = 12;     // calibrated: the core issuing one RoCC command (with
                                     // the code computing its operands)
  uint64_t call_cycles = 54;         // calibrated: per fence-delimited call (tiling on the core,
                                     // config commands reaching the controllers, fence return)
};

// Totals of the events the counters and the stats JSON report (monotone over the run).
struct TimingEvents {
  uint64_t load_busy = 0, exec_busy = 0, store_busy = 0;  // cycles each controller is busy
  uint64_t mesh_active = 0;          // cycles A rows (WS) or operand rows (OS) flow into the mesh
  uint64_t weight_cycles = 0;        // WS: cycles weights shift into the mesh
  uint64_t rdma_bytes = 0, wdma_bytes = 0, rdma_reqs = 0, wdma_reqs = 0;
  uint64_t loop_active = 0;          // cycles a LOOP_WS / LOOP_CONV_WS is in flight
  uint64_t sp_a_wait = 0, sp_b_wait = 0;  // mesh cycles lost to DMA writes in the same bank
};

class Timing {
 public:
  // Rows of the scratchpad and the accumulator (the accumulator follows the scratchpad).
  Timing(uint32_t sp_rows, uint32_t acc_rows);

  TimingParams p;
  TimingEvents ev;

  // A set of local rows: first, first + stride, ... (count rows), in the scratchpad or the
  // accumulator. count 0 = none.
  struct Rows {
    uint32_t first = 0, count = 0, stride = 1;
    bool acc = false;
  };

  // Override constants from "key=value,key=value" ($GEMMINI_TIMING; for calibration and
  // what-if studies). Returns an error message, empty when every key was known.
  std::string configure(const std::string& spec);

  void core_command();                                // any Gemmini instruction from the core
  void loop_begin(bool toggles_acc, bool remap_acc);  // LOOP_WS / LOOP_CONV_WS starts
  void loop_end();
  void config(Unit unit);
  // A DMA move of `rows` DRAM rows of `row_bytes` each (zeros: no DRAM access) to / from
  // `blocks` blocks of `local_rows` local rows starting `block_stride` rows apart at `base`.
  void mvin(bool acc, uint32_t base, uint64_t local_rows, uint64_t blocks, uint64_t block_stride,
            uint64_t rows, uint64_t row_bytes, bool zeros);
  void mvout(bool acc, uint32_t base, uint64_t local_rows, uint64_t blocks, uint64_t block_stride,
             uint64_t rows, uint64_t row_bytes);
  void preload();
  // One compute: `weights` (WS, new weights) are read by the preload; `a` streams `a_rows` rows.
  void compute(bool ws, bool new_weights, const Rows& weights, const Rows& a, const Rows& b_or_d,
               const Rows& c, uint64_t a_rows);
  void fence();  // the core waits until every command completed

  uint64_t modelled() const;  // closed segments + the open one (as if fenced now)
  // Cycles the modelled core waits for Gemmini: at fences, for a reservation-station entry, for
  // a loop slot (its issue time is modelled as call_cycles + core_cmd_cycles per command).
  uint64_t core_wait() const;
  uint64_t segments() const { return segments_ + (open_ ? 1 : 0); }
  uint64_t in_flight(Unit unit) const;  // reservation-station entries not yet completed

 private:
  // A command of `unit` enters the reservation station: returns when, and its entry's slot.
  uint64_t enter(Unit unit, size_t* slot);
  void retire(Unit unit, size_t slot, uint64_t done);
  static constexpr int kMaxBlocks = 16;
  static int blocks_of(bool acc, uint32_t base, uint64_t rows, uint64_t blocks,
                       uint64_t block_stride, Rows* out);
  uint64_t ready(const Rows& r, bool lds, bool exs, bool reads) const;
  // per local row: completion of the last mvin write, of the last compute write, end of the
  // last read (by a compute or an mvout)
  struct RowTimes {
    uint64_t ld = 0, ex = 0, rd = 0;
  };
  template <typename F>
  void each_row(const Rows& r, F f) const;
  void mark(const Rows& r, uint64_t RowTimes::*field, uint64_t t);
  void busy(int which, uint64_t start, uint64_t end);
  void open_segment();
  size_t bank_of(const Rows& r) const;
  void bank_write(const Rows& r, uint64_t from, uint64_t to);
  uint64_t bank_read(const Rows& r, uint64_t from, uint64_t to);

  uint32_t sp_rows_, acc_rows_;
  std::vector<RowTimes> rows_;  // the scratchpad's rows, then the accumulator's
  static constexpr int kBanks = BANK_NUM;
  struct Window {
    uint64_t from = 0, to = 0;
    uint32_t rows = 0;  // rows written (write windows)
  };
  struct Banks {  // recent windows of one scratchpad bank, rings in time order
    std::vector<Window> writes = std::vector<Window>(16), reads = std::vector<Window>(16);
    size_t wpos = 0, rpos = 0;
  };
  static uint64_t overlap_rows(const std::vector<Window>& ring, uint64_t from, uint64_t to,
                               bool per_row_of_ring);
  Banks banks_[kBanks];
  std::vector<uint64_t> rs_[3];  // completion times of the last entries, a ring per unit
  size_t rs_pos_[3] = {};
  bool open_ = false;
  uint64_t seg_start_ = 0, core_ = 0, end_ = 0, closed_ = 0, segments_ = 0, stall_ = 0;
  // controllers
  uint64_t ld_free_ = 0, st_free_ = 0, a_free_ = 0, w_free_ = 0, a_prev_start_ = 0;
  uint64_t pre_enter_ = 0;
  size_t pre_slot_ = 0;
  bool pre_pending_ = false;
  uint64_t busy_until_[4] = {};  // load, exec, store, loops: for busy-cycle unions
  // loops
  bool in_loop_ = false, loop_toggles_acc_ = false;
  uint64_t loop_start_ = 0, loop_end_max_ = 0, loops_ = 0;
  uint64_t unroll_[3] = {};
  std::vector<uint64_t> loop_done_;
  uint32_t sp_offset_ = 0, acc_offset_ = 0, acc_half_ = 0;
  bool remap_acc_ = false;
};

// Marks the commands issued while it lives as unrolled by a LOOP_WS / LOOP_CONV_WS.
struct LoopTimer {
  LoopTimer(Timing& t, bool toggles_acc, bool remap_acc) : timing(t) {
    timing.loop_begin(toggles_acc, remap_acc);
  }
  ~LoopTimer() { timing.loop_end(); }
  Timing& timing;
};

// Gemmini's performance-counter file (CounterFile.scala): 8 counters, each set to an event;
// COUNTER rs1 bits: [0] reset all, [1] snapshot off, [2] take a snapshot, [3] configure counter
// [6:4] as event [17:12] (external when [31]); every access returns counter [6:4] as it was
// before the access (the snapshot while one is held). Values come from the timing model's event
// totals; codes nothing models read zero (the list: README.md).
class CounterFile {
 public:
  uint64_t access(uint64_t rs1, const Timing& timing);
  // The value of event `code` (external: the snapshot-value codes), or 0 if not modelled.
  static uint64_t event(unsigned code, bool external, const Timing& timing);

 private:
  uint64_t read(unsigned index, const Timing& timing) const;
  unsigned code_[8] = {};
  bool external_[8] = {};
  uint64_t base_[8] = {};      // event total when the counter was configured or reset
  uint64_t ext_base_[8] = {};  // external values at the last global reset, by code
  uint64_t snapshot_[8] = {};
  bool snapshot_on_ = false;
};

}  // namespace gemmini
