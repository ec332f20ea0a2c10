// MVIN / MVIN2 / MVIN3 and MVOUT: DMA between guest DRAM and the scratchpad / accumulator.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "model.h"
#include "rounding.h"

namespace gemmini {

void Model::check_rows(const char* what, bool acc, uint64_t first, uint64_t last) const {
  const uint64_t limit = acc ? kAccRows : kSpRows;
  if (last >= limit) {
    throw ModelError(std::string(what) + ": local rows " + std::to_string(first) + ".." +
                     std::to_string(last) + " exceed the " + (acc ? "accumulator" : "scratchpad") +
                     " (" + std::to_string(limit) + " rows)");
  }
}

void Model::mvin(uint64_t dram, uint64_t local, int unit) {
  const LocalOperand op = LocalOperand::decode(local);
  const LoadConfig& lc = load_[unit];
  const bool to_acc = op.is_acc();
  const uint32_t base = op.addr & 0x1FFFFFFF;
  const uint64_t rows = op.rows, cols = op.cols;
  sync_mesh(to_acc);
  stats_.mvin_ops++;
  if (rows == 0 || cols == 0) return;
  const uint64_t pixels = lc.pixels_per_row;
  const uint64_t blocks = (cols + DIM - 1) / DIM;
  if (pixels > 1 && (pixels - 1) * cols + std::min<uint64_t>(cols, DIM) > DIM)
    throw ModelError("MVIN: " + std::to_string(pixels) + " pixels per row of " +
                     std::to_string(cols) + " columns do not fit in one row of DIM");
  check_rows("MVIN", to_acc, base, base + rows - 1 + (blocks - 1) * lc.block_stride);

  const bool wide = to_acc && !lc.shrunk;  // int32 elements from DRAM
  const size_t elem_bytes = wide ? 4 : 1;
  const bool zeros = dram == 0;
  const bool scaled = lc.scale != 1.0f && !zeros && !wide;
  line_.assign(cols * elem_bytes, 0);
  for (uint64_t r = 0; r < rows; ++r) {
    if (!zeros) mem_.read(dram + r * lc.dram_stride, line_.data(), line_.size());
    if (scaled)
      for (uint64_t c = 0; c < cols; ++c)
        line_[c] = static_cast<uint8_t>(mvin_scale(static_cast<int8_t>(line_[c]), lc.scale));
    if (pixels == 1) {
      store_row(r, base, cols, to_acc, wide, op.accumulate(), lc.block_stride);
      continue;
    }
    for (uint64_t c = 0; c < cols; ++c) {  // several pixels per row (first-layer trick)
      int32_t v;
      if (wide) std::memcpy(&v, &line_[c * 4], 4);
      else v = static_cast<int8_t>(line_[c]);
      const uint64_t row = base + r + (c / DIM) * lc.block_stride;
      for (uint64_t p = 0; p < pixels && p <= row; ++p) {
        const uint32_t dst_row = static_cast<uint32_t>(row - p);
        const uint64_t dst_col = c % DIM + p * cols;
        if (to_acc) {
          int32_t& slot = acc_row(dst_row)[dst_col];
          slot = op.accumulate() ? static_cast<int32_t>(static_cast<uint32_t>(slot) + v) : v;
        } else {
          sp_row(dst_row)[dst_col] = static_cast<int8_t>(v);
        }
      }
    }
  }
  stats_.bytes_in += zeros ? 0 : rows * cols * elem_bytes;
  stats_.timing.mvin(to_acc, base, rows, blocks, lc.block_stride, rows, cols * elem_bytes, zeros);
}

// Scatter DRAM row `r` (in line_) over the blocks of DIM columns starting at local row `base`.
void Model::store_row(uint64_t r, uint32_t base, uint64_t cols, bool to_acc, bool wide,
                      bool accumulate, uint32_t block_stride) {
  for (uint64_t c0 = 0; c0 < cols; c0 += DIM) {
    const uint32_t row = static_cast<uint32_t>(base + r + (c0 / DIM) * block_stride);
    const uint64_t n = std::min<uint64_t>(DIM, cols - c0);
    if (!to_acc) {
      std::memcpy(sp_row(row), &line_[c0], n);
      continue;
    }
    int32_t* dst = acc_row(row);
    for (uint64_t j = 0; j < n; ++j) {
      int32_t v;
      if (wide) std::memcpy(&v, &line_[(c0 + j) * 4], 4);
      else v = static_cast<int8_t>(line_[c0 + j]);
      dst[j] = accumulate ? static_cast<int32_t>(static_cast<uint32_t>(dst[j]) + v) : v;
    }
  }
}

void Model::mvout(uint64_t dram, uint64_t local) {
  const LocalOperand op = LocalOperand::decode(local);
  const bool from_acc = op.is_acc();
  const uint32_t norm_cmd = (op.addr >> 26) & 7;
  const uint32_t base = op.addr & 0x3FFFFFF;
  sync_mesh(true);
  stats_.mvout_ops++;
  if (!from_acc && (op.addr >> 26) != 0)  // bits 30:26 (accumulate, full, norm) are acc-only
    throw ModelError("MVOUT: scratchpad address " + hex(op.addr) +
                     " has accumulator-only bits 30:26 set (rows are bits 25:0)");
  if (from_acc && (norm_cmd != 0 || acc_act_ == Act::LayerNorm || acc_act_ == Act::Softmax))
    throw ModelError("MVOUT: the normalization unit (LayerNorm/Softmax statistics) is not modelled");
  if (store_.pool_stride != 0) return mvout_pooled(dram, op, base);
  const uint64_t rows = op.rows, cols = op.cols;
  if (rows == 0 || cols == 0) return;
  const uint64_t blocks = (cols + DIM - 1) / DIM;
  check_rows("MVOUT", from_acc, base, base + (blocks - 1) * DIM + rows - 1);

  const bool full = from_acc && op.full();
  const size_t elem_bytes = full ? 4 : 1;
  const bool igelu_act = acc_act_ == Act::IGelu;
  line_.resize(cols * elem_bytes);
  for (uint64_t r = 0; r < rows; ++r) {
    for (uint64_t c0 = 0; c0 < cols; c0 += DIM) {
      const uint32_t row = static_cast<uint32_t>(base + c0 + r);  // block b at base + b*DIM
      const uint64_t n = std::min<uint64_t>(DIM, cols - c0);
      if (!from_acc) {
        std::memcpy(&line_[c0], sp_row(row), n);
        continue;
      }
      const int32_t* src = acc_row(row);
      for (uint64_t j = 0; j < n; ++j) {
        const int32_t v = igelu_act ? igelu(src[j], igelu_qb_, igelu_qc_) : src[j];
        if (full) std::memcpy(&line_[(c0 + j) * 4], &v, 4);
        else line_[c0 + j] = static_cast<uint8_t>(activation(acc_scale(v, store_.scale), acc_act_));
      }
    }
    mem_.write(dram + r * store_.dram_stride, line_.data(), line_.size());
  }
  stats_.bytes_out += rows * cols * elem_bytes;
  stats_.timing.mvout(from_acc, base, rows, blocks, DIM, rows, cols * elem_bytes);
}

// Max pooling on the way out (config_st pool_stride != 0): `cols` channels from rows laid out
// as orows x ocols pixels starting at `base`.
void Model::mvout_pooled(uint64_t dram, const LocalOperand& op, uint32_t base) {
  const StoreConfig& s = store_;
  const bool from_acc = op.is_acc();
  const uint64_t channels = op.cols;
  if (channels > DIM) throw ModelError("MVOUT (pooling): more than DIM channels in one mvout");
  if (s.orows > 0 && s.ocols > 0)
    check_rows("MVOUT (pooling)", from_acc, base, base + uint64_t(s.orows) * s.ocols - 1);
  std::vector<uint8_t> line(channels);
  for (int porow = 0; porow < s.porows; ++porow) {
    for (int pocol = 0; pocol < s.pocols; ++pocol) {
      for (uint64_t ch = 0; ch < channels; ++ch) {
        int8_t best = static_cast<int8_t>(kElemMin);
        for (int wr = 0; wr < s.pool_size; ++wr) {
          for (int wc = 0; wc < s.pool_size; ++wc) {
            const int orow = porow * s.pool_stride + wr - s.pool_upad;
            const int ocol = pocol * s.pool_stride + wc - s.pool_lpad;
            int8_t e = 0;
            if (orow >= 0 && ocol >= 0 && orow < s.orows && ocol < s.ocols) {
              const uint32_t row = base + orow * s.ocols + ocol;
              e = from_acc ? activation(acc_scale(acc_row(row)[ch], s.scale), acc_act_)
                           : sp_row(row)[ch];
            }
            best = std::max(best, e);
          }
        }
        line[ch] = static_cast<uint8_t>(best);
      }
      const uint64_t at = dram + (uint64_t(porow) * s.pool_out_dim + pocol) * s.dram_stride;
      mem_.write(at, line.data(), line.size());
      stats_.bytes_out += channels;
    }
  }
  stats_.timing.mvout(from_acc, base, uint64_t(s.orows) * s.ocols, 1, DIM,
                      uint64_t(s.porows) * s.pocols, channels);
}

}  // namespace gemmini
