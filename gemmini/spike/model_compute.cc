// PRELOAD and COMPUTE_PRELOADED / COMPUTE_ACCUMULATE on the DIM x DIM mesh.
#include <algorithm>
#include <cstring>
#include <string>

#include "kernels.h"
#include "model.h"
#include "rounding.h"

namespace gemmini {

namespace {
void require_spad(const char* what, const LocalOperand& op) {
  if (!op.garbage() && (op.addr >> 29) != 0)
    throw ModelError(std::string(what) + ": operand " + hex(op.addr) +
                     " must be a scratchpad address (bits 31:29 clear)");
}
}  // namespace

void Model::preload(uint64_t bd, uint64_t c) {
  preload_bd_ = LocalOperand::decode(bd);
  preload_c_ = LocalOperand::decode(c);
  stats_.preload_ops++;
  stats_.timing.preload();
}

// A as the mesh sees it (a_stride between rows, transposed if configured, zero outside the
// rows x cols the operand names) into job.a.
void Model::gather_a(const LocalOperand& a, MeshJob& job) {
  const int rows = std::min<int>(a.rows, DIM), cols = std::min<int>(a.cols, DIM);
  std::memset(job.a, 0, sizeof job.a);
  job.a_rows = job.a_cols = 0;
  if (a.garbage() || rows == 0 || cols == 0) return;
  const uint64_t span = a_transpose_ ? cols : rows;
  check_rows("COMPUTE (A)", false, a.addr, a.addr + uint64_t(a_stride_) * (span - 1));
  job.a_rows = rows;
  job.a_cols = cols;
  for (int i = 0; i < rows; ++i) {
    if (!a_transpose_) {  // rows straight from the scratchpad
      std::memcpy(job.a[i], sp_row(a.addr + a_stride_ * i), cols);
    } else {
      for (int k = 0; k < cols; ++k) job.a[i][k] = sp_row(a.addr + a_stride_ * k)[i];
    }
  }
}

void Model::compute(uint64_t a_raw, uint64_t bd_raw, bool new_weights) {
  const LocalOperand a = LocalOperand::decode(a_raw), bd = LocalOperand::decode(bd_raw);
  require_spad("COMPUTE (A)", a);
  require_spad("COMPUTE (B/D)", bd);
  stats_.compute_ops++;
  const bool ws = mode_ == Dataflow::WS;
  const LocalOperand& pre = preload_bd_;
  const LocalOperand& c = preload_c_;
  sync_mesh(false);  // results in flight to the scratchpad land before we read it
  MeshJob& job = job_;
  job.ws = ws;
  job.new_weights = new_weights;

  if (new_weights) {  // the preloaded matrix: the next weights (WS) or the starting sums (OS)
    require_spad("PRELOAD (B/D)", pre);
    const bool transpose = ws && b_transpose_;
    const int rows = std::min<int>(pre.rows, DIM), cols = std::min<int>(pre.cols, DIM);
    if (!pre.garbage() && rows > 0 && cols > 0)
      check_rows("PRELOAD (B/D)", false, pre.addr, pre.addr + (transpose ? cols : rows) - 1);
    std::memset(job.preload, 0, sizeof job.preload);
    if (!pre.garbage()) {
      for (int i = 0; i < rows; ++i) {
        if (transpose) {
          for (int j = 0; j < cols; ++j) job.preload[i][j] = sp_row(pre.addr + j)[i];
        } else {
          const int8_t* src = sp_row(pre.addr + i);
          for (int j = 0; j < cols; ++j) job.preload[i][j] = src[j];
        }
      }
    }
  }

  gather_a(a, job);
  const int bd_rows = std::min<int>(bd.rows, DIM), bd_cols = std::min<int>(bd.cols, DIM);
  std::memset(job.bd, 0, sizeof job.bd);
  if (!bd.garbage() && bd_rows > 0 && bd_cols > 0) {
    if (ws) {  // D (bias) from the scratchpad seeds the results
      check_rows("COMPUTE (D)", false, bd.addr, bd.addr + bd_rows - 1);
      for (int i = 0; i < bd_rows; ++i)
        for (int j = 0; j < bd_cols; ++j) job.bd[i][j] = sp_row(bd.addr + i)[j];
    } else {  // output-stationary: B streams through, the sums stay in the mesh
      const uint64_t span = b_transpose_ ? bd_cols : bd_rows;
      check_rows("COMPUTE (B)", false, bd.addr, bd.addr + span - 1);
      for (int k = 0; k < bd_rows; ++k)
        for (int j = 0; j < bd_cols; ++j)
          job.bd[k][j] = sp_row(bd.addr + (b_transpose_ ? j : k))[b_transpose_ ? k : j];
    }
  }

  // Where the results go: checked now, so a bad C operand traps at this instruction.
  job.tag = -1;
  job.shift = 0;
  job.sat = false;
  int out_rows = 0;
  if (!c.garbage()) {
    if (c.rows > DIM || c.cols > DIM)
      throw ModelError("PRELOAD (C): " + std::to_string(c.rows) + "x" + std::to_string(c.cols) +
                       " output exceeds DIM x DIM");
    if (c.rows > 0 && c.cols > 0) {
      const uint32_t base = c.addr & 0x1FFFFFFF;
      check_rows("PRELOAD (C)", c.is_acc(), base, base + uint64_t(c_stride_) * (c.rows - 1));
      job.tag = next_tag_;
      next_tag_ = (next_tag_ + 1) % kTargets;
      targets_[job.tag] = {c, c_stride_, sys_act_};
      if (!c.is_acc()) {
        spad_outputs_in_flight_++;
        job.sat = !ws;  // OS to the scratchpad: rounding shift + saturation in the mesh
        job.shift = ws ? 0 : sys_shift_;
      }
      out_rows = c.rows;
    }
  }
  // WS streams one row of A per output row; OS one step per inner index.
  job.rows = ws ? std::max({job.a_rows, out_rows, 1}) : job.a_cols;
  mesh_->submit(job);

  stats_.macs_array += uint64_t(DIM) * DIM * DIM;
  const uint64_t inner = std::min<int>(a.cols, DIM);
  const uint64_t out_cols = ws ? std::min<int>(pre.cols, DIM) : bd_cols;
  stats_.macs_useful += uint64_t(std::min<int>(a.rows, DIM)) * inner * out_cols;
  time_compute(a, bd, new_weights);
}

// The rows this compute reads and writes, for the timing model's dependencies.
void Model::time_compute(const LocalOperand& a, const LocalOperand& bd, bool new_weights) {
  using Rows = Timing::Rows;
  const bool ws = mode_ == Dataflow::WS;
  auto span = [](const LocalOperand& op, int n, uint32_t stride) {
    if (op.garbage() || n <= 0) return Rows{};
    return Rows{op.addr & 0x1FFFFFFF, static_cast<uint32_t>(n), stride, op.is_acc()};
  };
  const LocalOperand& pre = preload_bd_;
  const int a_rows = std::min<int>(a.rows, DIM), a_cols = std::min<int>(a.cols, DIM);
  const Rows weights = span(pre, std::min<int>(ws && b_transpose_ ? pre.cols : pre.rows, DIM), 1);
  const Rows a_rows_read = span(a, a_transpose_ ? a_cols : a_rows, a_stride_);
  const int bd_n = std::min<int>(!ws && b_transpose_ ? bd.cols : bd.rows, DIM);
  const LocalOperand& c = preload_c_;
  const Rows c_rows = span(c, std::min<int>(c.rows, DIM), c_stride_);
  stats_.timing.compute(ws, new_weights, weights, a_rows_read, span(bd, bd_n, 1), c_rows,
                        static_cast<uint64_t>(a_rows));
}

void Model::sync_mesh(bool acc) {
  if (mesh_->busy() && (acc || spad_outputs_in_flight_ > 0)) mesh_->drain();
}

// A finished tile from the mesh to its C address: the accumulator (overwrite or accumulate,
// full 32 bits) or the scratchpad (saturate, activation; in OS the mesh has already applied
// the rounding shift and saturation, so saturating again changes nothing).
void Model::write_output(int tag, const int32_t values[DIM][DIM]) {
  const OutputTarget& t = targets_[tag];
  const LocalOperand& c = t.c;
  const uint32_t base = c.addr & 0x1FFFFFFF;
  if (c.is_acc()) {
    const bool add = c.accumulate();
    for (int i = 0; i < c.rows; ++i) {
      int32_t* row = acc_row(base + t.c_stride * i);
      if (add) {  // unsigned: 32-bit wrap-around
        for (int j = 0; j < c.cols; ++j)
          row[j] = static_cast<int32_t>(static_cast<uint32_t>(row[j]) + values[i][j]);
      } else {
        std::memcpy(row, values[i], sizeof(int32_t) * c.cols);
      }
    }
    return;
  }
  spad_outputs_in_flight_--;
  for (int i = 0; i < c.rows; ++i) {
    int8_t* row = sp_row(base + t.c_stride * i);
    for (int j = 0; j < c.cols; ++j) row[j] = activation(saturate_elem(values[i][j]), t.act);
  }
}

}  // namespace gemmini
