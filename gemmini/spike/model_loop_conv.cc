// LOOP_CONV_WS and its six config commands: the weight-stationary convolution loop that
// tiled_conv_auto issues (encoding of current upstream, with separate row/column dims).
// Replays upstream's mvin (bias, input, weights) / preload / compute / mvout sequence with the
// same local addresses and the same CONFIG side effects, on this model's fast primitives.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "model.h"

namespace gemmini {

namespace {
constexpr uint64_t kScaleOneBits = 0x3F800000;  // 1.0f: MVIN_SCALE_IDENTITY
constexpr uint32_t kAccOverwrite = 1u << 31, kAccAccumulate = 3u << 30;
inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

// A local address from a region's flag bits and a row computed in 64 bits: a row outside the
// memory is an error naming the loop, never a 32-bit wrap into another row or region.
uint32_t conv_local(const char* what, uint32_t flags, int64_t row, bool acc) {
  const int64_t limit = acc ? kAccRows : kSpRows;
  if (row < 0 || row >= limit)
    throw ModelError(std::string("LOOP_CONV_WS: ") + what + " row " + std::to_string(row) +
                     " is outside the " + (acc ? "accumulator" : "scratchpad") + " (" +
                     std::to_string(limit) + " rows)");
  return flags | static_cast<uint32_t>(row);
}
}  // namespace

void Model::loop_conv_config(int which, uint64_t rs1, uint64_t rs2) {
  LoopConvState& c = conv_;
  auto f16 = [](uint64_t v, int at) { return static_cast<uint16_t>(v >> at); };
  auto f8 = [](uint64_t v, int at) { return static_cast<uint16_t>((v >> at) & 0xFF); };
  switch (which) {
    case 1:
      c.batch_size = f16(rs1, 0), c.in_row_dim = f16(rs1, 16);
      c.in_channels = f16(rs1, 32), c.out_channels = f16(rs1, 48);
      c.out_row_dim = f16(rs2, 0), c.pool_out_row_dim = f16(rs2, 16), c.out_col_dim = f16(rs2, 32);
      c.stride = f8(rs2, 48), c.padding = f8(rs2, 56);
      break;
    case 2:
      c.kernel_dim = f16(rs1, 48), c.pool_out_col_dim = f16(rs1, 32), c.pool_size = f16(rs1, 16);
      c.pool_stride = f8(rs1, 8), c.pool_padding = f8(rs1, 0);
      c.batches = f16(rs2, 48), c.porows = f16(rs2, 32), c.pocols = f16(rs2, 16), c.pochs = f16(rs2, 0);
      break;
    case 3:
      c.krows = f16(rs1, 48), c.kcols = f16(rs1, 32), c.kchs = f16(rs1, 16), c.lpad = f16(rs1, 0);
      c.rpad = f16(rs2, 48), c.upad = f16(rs2, 32), c.dpad = f8(rs2, 24), c.plpad = f8(rs2, 16);
      c.in_col_dim = f16(rs2, 0);
      break;
    case 4:
      c.orows = f16(rs1, 48), c.prad = f16(rs1, 32), c.pupad = f8(rs1, 21), c.pdpad = f8(rs1, 10);
      c.kernel_dilation = f8(rs1, 0);
      c.in_stride = f16(rs2, 48), c.weight_stride = f16(rs2, 32), c.out_stride = f16(rs2, 16);
      c.ocols = f16(rs2, 0);
      break;
    case 5: c.weights = rs1, c.output = rs2; break;
    default: c.bias = rs1, c.input = rs2; break;
  }
}

// Everything the four phases of one convolution share, derived once from the config state.
struct ConvGeometry {
  LoopConvState s;
  bool no_bias, wrot180, trans_output_1203, trans_weight_1203, trans_weight_0132;
  bool trans_input_3120, dw, no_pool, downsample, input_dilated, activation;
  int64_t max_pixels_per_row;
  int64_t ochs, irows, icols, irows_unpadded, icols_unpadded;
  int64_t A_start, B_start, D_start, C_start;  // first rows (64-bit: see conv_local)
  int64_t und(int64_t x) const { return (x + input_dilated) >> input_dilated; }  // UNDILATED
  int64_t ds(int64_t x) const { return x >> downsample; }
  int64_t us(int64_t x) const { return x << downsample; }
};

void Model::loop_conv_ws(uint64_t rs1, uint64_t rs2) {
  ConvGeometry g;
  g.s = conv_;
  const LoopConvState& s = g.s;
  g.no_bias = rs1 & 1, g.wrot180 = (rs1 >> 1) & 1, g.trans_output_1203 = (rs1 >> 2) & 1;
  g.trans_weight_1203 = (rs1 >> 3) & 1, g.trans_weight_0132 = (rs1 >> 4) & 1;
  g.trans_input_3120 = (rs1 >> 5) & 1, g.dw = (rs1 >> 6) & 1;
  g.max_pixels_per_row = (rs1 >> 8) & 0xFF ? (rs1 >> 8) & 0xFF : 1;
  g.no_pool = rs2 & 1, g.downsample = (rs2 >> 1) & 1, g.input_dilated = (rs2 >> 2) & 1;
  g.activation = ((rs2 >> 3) & 3) != 0;  // upstream keeps only "any activation" (a bool)
  const unsigned b_spad_id = (rs1 >> 16) & 3, a_spad_id = (rs1 >> 18) & 3;
  if (g.input_dilated && s.stride != 1)
    throw ModelError("LOOP_CONV_WS: a dilated input needs stride 1");

  g.ochs = s.pochs;
  const int64_t dil = s.kernel_dilation;
  const int64_t dkrows = s.krows + (dil - 1) * (s.krows - 1);
  const int64_t dkcols = s.kcols + (dil - 1) * (s.kcols - 1);
  const int64_t irows_nd = int64_t(s.orows) * s.stride + dkrows - 1;
  const int64_t icols_nd = int64_t(s.ocols) * s.stride + dkcols - 1;
  const int64_t irows_unpadded_nd = irows_nd - s.upad - s.dpad;
  const int64_t icols_unpadded_nd = icols_nd - s.lpad - s.rpad;
  g.irows_unpadded = g.input_dilated ? (irows_unpadded_nd + 1) / 2 : irows_unpadded_nd;
  g.icols_unpadded = g.input_dilated ? (icols_unpadded_nd + 1) / 2 : icols_unpadded_nd;
  g.irows = g.input_dilated ? g.irows_unpadded + g.und(s.upad) + g.und(s.dpad) : irows_nd;
  g.icols = g.input_dilated ? g.icols_unpadded + g.und(s.lpad) + g.und(s.rpad) : icols_nd;

  const int64_t och_banks = (g.ochs + DIM - 1) / DIM, ich_banks = (s.kchs + DIM - 1) / DIM;
  const int64_t B_rows = g.trans_weight_0132 ? ich_banks * s.kcols * s.krows * g.ochs
                                             : och_banks * s.kcols * s.krows * s.kchs;
  g.A_start = a_spad_id == 2 ? kSpRows / 2 : 0;
  g.B_start = int64_t{b_spad_id == 2 ? kSpRows : kSpRows / 2} - B_rows;
  g.D_start = conv_.d_row;
  g.C_start = conv_.c_row;
  if (s.bias != 0) conv_.d_row = (conv_.d_row + kAccRows / 2) % kAccRows;
  if (s.output != 0) conv_.c_row = (conv_.c_row + kAccRows / 2) % kAccRows;

  const LoopTimer timer(stats_.timing, false, false);  // acc halves alternate above already
  if (s.bias != 0) conv_mvin_bias(g);
  if (s.input != 0) conv_mvin_input(g);
  if (s.weights != 0) conv_mvin_weights(g);
  conv_compute(g);
  if (s.output != 0) conv_mvout(g);
}

void Model::conv_mvin_bias(const ConvGeometry& g) {
  const LoopConvState& s = g.s;
  const int64_t per_mvin = min64(g.ochs, MAX_BLOCK_LEN_ACC * DIM);
  const uint64_t pixels = uint64_t(s.batches) * s.orows * s.ocols;
  config((kScaleOneBits << 32) | (pixels << 16) | (1 << 8) | (2 << 3) | 1, 0);
  for (int64_t b = 0; b < s.batches; ++b)
    for (int64_t orow = 0; orow < s.orows; ++orow)
      for (int64_t ocol = 0; ocol < s.ocols; ocol += DIM) {
        const int64_t I = min64(DIM, s.ocols - ocol);
        for (int64_t och = 0; och < g.ochs; och += per_mvin) {
          const int64_t J = min64(per_mvin, g.ochs - och);
          const uint32_t D_sp = conv_local(
              "bias", kAccOverwrite,
              g.D_start + (och / DIM) * int64_t(pixels) + b * s.orows * s.ocols + orow * s.ocols +
                  ocol,
              true);
          mvin(g.no_bias ? 0 : s.bias + och * sizeof(int32_t), local_operand(D_sp, J, I), 2);
        }
      }
}

void Model::conv_mvin_input(const ConvGeometry& g) {
  const LoopConvState& s = g.s;
  int64_t per_mvin = min64(s.kchs, MAX_BLOCK_LEN * DIM);
  if (g.trans_input_3120) per_mvin = min64(s.batches, MAX_BLOCK_LEN * DIM);
  const uint64_t dram_stride = g.trans_input_3120 ? s.batch_size : s.in_stride;
  const int64_t plane = g.ds(g.irows) * g.ds(g.icols);
  const int64_t spad_stride = (g.trans_input_3120 ? s.kchs : s.batches) * plane;
  config((kScaleOneBits << 32) | (uint64_t(spad_stride & 0xFFFF) << 16) |
             (uint64_t(g.max_pixels_per_row) << 8) | (0 << 3) | 1,
         g.us(dram_stride));
  const int64_t b_it = g.trans_input_3120 ? per_mvin : 1;
  const int64_t ich_it = g.trans_input_3120 ? 1 : per_mvin;
  const int64_t rows_end = g.irows_unpadded + g.und(s.dpad);
  const int64_t cols_end = g.icols_unpadded + g.und(s.rpad);
  for (int64_t b = 0; b < s.batches; b += b_it) {
    for (int64_t irow = -g.und(s.upad); irow < rows_end; irow += g.us(1)) {
      const int64_t irow_p = irow + g.und(s.upad);
      for (int64_t icol = -g.und(s.lpad); icol < cols_end;) {
        int64_t I = min64(g.us(DIM), g.icols_unpadded - icol);
        if (icol < 0) I = min64(DIM, -icol);
        else if (icol >= g.icols_unpadded) I = min64(DIM, cols_end - icol);
        const int64_t icol_p = icol + g.und(s.lpad);
        const bool zeros = irow < 0 || irow >= g.irows_unpadded || icol < 0 ||
                           icol >= g.icols_unpadded;
        for (int64_t ich = 0; ich < s.kchs; ich += ich_it) {
          const int64_t K = g.trans_input_3120 ? min64(s.batches - b, per_mvin)
                                               : min64(s.kchs - ich, per_mvin);
          const int64_t pos = g.ds(irow_p) * g.ds(g.icols) + g.ds(icol_p);
          int64_t A_row = g.A_start + (ich / DIM) * spad_stride + b * plane + pos;
          uint64_t in = s.input + ((b * s.in_row_dim * s.in_col_dim + irow * s.in_col_dim + icol) *
                                       s.in_stride + ich);
          if (g.trans_input_3120) {
            A_row = g.A_start + (b / DIM) * spad_stride + ich * plane + pos;
            in = s.input + ((ich * s.in_row_dim * s.in_col_dim + irow * s.in_col_dim + icol) *
                                s.batch_size + b);
          }
          mvin(zeros ? 0 : in, local_operand(conv_local("input", 0, A_row, false), K, g.ds(I)), 0);
        }
        icol += I;
      }
    }
  }
}

void Model::conv_mvin_weights(const ConvGeometry& g) {
  const LoopConvState& s = g.s;
  const bool t0132 = g.trans_weight_0132;
  const int64_t per_mvin = min64(t0132 ? s.kchs : g.ochs, MAX_BLOCK_LEN * DIM);
  uint64_t dram_stride = s.weight_stride;
  if (g.dw) dram_stride = 1;
  else if (g.trans_weight_1203) dram_stride = uint64_t(s.kernel_dim) * s.kernel_dim * s.out_channels;
  else if (t0132) dram_stride = s.in_channels;
  const uint64_t block_stride = uint64_t(s.krows) * s.kcols * (t0132 ? g.ochs : s.kchs);
  config((kScaleOneBits << 32) | ((block_stride & 0xFFFF) << 16) | (1 << 8) | (1 << 3) | 1,
         dram_stride);
  const int64_t och_it = t0132 ? DIM : per_mvin, kch_it = t0132 ? per_mvin : DIM;
  const int64_t kk = int64_t(s.krows) * s.kcols;
  for (int64_t och = 0; och < g.ochs; och += och_it)
    for (int64_t krow = 0; krow < s.krows; ++krow)
      for (int64_t kcol = 0; kcol < s.kcols; ++kcol)
        for (int64_t kch = 0; kch < s.kchs; kch += kch_it) {
          int64_t K = min64(s.kchs - kch, DIM), J = min64(g.ochs - och, per_mvin);
          int64_t B_row = g.B_start + (och / DIM) * kk * s.kchs + krow * s.kcols * s.kchs +
                          kcol * s.kchs + kch;
          if (t0132) {
            K = min64(g.ochs - och, DIM), J = min64(s.kchs - kch, per_mvin);
            B_row = g.B_start + (kch / DIM) * kk * g.ochs + krow * s.kcols * g.ochs +
                    kcol * g.ochs + och;
          }
          const int64_t kd = s.kernel_dim;
          uint64_t w = s.weights + (krow * kd * s.in_channels + kcol * s.in_channels + kch) *
                                       s.weight_stride + och;
          if (g.dw) w = s.weights + krow * kd + kcol;
          else if (g.trans_weight_1203)
            w = s.weights + (kch * kd * kd + krow * kd + kcol) * s.out_channels + och;
          else if (t0132)
            w = s.weights + (krow * kd * s.out_channels + kcol * s.out_channels + och) *
                                s.in_channels + kch;
          mvin(w, local_operand(conv_local("weights", 0, B_row, false), J, K), 1);
        }
}

void Model::conv_compute(const ConvGeometry& g) {
  const LoopConvState& s = g.s;
  const int64_t b_it = g.trans_input_3120 ? DIM : 1;
  const int64_t ocol_it = g.trans_input_3120 ? 1 : (int64_t{DIM} << g.input_dilated);
  const int64_t plane = g.ds(g.irows) * g.ds(g.icols);
  if (g.trans_input_3120) {  // set only the A and C strides
    const uint64_t a_stride = uint64_t(g.irows * g.icols) & 0xFFFF;
    const uint64_t c_stride = uint64_t(s.orows) * s.ocols & 0xFFFF;
    config((a_stride << 16) | (1 << 7), c_stride << 48);
  }
  const int64_t pixels_all = int64_t(s.batches) * s.orows * s.ocols;
  const int64_t dil = s.kernel_dilation;
  for (int64_t och = 0; och < g.ochs; och += DIM)
    for (int64_t krow = 0; krow < s.krows; ++krow)
      for (int64_t kcol = 0; kcol < s.kcols; kcol += g.max_pixels_per_row)
        for (int64_t kch = 0; kch < s.kchs; kch += DIM) {
          bool new_weights = true;
          for (int64_t b = 0; b < s.batches; b += b_it)
            for (int64_t orow = 0; orow < s.orows; ++orow) {
              if (g.input_dilated && ((krow * dil + orow - s.upad) % 2 != 0)) continue;
              for (int64_t ocol = 0; ocol < s.ocols;) {
                if (g.input_dilated && ((kcol * dil + ocol - s.lpad) % 2 != 0)) {
                  ++ocol;
                  continue;
                }
                const int64_t irow = g.und(orow * s.stride + krow * dil);
                const int64_t icol = g.und(ocol * s.stride + kcol * dil);
                const uint32_t C_sp = conv_local(
                    "output", kAccAccumulate,
                    g.C_start + (och / DIM) * pixels_all + b * s.orows * s.ocols +
                        orow * s.ocols + ocol,
                    true);
                const int64_t pixels = min64(s.kcols - kcol, g.max_pixels_per_row);
                int64_t I = g.und(min64(int64_t{DIM} << g.input_dilated, s.ocols - ocol));
                const int64_t J = min64(g.ochs - och, DIM);
                const int64_t K = pixels * min64(s.kchs - kch, DIM);
                if (g.trans_input_3120) I = min64(s.batches - b, DIM);
                const int64_t pos = g.ds(irow) * g.ds(g.icols) + g.ds(icol);
                int64_t A_row = g.A_start + (kch / DIM) * s.batches * plane + b * plane + pos;
                if (g.trans_input_3120)
                  A_row = g.A_start + (b / DIM) * s.kchs * plane + kch * plane + pos;
                const int64_t kr = g.wrot180 ? s.krows - krow - 1 : krow;
                const int64_t kc = g.wrot180 ? s.kcols - kcol - 1 : kcol;
                int64_t B_row = g.B_start + (och / DIM) * s.krows * s.kcols * s.kchs +
                                kr * s.kcols * s.kchs + kc * s.kchs + kch;
                if (g.trans_weight_0132)
                  B_row = g.B_start + (kch / DIM) * s.krows * s.kcols * g.ochs +
                          kr * s.kcols * g.ochs + kc * g.ochs + och;
                const uint32_t B_sp = new_weights ? conv_local("weights", 0, B_row, false)
                                                  : kGarbage;
                preload(local_operand(B_sp, J, K), local_operand(C_sp, J, I));
                compute(local_operand(conv_local("input", 0, A_row, false), K, I),
                        local_operand(kGarbage, J, I), new_weights);
                ocol += ocol_it;
                new_weights = false;
              }
            }
        }
}

void Model::conv_mvout(const ConvGeometry& g) {
  const LoopConvState& s = g.s;
  const int64_t pixels_all = int64_t(s.batches) * s.orows * s.ocols;
  if (g.no_pool) {
    for (int64_t b = 0; b < s.batches; ++b)
      for (int64_t orow = 0; orow < s.orows; ++orow)
        for (int64_t ocol = 0; ocol < s.ocols; ocol += DIM) {
          const int64_t I = min64(DIM, s.ocols - ocol);
          for (int64_t och = 0; och < g.ochs; och += DIM) {
            const int64_t J = min64(DIM, g.ochs - och);
            const uint32_t C_sp = conv_local(
                "output", kAccAccumulate,
                g.C_start + (och / DIM) * pixels_all + b * s.orows * s.ocols + orow * s.ocols +
                    ocol,
                true);
            uint64_t out = s.output + ((b * s.out_row_dim * s.out_col_dim + orow * s.out_col_dim +
                                        ocol) * s.out_stride + och);
            if (g.trans_output_1203)
              out = s.output + ((orow * s.out_col_dim * s.batch_size + ocol * s.batch_size + b) *
                                    s.out_channels + och);
            mvout(out, local_operand(C_sp, J, I));
          }
        }
    return;
  }
  uint32_t scale_bits;
  std::memcpy(&scale_bits, &store_.scale, sizeof scale_bits);
  const uint64_t act = g.activation ? 1 : 0;
  const uint64_t st2 = (uint64_t(scale_bits) << 32) | s.out_stride;
  config((uint64_t(s.ocols) << 56) | (uint64_t(s.orows) << 48) | (uint64_t(s.pocols) << 40) |
             (uint64_t(s.porows) << 32) | (uint64_t(s.pool_out_col_dim) << 24) |
             (uint64_t(s.plpad) << 10) | (uint64_t(s.pupad) << 8) | (uint64_t(s.pool_size) << 6) |
             (uint64_t(s.pool_stride) << 4) | (act << 2) | 2,
         st2);
  for (int64_t b = 0; b < s.batches; ++b)
    for (int64_t poch = 0; poch < g.ochs; poch += DIM) {
      const int64_t channels = poch + DIM >= g.ochs ? g.ochs - poch : DIM;
      const uint32_t C_sp = conv_local("output", kAccAccumulate,
                                       g.C_start + (poch / DIM) * pixels_all +
                                           b * s.orows * s.ocols,
                                       true);
      mvout(s.output + (b * s.pool_out_row_dim * s.pool_out_col_dim) * s.out_stride + poch,
            local_operand(C_sp, channels, 0));
    }
  config((act << 2) | 2, st2);
}

}  // namespace gemmini
