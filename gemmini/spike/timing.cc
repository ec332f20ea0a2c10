// The Gemmini timing model (see timing.h and README.md). Times are absolute cycles of one
// modelled timeline; a segment runs from the first Gemmini command after a fence (or the start)
// to the fence that waits for it, and the run's modelled cycles are the sum of the segments.
#include "timing.h"

#include <algorithm>
#include <cstdlib>

namespace gemmini {

namespace {
uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }
}  // namespace

Timing::Timing(uint32_t sp_rows, uint32_t acc_rows)
    : sp_rows_(sp_rows), acc_rows_(acc_rows), rows_(size_t(sp_rows) + acc_rows) {
  for (int u = 0; u < 3; ++u) rs_[u].assign(p.rs_entries[u], 0);
  loop_done_.assign(p.loop_slots, 0);
}

std::string Timing::configure(const std::string& spec) {
  struct Key {
    const char* name;
    uint64_t* value;
  };
  const Key keys[] = {{"bus_bytes", &p.bus_bytes}, {"mem_bus_bytes", &p.mem_bus_bytes},
                      {"max_bytes", &p.max_bytes}, {"max_in_flight", &p.max_in_flight},
                      {"rs_entries_ld", &p.rs_entries[kLoad]},
                      {"rs_entries_ex", &p.rs_entries[kExec]},
                      {"rs_entries_st", &p.rs_entries[kStore]}, {"loop_slots", &p.loop_slots},
                      {"mem_latency", &p.mem_latency}, {"write_latency", &p.write_latency},
                      {"acc_read_latency", &p.acc_read_latency},
                      {"core_cmd_cycles", &p.core_cmd_cycles}, {"call_cycles", &p.call_cycles}};
  size_t at = 0;
  while (at < spec.size()) {
    size_t end = spec.find(',', at);
    if (end == std::string::npos) end = spec.size();
    const std::string item = spec.substr(at, end - at);
    at = end + 1;
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    const std::string name = item.substr(0, eq);
    const Key* key = nullptr;
    for (const Key& k : keys)
      if (name == k.name) key = &k;
    char* tail = nullptr;
    const unsigned long long v =
        eq == std::string::npos ? 0 : std::strtoull(item.c_str() + eq + 1, &tail, 10);
    if (key == nullptr || eq == std::string::npos || *tail != '\0')
      return "GEMMINI_TIMING: '" + item + "' is not key=integer with a known key";
    *key->value = v;
  }
  if (p.bus_bytes == 0 || p.mem_bus_bytes == 0 || p.max_bytes == 0 || p.max_in_flight == 0 ||
      p.loop_slots == 0 || p.rs_entries[0] == 0 || p.rs_entries[1] == 0 || p.rs_entries[2] == 0)
    return "GEMMINI_TIMING: widths, entries and slots must be positive";
  for (int u = 0; u < 3; ++u) rs_[u].assign(p.rs_entries[u], 0), rs_pos_[u] = 0;
  loop_done_.assign(p.loop_slots, 0);
  return "";
}

void Timing::open_segment() {
  if (open_) return;
  open_ = true;
  core_ = seg_start_ + p.call_cycles;
}

void Timing::core_command() {
  open_segment();
  core_ += p.core_cmd_cycles;
}

void Timing::fence() {
  if (!open_) return;
  const uint64_t t = std::max(core_, end_);
  stall_ += t - core_;  // the core waits at the fence
  closed_ += t - seg_start_;
  segments_++;
  open_ = false;
  seg_start_ = t;
}

uint64_t Timing::modelled() const {
  return closed_ + (open_ ? std::max(core_, end_) - seg_start_ : 0);
}

uint64_t Timing::core_wait() const { return stall_ + (open_ && end_ > core_ ? end_ - core_ : 0); }

uint64_t Timing::in_flight(Unit unit) const {
  if (!open_) return 0;
  uint64_t n = 0;
  for (uint64_t done : rs_[unit]) n += done > core_;
  return n;
}

// In order per unit: from the core, a command enters when the core issues it (the core stalls
// while the unit's entries are all taken); from a loop unroller, one per cycle per unit.
uint64_t Timing::enter(Unit unit, size_t* slot) {
  open_segment();
  uint64_t t = in_loop_ ? std::max(unroll_[unit] + 1, loop_start_) : core_;
  *slot = rs_pos_[unit];
  if (++rs_pos_[unit] == rs_[unit].size()) rs_pos_[unit] = 0;
  t = std::max(t, rs_[unit][*slot]);  // the entry `depth` commands back has completed
  if (!in_loop_) stall_ += t - core_;  // the core waits for a free entry
  (in_loop_ ? unroll_[unit] : core_) = t;
  return t;
}

void Timing::retire(Unit unit, size_t slot, uint64_t done) {
  rs_[unit][slot] = done;
  end_ = std::max(end_, done);
  if (in_loop_) loop_end_max_ = std::max(loop_end_max_, done);
}

// Calls f(row index) for every row of `r` (with the loop's buffer offsets); one modulo per
// set, then stepping with a wrap-around subtraction (this runs for every command).
template <typename F>
void Timing::each_row(const Rows& r, F f) const {
  if (r.count == 0) return;
  const uint64_t size = r.acc ? acc_rows_ : sp_rows_;
  const uint64_t base = r.acc ? sp_rows_ : 0;
  uint64_t offset = 0;
  if (in_loop_) offset = r.acc ? (remap_acc_ ? acc_offset_ : 0) : sp_offset_;
  uint64_t row = (uint64_t(r.first) + offset) % size;
  const uint64_t stride = r.stride % size;
  if (stride == 1 && row + r.count <= size) {  // the common case: contiguous, no wrap
    for (size_t k = base + row, end = k + r.count; k < end; ++k) f(k);
    return;
  }
  for (uint32_t i = 0; i < r.count; ++i) {
    f(static_cast<size_t>(base + row));
    row += stride;
    if (row >= size) row -= size;
  }
}

// The row sets of a (block) move; blocks beyond kMaxBlocks are left out (approximate).
int Timing::blocks_of(bool acc, uint32_t base, uint64_t rows, uint64_t blocks,
                      uint64_t block_stride, Rows* out) {
  const uint64_t n = std::min<uint64_t>(blocks, kMaxBlocks);
  for (uint64_t b = 0; b < n; ++b)
    out[b] = Rows{static_cast<uint32_t>(base + b * block_stride),
                  static_cast<uint32_t>(std::min<uint64_t>(rows, 1u << 20)), 1, acc};
  return static_cast<int>(n);
}

uint64_t Timing::ready(const Rows& r, bool lds, bool exs, bool reads) const {
  uint64_t t = 0;
  each_row(r, [&](size_t k) {
    const RowTimes& rt = rows_[k];
    if (lds) t = std::max(t, rt.ld);
    if (exs) t = std::max(t, rt.ex);
    if (reads) t = std::max(t, rt.rd);
  });
  return t;
}

void Timing::mark(const Rows& r, uint64_t RowTimes::*field, uint64_t t) {
  each_row(r, [&](size_t k) { rows_[k].*field = std::max(rows_[k].*field, t); });
}

// The scratchpad is single-ported and a write takes precedence (Scratchpad.scala): a DMA row
// landing in a bank while the mesh reads that bank costs the mesh a cycle. Each bank keeps its
// recent write windows and mesh-read windows; whichever of the two is timed second pays: a
// read window meeting earlier writes is stretched, a write window meeting earlier reads delays
// the mesh's next operation.
size_t Timing::bank_of(const Rows& r) const {
  size_t bank = 0;
  each_row(Rows{r.first, 1, 1, r.acc}, [&](size_t k) { bank = k / BANK_ROWS; });
  return bank % kBanks;
}

uint64_t Timing::overlap_rows(const std::vector<Window>& ring, uint64_t from, uint64_t to,
                              bool per_row_of_ring) {
  uint64_t lost = 0;
  for (const Window& w : ring) {
    const uint64_t lo = std::max(from, w.from), hi = std::min(to, w.to);
    if (hi <= lo) continue;
    // rows written during the overlap (writes spread evenly over their window)
    lost += per_row_of_ring ? uint64_t(w.rows) * (hi - lo) / (w.to - w.from) : hi - lo;
  }
  return lost;
}

void Timing::bank_write(const Rows& r, uint64_t from, uint64_t to) {
  if (r.count == 0 || r.acc) return;
  Banks& b = banks_[bank_of(r)];
  to = std::max(to, from + 1);
  // mesh reads already timed in this window lose one cycle per row written beside them
  const uint64_t lost = overlap_rows(b.reads, from, to, false) * r.count / (to - from);
  a_free_ += lost;
  ev.sp_a_wait += lost;
  b.wpos = (b.wpos + 1) % b.writes.size();
  b.writes[b.wpos] = {from, to, r.count};
}

uint64_t Timing::bank_read(const Rows& r, uint64_t from, uint64_t to) {
  if (r.count == 0 || r.acc || to <= from) return 0;
  Banks& b = banks_[bank_of(r)];
  const uint64_t lost = overlap_rows(b.writes, from, to, true);
  b.rpos = (b.rpos + 1) % b.reads.size();
  b.reads[b.rpos] = {from, to + lost, 0};
  return lost;
}

// Busy cycles as the union of a unit's busy intervals (they arrive in nearly increasing order).
void Timing::busy(int which, uint64_t start, uint64_t end) {
  const uint64_t from = std::max(start, busy_until_[which]);
  if (end > from) {
    const uint64_t n = end - from;
    if (which == kLoad) ev.load_busy += n;
    else if (which == kExec) ev.exec_busy += n;
    else if (which == kStore) ev.store_busy += n;
    else ev.loop_active += n;
  }
  busy_until_[which] = std::max(busy_until_[which], end);
}

void Timing::loop_begin(bool toggles_acc, bool remap_acc) {
  open_segment();
  const size_t slot = loops_ % loop_done_.size();
  const uint64_t accepted = std::max(core_, loop_done_[slot]);  // the loop `loop_slots` back
  stall_ += accepted - core_;                                    // must have finished
  core_ = accepted;
  loop_start_ = core_ + 1;
  loop_end_max_ = loop_start_;
  for (uint64_t& u : unroll_) u = 0;
  in_loop_ = true;
  // Concurrent loops use alternate halves of the scratchpad (LoopMatmul a_addr_start) and,
  // for LOOP_WS, alternate accumulator halves after each loop that stores C.
  sp_offset_ = static_cast<uint32_t>(slot * (sp_rows_ / loop_done_.size()));
  remap_acc_ = remap_acc;
  acc_offset_ = acc_half_ * (acc_rows_ / 2);
  loop_toggles_acc_ = toggles_acc;
}

void Timing::loop_end() {
  const size_t slot = loops_ % loop_done_.size();
  loop_done_[slot] = loop_end_max_;
  busy(3, loop_start_, loop_end_max_);
  if (loop_toggles_acc_) acc_half_ ^= 1;
  in_loop_ = false;
  loops_++;
}

void Timing::config(Unit unit) {
  size_t slot;
  const uint64_t t = enter(unit, &slot);
  uint64_t& free = unit == kLoad ? ld_free_ : unit == kStore ? st_free_ : a_free_;
  const uint64_t start = std::max({t, free, unit == kExec ? w_free_ : 0});
  free = start + 1;
  if (unit == kExec) w_free_ = free, busy(kExec, start, free);  // in order with the mesh
  retire(unit, slot, start + 1);
}

void Timing::mvin(bool acc, uint32_t base, uint64_t local_rows, uint64_t blocks,
                  uint64_t block_stride, uint64_t rows, uint64_t row_bytes, bool zeros) {
  size_t slot;
  const uint64_t t = enter(kLoad, &slot);
  Rows local[kMaxBlocks];
  const int n_local = blocks_of(acc, base, local_rows, blocks, block_stride, local);
  uint64_t dep = 0;  // overwrite only after earlier reads / compute writes of these rows
  for (int i = 0; i < n_local; ++i) dep = std::max(dep, ready(local[i], false, true, true));
  const uint64_t start = std::max({t, ld_free_, dep});
  const uint64_t reqs = zeros ? 0 : ceil_div(row_bytes, p.max_bytes);
  // zeros are written by the scratchpad's zero writer, one DIM row per cycle, no bus traffic
  const uint64_t beats =
      ceil_div(row_bytes, zeros ? p.bus_bytes : std::min(p.bus_bytes, p.mem_bus_bytes));
  uint64_t occ = rows * std::max<uint64_t>({1, reqs, beats});
  if (!zeros) occ = std::max(occ, ceil_div(rows * reqs * p.mem_latency, p.max_in_flight));
  ld_free_ = start + occ;
  const uint64_t done = start + occ + (zeros ? 0 : p.mem_latency);
  for (int i = 0; i < n_local; ++i) mark(local[i], &RowTimes::ld, done);
  if (!acc && !zeros)  // the rows arrive over [start + latency, done): scratchpad bank writes
    for (int i = 0; i < n_local; ++i) bank_write(local[i], start + p.mem_latency, done);
  busy(kLoad, start, start + occ);
  if (!zeros) ev.rdma_bytes += rows * row_bytes, ev.rdma_reqs += rows * reqs;
  retire(kLoad, slot, done);
}

void Timing::mvout(bool from_acc, uint32_t base, uint64_t local_rows, uint64_t blocks,
                   uint64_t block_stride, uint64_t rows, uint64_t row_bytes) {
  size_t slot;
  const uint64_t t = enter(kStore, &slot);
  Rows local[kMaxBlocks];
  const int n_local = blocks_of(from_acc, base, local_rows, blocks, block_stride, local);
  uint64_t dep = 0;  // read only what the loads and computes before it have written
  for (int i = 0; i < n_local; ++i) dep = std::max(dep, ready(local[i], true, true, false));
  const uint64_t start = std::max({t, st_free_, dep});
  const uint64_t reqs = ceil_div(row_bytes, p.max_bytes);
  const uint64_t beats = ceil_div(row_bytes, std::min(p.bus_bytes, p.mem_bus_bytes));
  uint64_t occ = rows * std::max<uint64_t>({1, reqs, beats});
  occ = std::max(occ, ceil_div(rows * reqs * p.write_latency, p.max_in_flight));
  st_free_ = start + occ;
  const uint64_t read_end = start + occ + (from_acc ? p.acc_read_latency : 1);
  for (int i = 0; i < n_local; ++i) mark(local[i], &RowTimes::rd, read_end);
  const uint64_t done = read_end + p.write_latency;
  busy(kStore, start, start + occ);
  ev.wdma_bytes += rows * row_bytes, ev.wdma_reqs += rows * reqs;
  retire(kStore, slot, done);
}

void Timing::preload() {
  if (pre_pending_) retire(kExec, pre_slot_, pre_enter_);  // a preload no compute consumed
  pre_enter_ = enter(kExec, &pre_slot_);
  pre_pending_ = true;
}

// WS: weights shift in (DIM cycles, double-buffered: during the previous compute), then the
// `a_rows` rows of A stream through, results leave 2*DIM-2 cycles after the last row (input skew
// + output de-skew), which gives M + (Q-1)*max(M, DIM) + 3*DIM - 2 for Q weight tiles of M rows.
// OS: a COMPUTE_PRELOADED starts a new output tile: its preload shifts the previous tile out
// (DIM cycles); every compute streams DIM rows of A and B.
void Timing::compute(bool ws, bool new_weights, const Rows& weights, const Rows& a,
                     const Rows& b_or_d, const Rows& c, uint64_t a_rows) {
  size_t slot;
  const uint64_t t = enter(kExec, &slot);
  const uint64_t pre_t = pre_pending_ ? pre_enter_ : t;
  uint64_t gate = 0;  // when the mesh may take this compute's first row
  if (ws && new_weights) {
    const uint64_t w_start =
        std::max({pre_t, w_free_, a_prev_start_, ready(weights, true, true, false)});
    w_free_ = w_start + DIM;
    const uint64_t b_wait = bank_read(weights, w_start, w_free_);
    ev.sp_b_wait += b_wait;
    w_free_ += b_wait;
    mark(weights, &RowTimes::rd, w_free_);
    busy(kExec, w_start, w_free_);
    ev.weight_cycles += DIM;
    gate = w_free_;
  } else if (!ws && new_weights) {  // OS: a new output tile; the old one shifts out
    const uint64_t p_start = std::max(pre_t, a_free_);
    a_free_ = p_start + DIM;
    busy(kExec, p_start, a_free_);
    gate = a_free_;
  }
  const uint64_t dep = std::max({ready(a, true, true, false), ready(b_or_d, true, true, false),
                                 ready(c, true, false, true)});
  const uint64_t rows = ws ? std::max<uint64_t>(a_rows, 1) : DIM;
  const uint64_t a_start = std::max({t, a_free_, gate, dep});
  const uint64_t a_wait = bank_read(a, a_start, a_start + rows);
  ev.sp_a_wait += a_wait;
  const uint64_t a_end = a_start + rows + a_wait;
  a_free_ = a_end;
  a_prev_start_ = a_start;
  const uint64_t done = a_end + 2 * DIM - 2;
  mark(a, &RowTimes::rd, a_end);
  mark(b_or_d, &RowTimes::rd, a_end);
  mark(c, &RowTimes::ex, done);
  busy(kExec, a_start, a_end);
  ev.mesh_active += rows;
  if (pre_pending_) retire(kExec, pre_slot_, a_start);
  pre_pending_ = false;
  retire(kExec, slot, done);
}

// Event codes of gemmini_counter.h (upstream's numbering).
uint64_t CounterFile::event(unsigned code, bool external, const Timing& t) {
  const TimingEvents& e = t.ev;
  if (external) {
    switch (code) {
      case 1: return t.in_flight(kLoad);   // RESERVATION_STATION_LD_COUNT
      case 2: return t.in_flight(kStore);  // RESERVATION_STATION_ST_COUNT
      case 3: return t.in_flight(kExec);   // RESERVATION_STATION_EX_COUNT
      case 4: return e.rdma_bytes;         // RDMA_BYTES_REC
      case 5: return e.wdma_bytes;         // WDMA_BYTES_SENT
      default: return 0;
    }
  }
  switch (code) {
    case 9: return e.load_busy;     // LOAD_ACTIVE_CYCLE
    case 12: return e.store_busy;   // STORE_ACTIVE_CYCLE
    case 24: return e.exec_busy;    // EXE_ACTIVE_CYCLE
    case 29: return e.sp_a_wait;    // SCRATCHPAD_A_WAIT_CYCLE
    case 30: return e.sp_b_wait;    // SCRATCHPAD_B_WAIT_CYCLE
    case 43: return e.loop_active;  // LOOP_MATMUL_ACTIVE_CYCLES
    case 45: return e.rdma_reqs;    // RDMA_READ_REQUESTS
    case 46: return e.wdma_reqs;    // WDMA_WRITE_REQUESTS
    default: return 0;
  }
}

uint64_t CounterFile::read(unsigned i, const Timing& t) const {
  if (snapshot_on_) return snapshot_[i];
  // Incremental counters count from their configuration; external values are read as they are
  // (reset only by a global reset, which is what base_ holds for them).
  const uint64_t now = event(code_[i], external_[i], t);
  if (external_[i] && code_[i] <= 3) return now;  // occupancy, not a total
  const uint64_t base = external_[i] ? ext_base_[code_[i] & 7] : base_[i];
  return (now - base) & 0xFFFFFFFFu;  // counterWidth 32
}

uint64_t CounterFile::access(uint64_t rs1, const Timing& t) {
  const unsigned index = (rs1 >> 4) & 7;
  const uint64_t value = read(index, t);
  if (rs1 & 1) {  // reset every counter (and the external values)
    for (unsigned i = 0; i < 8; ++i) {
      base_[i] = event(code_[i], false, t);
      ext_base_[i] = event(i, true, t);
      snapshot_[i] = 0;
    }
    snapshot_on_ = false;
  }
  if ((rs1 >> 1) & 1) snapshot_on_ = false;
  else if ((rs1 >> 2) & 1) {
    for (unsigned i = 0; i < 8; ++i) {
      snapshot_on_ = false;
      snapshot_[i] = read(i, t);
    }
    snapshot_on_ = true;
  }
  if ((rs1 >> 3) & 1) {
    code_[index] = (rs1 >> 12) & 0x3F;
    external_[index] = (rs1 >> 31) & 1;
    base_[index] = event(code_[index], false, t);  // configuring clears an incremental one
  }
  return value;
}

}  // namespace gemmini
