/* CPU reference kernels behind `tiled_*_auto(..., CPU)`: plain C on the core, no Gemmini
 * instruction, the same integers as the accelerator. Included by gemmini.h; not on its own.
 *
 * The arithmetic contract (default configuration, as Gemmini's hardware does it):
 *   mvin scale:  int8 x fp32 -> round half to even -> saturate to int8   (MVIN_SCALE)
 *   mvout scale: int32 -> fp32, x fp32 -> round half to even -> saturate to int8, then ReLU
 *   full_C:      the raw int32 accumulator (no scale, no activation)
 *   accumulation wraps modulo 2^32 like the int32 accumulator. */
#ifndef IVIT_GEMMINI_CPU_H
#define IVIT_GEMMINI_CPU_H

/* Scale an accumulator value down to elem_t and apply the activation (upstream's name). */
static inline elem_t scale_and_sat(acc_t x, int act, acc_scale_t scale, acc_scale_t bert_scale) {
  (void)bert_scale;
  acc_t y = ACC_SCALE(x, scale);
  y = y > elem_t_max ? elem_t_max : (y < elem_t_min ? elem_t_min : y);
  if (act == RELU && y < 0) y = 0;
  return (elem_t)y;
}

static inline acc_t gemmini_cpu_in(elem_t x, scale_t scale) {
#ifdef HAS_MVIN_SCALE
  if (scale != (scale_t)MVIN_SCALE_IDENTITY) return (acc_t)MVIN_SCALE(x, scale);
#else
  (void)scale;
#endif
  return x;
}

/* One matmul problem, as upstream's tiled_matmul arguments describe it (strides in elements). */
struct gemmini_matmul {
  size_t I, J, K;
  const elem_t *A, *B;
  const void *D;  /* NULL: no bias; acc_t (or elem_t when low_D) rows of J */
  void *C;        /* elem_t (or acc_t when full_C) */
  size_t stride_A, stride_B, stride_D, stride_C;
  scale_t A_scale, B_scale;
  scale_acc_t D_scale;
  int act;
  acc_scale_t scale;
  bool repeating_bias, transpose_A, transpose_B, full_C, low_D;
};

static void gemmini_cpu_matmul(const struct gemmini_matmul *m) {
  /* Element (i, k) of A and (k, j) of B, whatever the transposes. */
  const size_t a_i = m->transpose_A ? 1 : m->stride_A, a_k = m->transpose_A ? m->stride_A : 1;
  const size_t b_k = m->transpose_B ? 1 : m->stride_B, b_j = m->transpose_B ? m->stride_B : 1;
  const bool plain = m->A_scale == (scale_t)MVIN_SCALE_IDENTITY &&
                     m->B_scale == (scale_t)MVIN_SCALE_IDENTITY;
  for (size_t i = 0; i < m->I; i++) {
    const size_t bias_row = m->repeating_bias ? 0 : i;
    for (size_t j = 0; j < m->J; j++) {
      uint32_t sum = 0; /* unsigned: wraps like the int32 accumulator, without UB */
      if (m->D != NULL) {
        sum = m->low_D ? (uint32_t)(acc_t)((const elem_t *)m->D)[bias_row * m->stride_D + j]
                       : (uint32_t)((const acc_t *)m->D)[bias_row * m->stride_D + j];
      }
      const elem_t *a = m->A + i * a_i;
      const elem_t *b = m->B + j * b_j;
      if (plain) {
        for (size_t k = 0; k < m->K; k++) sum += (uint32_t)((int32_t)a[k * a_k] * b[k * b_k]);
      } else {
        for (size_t k = 0; k < m->K; k++)
          sum += (uint32_t)(gemmini_cpu_in(a[k * a_k], m->A_scale) *
                            gemmini_cpu_in(b[k * b_k], m->B_scale));
      }
      if (m->full_C)
        ((acc_t *)m->C)[i * m->stride_C + j] = (acc_t)sum;
      else
        ((elem_t *)m->C)[i * m->stride_C + j] = scale_and_sat((acc_t)sum, m->act, m->scale, 0);
    }
  }
}

/* One convolution, as upstream's tiled_conv arguments describe it. Layouts (upstream): input
 * NHWC, weights HWIO ([krow][kcol][ich][och]), output NHWC, bias [och]; rows of each may be
 * padded (in_stride, weight_stride, out_stride elements). */
struct gemmini_conv {
  int batch_size, in_row_dim, in_col_dim, in_channels;
  int out_channels, out_row_dim, out_col_dim;
  int stride, input_dilation, kernel_dilation, padding, kernel_dim;
  int in_stride, weight_stride, out_stride; /* elements between pixels / weight rows */
  bool wrot180, trans_output_1203, trans_input_3120, trans_weight_1203, trans_weight_0132;
  const elem_t *input, *weights;
  const acc_t *bias;
  elem_t *output;
  int act;
  acc_scale_t scale;
  int pool_size, pool_stride, pool_padding; /* pool_stride == 0: no pooling */
};

static inline elem_t gemmini_cpu_conv_input(const struct gemmini_conv *c, int b, int r, int col,
                                            int ch) {
  if (r < 0 || r >= c->in_row_dim || col < 0 || col >= c->in_col_dim) return 0;
  if (c->trans_input_3120) /* CHWN */
    return c->input[((ch * c->in_row_dim + r) * c->in_col_dim + col) * c->batch_size + b];
  return c->input[((b * c->in_row_dim + r) * c->in_col_dim + col) * c->in_stride + ch];
}

static inline elem_t gemmini_cpu_conv_weight(const struct gemmini_conv *c, int kr, int kc, int ich,
                                             int och) {
  const int kd = c->kernel_dim;
  if (c->wrot180) {
    kr = kd - 1 - kr;
    kc = kd - 1 - kc;
  }
  if (c->trans_weight_1203) /* WIHO as upstream names it: [ich][krow][kcol][och] */
    return c->weights[((ich * kd + kr) * kd + kc) * c->out_channels + och];
  if (c->trans_weight_0132) /* HWOI */
    return c->weights[((kr * kd + kc) * c->out_channels + och) * c->in_channels + ich];
  return c->weights[((kr * kd + kc) * c->in_channels + ich) * c->weight_stride + och];
}

/* One output pixel before pooling, scaled to elem_t. */
static elem_t gemmini_cpu_conv_pixel(const struct gemmini_conv *c, int b, int orow, int ocol,
                                     int och) {
  uint32_t sum = c->bias == NULL ? 0 : (uint32_t)c->bias[och];
  for (int kr = 0; kr < c->kernel_dim; kr++) {
    const int r = orow * c->stride + kr * c->kernel_dilation - c->padding;
    if (r % c->input_dilation != 0) continue;
    for (int kc = 0; kc < c->kernel_dim; kc++) {
      const int col = ocol * c->stride + kc * c->kernel_dilation - c->padding;
      if (col % c->input_dilation != 0) continue;
      for (int ich = 0; ich < c->in_channels; ich++) {
        const elem_t x = gemmini_cpu_conv_input(c, b, r / c->input_dilation,
                                                col / c->input_dilation, ich);
        sum += (uint32_t)((int32_t)x * gemmini_cpu_conv_weight(c, kr, kc, ich, och));
      }
    }
  }
  return scale_and_sat((acc_t)sum, c->act, c->scale, 0);
}

static void gemmini_cpu_conv(const struct gemmini_conv *c) {
  const bool pool = c->pool_stride != 0;
  const int psize = pool ? c->pool_size : 1, pstride = pool ? c->pool_stride : 1;
  const int ppad = pool ? c->pool_padding : 0;
  const int prows = (c->out_row_dim + 2 * ppad - psize) / pstride + 1;
  const int pcols = (c->out_col_dim + 2 * ppad - psize) / pstride + 1;
  for (int b = 0; b < c->batch_size; b++)
    for (int pr = 0; pr < prows; pr++)
      for (int pc = 0; pc < pcols; pc++)
        for (int och = 0; och < c->out_channels; och++) {
          int best = INT_MIN;
          for (int wr = 0; wr < psize; wr++)
            for (int wc = 0; wc < psize; wc++) {
              const int orow = pr * pstride + wr - ppad, ocol = pc * pstride + wc - ppad;
              /* A pooling window's padding counts as zero, as on Gemmini. */
              const int v = (orow < 0 || orow >= c->out_row_dim || ocol < 0 ||
                             ocol >= c->out_col_dim)
                                ? 0
                                : gemmini_cpu_conv_pixel(c, b, orow, ocol, och);
              if (v > best) best = v;
            }
          const size_t pixel = c->trans_output_1203
                                   ? ((size_t)pr * pcols + pc) * c->batch_size + b
                                   : ((size_t)b * prows + pr) * pcols + pc;
          c->output[pixel * c->out_stride + och] = (elem_t)best;
        }
}

/* C = sat(ACC_SCALE(MVIN_SCALE(A) + MVIN_SCALE(B), C_scale)), optional ReLU; I x J matrices
 * whose rows are `stride` elements apart (upstream's signature). */
static __attribute__((unused)) void resadd_cpu(const size_t I, const size_t J, const size_t stride,
                                               const scale_t A_scale, const scale_t B_scale,
                                               const acc_scale_t C_scale, const elem_t *A,
                                               const elem_t *B, elem_t *C, bool relu) {
  for (size_t i = 0; i < I; i++)
    for (size_t j = 0; j < J; j++) {
      const size_t at = i * stride + j;
      const acc_t sum = (acc_t)MVIN_SCALE(A[at], A_scale) + (acc_t)MVIN_SCALE(B[at], B_scale);
      C[at] = scale_and_sat(sum, relu ? RELU : NO_ACTIVATION, C_scale, 0);
    }
}

/* The mean of each channel over dim x dim pixels (input NHWC, output [batch][channel]), rounded
 * the way the accumulator's mvout rounds it: sum x fp32(1 / (dim * dim)), half to even.
 * (Upstream's CPU path computes (sum + n/2) / n instead, which disagrees with its own
 * accelerator path on negative sums and on ties; here both paths give the same integers.) */
static __attribute__((unused)) void global_average_cpu(const elem_t *input, elem_t *output,
                                                       int batches, int channels, int dim) {
  const acc_scale_t scale = (acc_scale_t)(1.0 / (dim * dim));
  for (int b = 0; b < batches; b++)
    for (int ch = 0; ch < channels; ch++) {
      uint32_t sum = 0;
      for (int px = 0; px < dim * dim; px++)
        sum += (uint32_t)(acc_t)input[((size_t)b * dim * dim + px) * channels + ch];
      output[(size_t)b * channels + ch] = scale_and_sat((acc_t)sum, NO_ACTIVATION, scale, 0);
    }
}

#endif /* IVIT_GEMMINI_CPU_H */
