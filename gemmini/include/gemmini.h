/* gemmini.h: the software interface of the Gemmini accelerator, default configuration.
 *
 * Source-compatible with upstream gemmini-rocc-tests `include/gemmini.h` for what bare-metal
 * programs and compiled models use: the instruction macro ladder (each rung fills defaults),
 * the counters, and the high-level kernels with upstream's signatures (`tiled_matmul_auto`,
 * `tiled_matmul`, `tiled_matmul_nn_auto`, `tiled_conv_auto`, `tiled_conv`,
 * `tiled_conv_stride_auto`, `tiled_conv_dw_auto`, `tiled_conv_dw`, `tiled_conv_downsample`,
 * `tiled_resadd_auto`, `tiled_resadd_stride_auto`, `tiled_global_average_auto`,
 * `tiled_global_average`). Inside, kernels take
 * a struct; a tiler picks tiles that fit half the scratchpad / accumulator (the other half is
 * the hardware's double buffer) and issues one LOOP_WS or LOOP_CONV_WS per tile (WS), or
 * explicit mvin / preload / compute / mvout per tile (OS matmuls), the same instruction stream
 * upstream's tiler produces. `CPU` runs the same kernel in plain C on the core (gemmini_cpu.h),
 * with no Gemmini instruction: an independent second answer.
 *
 * Not supported (fails with a one-line message, as upstream does for its own gaps): the BERT
 * activations (LAYERNORM, IGELU, SOFTMAX), OS convs. What else of upstream's headers is left
 * out, and why: README in this folder.
 *
 * Include path: gemmini/include (this folder) and gemmini/isa (the generated command codes).
 * Upstream programs that write `#include "include/gemmini.h"` also need -I gemmini.
 */
#ifndef SRC_MAIN_C_GEMMINI_H
#define SRC_MAIN_C_GEMMINI_H

#undef abs

#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Angle brackets: searched only on the -I path, never next to this file first, so a
 * generated params header (another DIM, listed before gemmini/include) wins. */
#include <gemmini_params.h>
#include "gemmini_commands.h"
#include "gemmini_counter.h"
#include "gemmini_rocc.h"

#define GEMMINI_ASSERTIONS

/* Header-only like upstream: every function is static; unused ones must not warn. */
#define GEMMINI_API static __attribute__((unused))

#define GARBAGE_ADDR ((uint32_t)(-1))
#define OUTPUT_STATIONARY 0
#define WEIGHT_STATIONARY 1

/* Activations (upstream's codes; LAYERNORM/IGELU/SOFTMAX are not supported by this header). */
#define NO_ACTIVATION 0
#define RELU 1
#define LAYERNORM 2
#define IGELU 3
#define SOFTMAX 4

/* ---- fp32 scale <-> its bits (scales travel inside the 64-bit operands) ---------------- */

static inline scale_t_bits scale_t_to_scale_t_bits(scale_t x) {
  union { scale_t f; scale_t_bits b; } u = {.f = x};
  return u.b;
}
static inline scale_t scale_t_bits_to_scale_t(scale_t_bits x) {
  union { scale_t_bits b; scale_t f; } u = {.b = x};
  return u.f;
}
static inline acc_scale_t_bits acc_scale_t_to_acc_scale_t_bits(acc_scale_t x) {
  union { acc_scale_t f; acc_scale_t_bits b; } u = {.f = x};
  return u.b;
}
static inline acc_scale_t acc_scale_t_bits_to_acc_scale_t(acc_scale_t_bits x) {
  union { acc_scale_t_bits b; acc_scale_t f; } u = {.b = x};
  return u.f;
}

/* ---- instruction macros ------------------------------------------------------------------ */

/* A local (scratchpad/accumulator) operand: [63:48] rows, [47:32] cols, [31:0] address. */
#define GEMMINI_LOCAL_OPERAND(addr, cols, rows)                                               \
  (((uint64_t)(rows) << (ADDR_LEN + 16)) | ((uint64_t)(cols) << ADDR_LEN) |                   \
   (uint64_t)(uint32_t)(addr))

/* mvin / mvout: rs1 = DRAM address, rs2 = local operand. */
#define gemmini_extended_mvin(dram_addr, spad_addr, cols, rows)                               \
  ROCC_INSTRUCTION_RS1_RS2(XCUSTOM_ACC, dram_addr,                                            \
                           GEMMINI_LOCAL_OPERAND(spad_addr, cols, rows), k_MVIN)
#define gemmini_extended_mvin2(dram_addr, spad_addr, cols, rows)                              \
  ROCC_INSTRUCTION_RS1_RS2(XCUSTOM_ACC, dram_addr,                                            \
                           GEMMINI_LOCAL_OPERAND(spad_addr, cols, rows), k_MVIN2)
#define gemmini_extended_mvin3(dram_addr, spad_addr, cols, rows)                              \
  ROCC_INSTRUCTION_RS1_RS2(XCUSTOM_ACC, dram_addr,                                            \
                           GEMMINI_LOCAL_OPERAND(spad_addr, cols, rows), k_MVIN3)
#define gemmini_block_mvin(dram_addr, spad_addr, len)                                         \
  gemmini_extended_mvin(dram_addr, spad_addr, (len) * DIM, DIM)
#define gemmini_mvin(dram_addr, spad_addr) gemmini_extended_mvin(dram_addr, spad_addr, DIM, DIM)

#define gemmini_extended_mvout(dram_addr, spad_addr, cols, rows)                              \
  ROCC_INSTRUCTION_RS1_RS2(XCUSTOM_ACC, dram_addr,                                            \
                           GEMMINI_LOCAL_OPERAND(spad_addr, cols, rows), k_MVOUT)
#define gemmini_mvout(dram_addr, spad_addr) gemmini_extended_mvout(dram_addr, spad_addr, DIM, DIM)

/* compute: rs1 = A operand, rs2 = B (OS) or D (WS) operand. */
#define gemmini_extended_compute_preloaded(A, BD, A_cols, A_rows, BD_cols, BD_rows)           \
  ROCC_INSTRUCTION_RS1_RS2(XCUSTOM_ACC, GEMMINI_LOCAL_OPERAND(A, A_cols, A_rows),             \
                           GEMMINI_LOCAL_OPERAND(BD, BD_cols, BD_rows), k_COMPUTE_PRELOADED)
#define gemmini_extended_compute_accumulated(A, BD, A_cols, A_rows, BD_cols, BD_rows)         \
  ROCC_INSTRUCTION_RS1_RS2(XCUSTOM_ACC, GEMMINI_LOCAL_OPERAND(A, A_cols, A_rows),             \
                           GEMMINI_LOCAL_OPERAND(BD, BD_cols, BD_rows), k_COMPUTE_ACCUMULATE)
#define gemmini_compute_preloaded(A, BD)                                                      \
  gemmini_extended_compute_preloaded(A, BD, DIM, DIM, DIM, DIM)
#define gemmini_compute_accumulated(A, BD)                                                    \
  gemmini_extended_compute_accumulated(A, BD, DIM, DIM, DIM, DIM)

/* preload: rs1 = B (WS) or D (OS) operand, rs2 = C (output) operand. */
#define gemmini_extended_preload(BD, C, BD_cols, BD_rows, C_cols, C_rows)                     \
  ROCC_INSTRUCTION_RS1_RS2(XCUSTOM_ACC, GEMMINI_LOCAL_OPERAND(BD, BD_cols, BD_rows),          \
                           GEMMINI_LOCAL_OPERAND(C, C_cols, C_rows), k_PRELOAD)
#define gemmini_preload(BD, C) gemmini_extended_preload(BD, C, DIM, DIM, DIM, DIM)
#define gemmini_preload_zeros(C) gemmini_preload(GARBAGE_ADDR, C)

/* CONFIG_EX: rs1 = fp32 scale | A stride | transposes | set_only_strides | act | dataflow,
 * rs2 = C stride | shift. */
#define gemmini_extended3_config_ex(dataflow, sys_act, sys_shift, sys_acc_scale, C_stride,    \
                                    A_stride, A_transpose, B_transpose, set_only_strides)     \
  ROCC_INSTRUCTION_RS1_RS2(                                                                   \
      XCUSTOM_ACC,                                                                            \
      ((uint64_t)acc_scale_t_to_acc_scale_t_bits((acc_scale_t)(sys_acc_scale)) << 32) |       \
          ((uint64_t)(A_stride) << 16) | ((uint64_t)(B_transpose) << 9) |                     \
          ((uint64_t)(A_transpose) << 8) | ((uint64_t)(set_only_strides) << 7) |              \
          ((uint64_t)(sys_act) << 3) | ((uint64_t)(dataflow) << 2) | CONFIG_EX,               \
      ((uint64_t)(C_stride) << 48) | (uint64_t)(uint32_t)(sys_shift), k_CONFIG)
#define gemmini_extended2_config_ex(dataflow, sys_act, sys_shift, A_stride, A_transpose,      \
                                    B_transpose)                                              \
  gemmini_extended3_config_ex(dataflow, sys_act, sys_shift, ACC_SCALE_IDENTITY, 1, A_stride,  \
                              A_transpose, B_transpose, false)
#define gemmini_extended_config_ex(dataflow, sys_act, sys_shift, A_stride, A_transpose,       \
                                   B_transpose)                                               \
  gemmini_extended2_config_ex(dataflow, sys_act, sys_shift, A_stride, A_transpose, B_transpose)
#define gemmini_config_ex(dataflow, sys_act, sys_shift)                                       \
  gemmini_extended_config_ex(dataflow, sys_act, sys_shift, 1, 0, 0)

/* CONFIG_LD: rs1 = fp32 mvin scale | spad block stride | pixel repeats | unit id | shrunk,
 * rs2 = DRAM stride in bytes. `id` selects MVIN (0), MVIN2 (1) or MVIN3 (2). */
#define gemmini_extended5_config_ld(stride, scale, shrunk, block_mvin_stride, pixel_repeats, \
                                    id)                                                       \
  ROCC_INSTRUCTION_RS1_RS2(                                                                   \
      XCUSTOM_ACC,                                                                            \
      ((uint64_t)scale_t_to_scale_t_bits((scale_t)(scale)) << 32) |                           \
          ((uint64_t)(block_mvin_stride) << 16) | ((uint64_t)(pixel_repeats) << 8) |          \
          ((uint64_t)(id) << 3) | ((uint64_t)(shrunk) << 2) | CONFIG_LD,                      \
      stride, k_CONFIG)
#define gemmini_extended4_config_ld(stride, scale, shrunk, block_mvin_stride, id)             \
  gemmini_extended5_config_ld(stride, scale, shrunk, block_mvin_stride, 1, id)
#define gemmini_extended3_config_ld(stride, scale, shrunk, id)                                \
  gemmini_extended4_config_ld(stride, scale, shrunk, DIM, id)
#define gemmini_extended2_config_ld(stride, scale, shrunk)                                    \
  gemmini_extended3_config_ld(stride, scale, shrunk, 0)
#define gemmini_extended_config_ld(stride, scale) gemmini_extended2_config_ld(stride, scale, false)
#define gemmini_config_ld(stride) gemmini_extended_config_ld(stride, MVIN_SCALE_IDENTITY)

/* CONFIG_ST: rs1 = pooling geometry | act | CONFIG_ST, rs2 = fp32 acc scale | DRAM stride. */
#define gemmini_extended2_config_st(stride, acc_act, acc_scale, pool_stride, pool_size,       \
                                    pool_out_dim, porows, pocols, orows, ocols, upad, lpad)   \
  ROCC_INSTRUCTION_RS1_RS2(                                                                   \
      XCUSTOM_ACC,                                                                            \
      ((uint64_t)(ocols) << 56) | ((uint64_t)(orows) << 48) | ((uint64_t)(pocols) << 40) |    \
          ((uint64_t)(porows) << 32) | ((uint64_t)(pool_out_dim) << 24) |                     \
          ((uint64_t)(lpad) << 10) | ((uint64_t)(upad) << 8) | ((uint64_t)(pool_size) << 6) | \
          ((uint64_t)(pool_stride) << 4) | ((uint64_t)(acc_act) << 2) | CONFIG_ST,            \
      ((uint64_t)acc_scale_t_to_acc_scale_t_bits((acc_scale_t)(acc_scale)) << 32) |           \
          (uint64_t)(uint32_t)(stride),                                                       \
      k_CONFIG)
#define gemmini_extended_config_st(stride, acc_act, acc_scale)                                \
  gemmini_extended2_config_st(stride, acc_act, acc_scale, 0, 0, 0, 0, 0, 0, 0, 0, 0)
#define gemmini_config_st(stride)                                                             \
  gemmini_extended_config_st(stride, NO_ACTIVATION, ACC_SCALE_IDENTITY)

/* CONFIG_BERT (norm unit): encoded as upstream; our model does not implement normalizations. */
#define gemmini_config_norm(q_const, q_const_type, set_stats_id_only, act_msb, stat_id,       \
                            igelu_qb, igelu_qc)                                               \
  ROCC_INSTRUCTION_RS1_RS2(                                                                   \
      XCUSTOM_ACC,                                                                            \
      (((uint64_t)((uint32_t)(q_const))) << 32) | (((uint64_t)(q_const_type) & 1) << 18) |    \
          (((uint64_t)(set_stats_id_only) & 1) << 17) | (((uint64_t)(act_msb) & 1) << 16) |   \
          ((uint64_t)(stat_id) << 8) | CONFIG_BERT,                                           \
      ((uint64_t)((uint32_t)(igelu_qc)) << 32) | ((uint64_t)((uint32_t)(igelu_qb))), k_CONFIG)

#define gemmini_flush(skip) ROCC_INSTRUCTION_RS1_RS2(XCUSTOM_ACC, skip, 0, k_FLUSH)

/* RoCC instructions are ordered with the core's memory accesses by a fence. */
#define gemmini_fence() asm volatile("fence" ::: "memory")

/* LOOP_WS: a whole weight-stationary matmul of I x J x K blocks of DIM (strides in elements). */
#define gemmini_loop_ws(I, J, K, pad_I, pad_J, pad_K, A, B, D, C, A_stride, B_stride,         \
                        D_stride, C_stride, A_transpose, B_transpose, full_C, low_D,          \
                        ex_accumulate, act)                                                   \
  {                                                                                           \
    ROCC_INSTRUCTION_RS1_RS2(                                                                 \
        XCUSTOM_ACC,                                                                          \
        ((uint64_t)(pad_K) << 32) | ((uint64_t)(pad_J) << 16) | (uint64_t)(pad_I),            \
        ((uint64_t)(K) << 32) | ((uint64_t)(J) << 16) | (uint64_t)(I),                        \
        k_LOOP_WS_CONFIG_BOUNDS)                                                              \
    ROCC_INSTRUCTION_RS1_RS2(XCUSTOM_ACC, A, B, k_LOOP_WS_CONFIG_ADDRS_AB)                    \
    ROCC_INSTRUCTION_RS1_RS2(XCUSTOM_ACC, D, C, k_LOOP_WS_CONFIG_ADDRS_DC)                    \
    ROCC_INSTRUCTION_RS1_RS2(XCUSTOM_ACC, A_stride, B_stride, k_LOOP_WS_CONFIG_STRIDES_AB)    \
    ROCC_INSTRUCTION_RS1_RS2(XCUSTOM_ACC, D_stride, C_stride, k_LOOP_WS_CONFIG_STRIDES_DC)    \
    ROCC_INSTRUCTION_RS1_RS2(XCUSTOM_ACC,                                                     \
                             ((uint64_t)(act) << 8) | ((uint64_t)(low_D) << 2) |              \
                                 ((uint64_t)(full_C) << 1) | (uint64_t)(ex_accumulate),       \
                             ((uint64_t)(B_transpose) << 1) | (uint64_t)(A_transpose),        \
                             k_LOOP_WS)                                                       \
  }

/* LOOP_CONV_WS: one tile of a convolution (current upstream's encoding: separate row/column
 * dims, 8-bit stride/padding/pool fields, pixel strides in elements, scratchpad ids). */
#define gemmini_loop_conv_ws(batch_size, in_row_dim, in_col_dim, in_channels, out_channels,   \
                             out_row_dim, out_col_dim, pool_out_row_dim, pool_out_col_dim,    \
                             stride, padding, kernel_dim, kernel_dilation, pool_size,         \
                             pool_stride, pool_padding, batches, porows, pocols, pochs,       \
                             krows, kcols, kchs, lpad, rpad, upad, dpad, plpad, prpad, pupad, \
                             pdpad, orows, ocols, weights, output, bias, input, no_bias,      \
                             no_pool, downsample, wrot180, input_dilated, activation,         \
                             trans_output_1203, trans_weight_1203, trans_weight_0132,         \
                             trans_input_3120, max_pixels_per_row, in_stride, weight_stride,  \
                             out_stride, dw, a_spad_id, b_spad_id)                            \
  {                                                                                           \
    ROCC_INSTRUCTION_RS1_RS2(                                                                 \
        XCUSTOM_ACC,                                                                          \
        ((uint64_t)(out_channels) << 48) | ((uint64_t)(in_channels) << 32) |                  \
            ((uint64_t)(in_row_dim) << 16) | (uint64_t)(batch_size),                          \
        ((uint64_t)(padding) << 56) | ((uint64_t)(stride) << 48) |                            \
            ((uint64_t)(out_col_dim) << 32) | ((uint64_t)(pool_out_row_dim) << 16) |          \
            (uint64_t)(out_row_dim),                                                          \
        k_LOOP_CONV_WS_CONFIG_1)                                                              \
    ROCC_INSTRUCTION_RS1_RS2(                                                                 \
        XCUSTOM_ACC,                                                                          \
        ((uint64_t)(kernel_dim) << 48) | ((uint64_t)(pool_out_col_dim) << 32) |               \
            ((uint64_t)(pool_size) << 16) | ((uint64_t)(pool_stride) << 8) |                  \
            (uint64_t)(pool_padding),                                                         \
        ((uint64_t)(batches) << 48) | ((uint64_t)(porows) << 32) |                            \
            ((uint64_t)(pocols) << 16) | (uint64_t)(pochs),                                   \
        k_LOOP_CONV_WS_CONFIG_2)                                                              \
    ROCC_INSTRUCTION_RS1_RS2(                                                                 \
        XCUSTOM_ACC,                                                                          \
        ((uint64_t)(krows) << 48) | ((uint64_t)(kcols) << 32) | ((uint64_t)(kchs) << 16) |    \
            (uint64_t)(lpad),                                                                 \
        ((uint64_t)(rpad) << 48) | ((uint64_t)(upad) << 32) | ((uint64_t)(dpad) << 24) |      \
            ((uint64_t)(plpad) << 16) | (uint64_t)(in_col_dim),                               \
        k_LOOP_CONV_WS_CONFIG_3)                                                              \
    ROCC_INSTRUCTION_RS1_RS2(                                                                 \
        XCUSTOM_ACC,                                                                          \
        ((uint64_t)(orows) << 48) | ((uint64_t)(prpad) << 32) | ((uint64_t)(pupad) << 21) |   \
            ((uint64_t)(pdpad) << 10) | (uint64_t)(kernel_dilation),                          \
        ((uint64_t)(in_stride) << 48) | ((uint64_t)(weight_stride) << 32) |                   \
            ((uint64_t)(out_stride) << 16) | (uint64_t)(ocols),                               \
        k_LOOP_CONV_WS_CONFIG_4)                                                              \
    ROCC_INSTRUCTION_RS1_RS2(XCUSTOM_ACC, weights, output, k_LOOP_CONV_WS_CONFIG_5)           \
    ROCC_INSTRUCTION_RS1_RS2(XCUSTOM_ACC, bias, input, k_LOOP_CONV_WS_CONFIG_6)               \
    ROCC_INSTRUCTION_RS1_RS2(                                                                 \
        XCUSTOM_ACC,                                                                          \
        ((uint64_t)(a_spad_id) << 18) | ((uint64_t)(b_spad_id) << 16) |                       \
            ((uint64_t)(max_pixels_per_row) << 8) | ((uint64_t)(dw) << 6) |                   \
            ((uint64_t)(trans_input_3120) << 5) | ((uint64_t)(trans_weight_0132) << 4) |      \
            ((uint64_t)(trans_weight_1203) << 3) | ((uint64_t)(trans_output_1203) << 2) |     \
            ((uint64_t)(wrot180) << 1) | (uint64_t)(no_bias),                                 \
        ((uint64_t)(activation) << 3) | ((uint64_t)(input_dilated) << 2) |                    \
            ((uint64_t)(downsample) << 1) | (uint64_t)(no_pool),                              \
        k_LOOP_CONV_WS)                                                                       \
  }

/* ---- performance counters (rd-returning COUNTER command) --------------------------------- */

#define gemmini_counter_access(rd, config_reg)                                                \
  ROCC_INSTRUCTION(XCUSTOM_ACC, rd, config_reg, 0, k_COUNTER)

static inline uint32_t counter_read(size_t index) {
  uint32_t value;
  gemmini_counter_access(value, (index & 0x7) << 4);
  return value;
}

static inline void counter_configure(size_t index, size_t counter_code) {
  const uint32_t snapshot = counter_code > INCREMENTAL_COUNTERS;
  if (snapshot) counter_code -= INCREMENTAL_COUNTERS;
  const uint32_t reg = (uint32_t)((index & 0x7) << 4) | 0x8 |
                       (uint32_t)((counter_code & 0x3f) << 12) | (snapshot << 31);
  uint32_t ignored;
  gemmini_counter_access(ignored, reg);
  (void)ignored;
}

static inline void counter_snapshot_take(void) {
  uint32_t ignored;
  gemmini_counter_access(ignored, 0x4);
  (void)ignored;
}
static inline void counter_snapshot_reset(void) {
  uint32_t ignored;
  gemmini_counter_access(ignored, 0x2);
  (void)ignored;
}
static inline void counter_reset(void) {
  uint32_t ignored;
  gemmini_counter_access(ignored, 0x1);
  (void)ignored;
}

/* ---- kernels ----------------------------------------------------------------------------- */

/* Where a kernel runs (upstream's name and order). */
enum tiled_matmul_type_t { OS, WS, CPU };

#include "gemmini_cpu.h"

static inline void gemmini_fail(const char *what) {
  printf("gemmini.h: %s\n", what);
  exit(1);
}

static inline size_t gemmini_blocks(size_t n) { return (n + DIM - 1) / DIM; }

/* Tile sizes of a matmul, in blocks of DIM. */
struct gemmini_matmul_tile {
  size_t I, J, K;
};

static inline size_t gemmini_matmul_spad_rows(struct gemmini_matmul_tile t) {
  return (t.I * t.K + t.K * t.J) * DIM; /* A tile + B tile */
}
static inline size_t gemmini_matmul_acc_rows(struct gemmini_matmul_tile t) {
  return t.I * t.J * DIM; /* C tile */
}

/* WS double-buffers: each LOOP_WS may use half the scratchpad and half the accumulator. */
static inline size_t gemmini_max_spad_rows(enum tiled_matmul_type_t type) {
  return type == WS ? BANK_NUM * BANK_ROWS / 2 : BANK_NUM * BANK_ROWS;
}
static inline size_t gemmini_max_acc_rows(enum tiled_matmul_type_t type) {
  return type == WS ? ACC_ROWS / 2 : ACC_ROWS;
}

/* The largest tile that fits: start from a square-ish tile, then grow J, I and K in turn while
 * the tile still fits (upstream's heuristic, so the instruction stream is the same). */
static struct gemmini_matmul_tile gemmini_matmul_pick_tile(const struct gemmini_matmul *m,
                                                          enum tiled_matmul_type_t type) {
  const size_t bi = gemmini_blocks(m->I), bj = gemmini_blocks(m->J), bk = gemmini_blocks(m->K);
  const size_t spad = gemmini_max_spad_rows(type), acc = gemmini_max_acc_rows(type);
  const size_t side = (size_t)sqrt((double)(acc / DIM)); /* square C tile */
  const size_t k_max = (BANK_NUM * BANK_ROWS / 2 / (type == WS ? 2 : 1)) / DIM / side;
  struct gemmini_matmul_tile t = {bi < side ? bi : side, bj < side ? bj : side,
                                  bk < k_max ? bk : k_max};
  for (bool grew = true; grew;) {
    grew = false;
    struct gemmini_matmul_tile c = t;
    c.J++;
    if (c.J <= bj && gemmini_matmul_spad_rows(c) <= spad && gemmini_matmul_acc_rows(c) <= acc) {
      t = c;
      grew = true;
    }
    c = t;
    c.I++;
    if (c.I <= bi && gemmini_matmul_spad_rows(c) <= spad && gemmini_matmul_acc_rows(c) <= acc) {
      t = c;
      grew = true;
    }
    c = t;
    c.K++;
    if (c.K <= bk && gemmini_matmul_spad_rows(c) <= spad) {
      t = c;
      grew = true;
    }
  }
  return t;
}

static void gemmini_matmul_check(const struct gemmini_matmul *m, struct gemmini_matmul_tile t,
                                 enum tiled_matmul_type_t type) {
  if (t.I == 0 || t.J == 0 || t.K == 0) gemmini_fail("tile factors must be positive");
  if (t.I * DIM > gemmini_blocks(m->I) * DIM || t.J * DIM > gemmini_blocks(m->J) * DIM ||
      t.K * DIM > gemmini_blocks(m->K) * DIM)
    gemmini_fail("a tile factor is larger than the padded matrix");
  if (gemmini_matmul_spad_rows(t) > gemmini_max_spad_rows(type))
    gemmini_fail("not enough scratchpad space for the A and B tiles");
  if (gemmini_matmul_acc_rows(t) > gemmini_max_acc_rows(type))
    gemmini_fail("not enough accumulator space for the C tile");
  if (t.I > 65535 || t.J > 65535 || t.K > 65535)
    gemmini_fail("tile factors must be below 65536 to fit LOOP_WS");
  if (m->act != NO_ACTIVATION && m->act != RELU)
    gemmini_fail("only NO_ACTIVATION and RELU are supported");
  if (type == OS && (m->transpose_A || m->transpose_B))
    gemmini_fail("OS cannot transpose A or B");
  if (type == OS && m->low_D) gemmini_fail("OS does not support an int8 bias (low_D)");
  if (type == WS && m->transpose_A && m->transpose_B)
    gemmini_fail("WS cannot transpose both A and B");
}

/* Issue one LOOP_WS per (i0, j0, k0) tile. k0 runs innermost so a C tile stays in the
 * accumulator across its K tiles: the first K tile loads the bias (or overwrites), the others
 * accumulate, the last one moves C out. */
static void gemmini_matmul_ws(const struct gemmini_matmul *m, struct gemmini_matmul_tile t) {
  const size_t size_D = m->low_D ? sizeof(elem_t) : sizeof(acc_t);
  const size_t size_C = m->full_C ? sizeof(acc_t) : sizeof(elem_t);
  const size_t bi = gemmini_blocks(m->I), bj = gemmini_blocks(m->J), bk = gemmini_blocks(m->K);
  const size_t I0 = (bi + t.I - 1) / t.I, J0 = (bj + t.J - 1) / t.J, K0 = (bk + t.K - 1) / t.K;
  const size_t pad_I = bi * DIM - m->I, pad_J = bj * DIM - m->J, pad_K = bk * DIM - m->K;
  const bool no_bias = m->D == NULL;

  gemmini_extended_config_ex(WEIGHT_STATIONARY, m->act & 3, 0, 1, m->transpose_A,
                             m->transpose_B);
  gemmini_extended_config_st(m->stride_C * size_C, m->act & 3, m->scale);
  gemmini_extended3_config_ld(m->stride_A * sizeof(elem_t), m->A_scale, false, 0);
  gemmini_extended3_config_ld(m->stride_B * sizeof(elem_t), m->B_scale, false, 1);
  gemmini_extended3_config_ld(m->repeating_bias ? 0 : m->stride_D * size_D, m->D_scale, m->low_D,
                              2);

  for (size_t i0 = 0; i0 < I0; i0++)
    for (size_t j0 = 0; j0 < J0; j0++)
      for (size_t k0 = 0; k0 < K0; k0++) {
        const size_t row = i0 * t.I * DIM, col = j0 * t.J * DIM, dep = k0 * t.K * DIM;
        const size_t I = i0 + 1 < I0 ? t.I : bi - i0 * t.I;
        const size_t J = j0 + 1 < J0 ? t.J : bj - j0 * t.J;
        const size_t K = k0 + 1 < K0 ? t.K : bk - k0 * t.K;
        const elem_t *a = m->transpose_A ? m->A + dep * m->stride_A + row
                                         : m->A + row * m->stride_A + dep;
        const elem_t *b = m->transpose_B ? m->B + col * m->stride_B + dep
                                         : m->B + dep * m->stride_B + col;
        const size_t bias_row = m->repeating_bias ? 0 : row;
        const void *d = (no_bias || k0 != 0)
                            ? NULL
                            : (const int8_t *)m->D + (bias_row * m->stride_D + col) * size_D;
        void *c = k0 + 1 == K0 ? (int8_t *)m->C + (row * m->stride_C + col) * size_C : NULL;
        /* Accumulate onto the bias or onto the previous K tile; overwrite on a bias-less
         * first K tile. */
        const bool accumulate = k0 != 0 || !no_bias;
        gemmini_loop_ws(I, J, K, i0 + 1 == I0 ? pad_I : 0, j0 + 1 == J0 ? pad_J : 0,
                        k0 + 1 == K0 ? pad_K : 0, a, b, d, c, m->stride_A, m->stride_B,
                        m->repeating_bias ? 0 : m->stride_D, m->stride_C, m->transpose_A,
                        m->transpose_B, m->full_C, m->low_D, accumulate, m->act);
      }
  gemmini_fence();
}

/* One output-stationary tile with explicit instructions (there is no OS loop command): move
 * D into the accumulator, B and A into the scratchpad, then for every C block accumulate
 * A(i,k) B(k,j) in the mesh over k and send the sum to the accumulator, then move C out.
 * `d` is this tile's bias (NULL when there is none or this is not the first K tile); on a
 * bias-less first K tile the result overwrites the accumulator instead of adding to it. */
static void gemmini_matmul_os_tile(const struct gemmini_matmul *m, size_t I, size_t J, size_t K,
                                   size_t pad_I, size_t pad_J, size_t pad_K, const elem_t *A,
                                   const elem_t *B, const void *d, bool overwrite, void *C) {
  const uint32_t A_start = 0, B_start = BANK_NUM * BANK_ROWS - K * J * DIM;
  const uint32_t D_start = 1u << (ADDR_LEN - 1);
  const uint32_t C_start = (3u << (ADDR_LEN - 2)) | ((uint32_t)m->full_C << (ADDR_LEN - 3));
  const size_t size_C = m->full_C ? sizeof(acc_t) : sizeof(elem_t);
#define GEMMINI_EDGE(idx, n, pad) (DIM - ((idx) + 1 == (n) ? (pad) : 0))
  if (d != NULL) {
    const size_t blocks_max = J < MAX_BLOCK_LEN_ACC ? J : MAX_BLOCK_LEN_ACC;
    gemmini_extended_config_ld(m->repeating_bias ? 0 : m->stride_D * sizeof(acc_t), m->D_scale);
    for (size_t i = 0; i < I; i++)
      for (size_t j = 0; j < J; j += blocks_max) {
        const size_t blocks = j + blocks_max <= J ? blocks_max : J - j;
        const size_t cols = blocks * DIM - (j + blocks >= J ? pad_J : 0);
        const acc_t *src = (const acc_t *)d + ((m->repeating_bias ? 0 : i) * m->stride_D + j) * DIM;
        gemmini_extended_mvin(src, D_start + (i * J + j) * DIM, cols, GEMMINI_EDGE(i, I, pad_I));
      }
  }
  const size_t b_blocks = J < MAX_BLOCK_LEN ? J : MAX_BLOCK_LEN;
  gemmini_extended_config_ld(m->stride_B * sizeof(elem_t), m->B_scale);
  for (size_t j = 0; j < J; j += b_blocks)
    for (size_t k = 0; k < K; k++) {
      const size_t blocks = j + b_blocks <= J ? b_blocks : J - j;
      const size_t cols = blocks * DIM - (j + blocks >= J ? pad_J : 0);
      gemmini_extended_mvin(B + (k * m->stride_B + j) * DIM, B_start + (k * J + j) * DIM, cols,
                            GEMMINI_EDGE(k, K, pad_K));
    }
  const size_t a_blocks = K < MAX_BLOCK_LEN ? K : MAX_BLOCK_LEN;
  gemmini_extended_config_ld(m->stride_A * sizeof(elem_t), m->A_scale);
  for (size_t i = 0; i < I; i++)
    for (size_t k = 0; k < K; k += a_blocks) {
      const size_t blocks = k + a_blocks <= K ? a_blocks : K - k;
      const size_t cols = blocks * DIM - (k + blocks >= K ? pad_K : 0);
      gemmini_extended_mvin(A + (i * m->stride_A + k) * DIM, A_start + (i * K + k) * DIM, cols,
                            GEMMINI_EDGE(i, I, pad_I));
    }
  for (size_t i = 0; i < I; i++)
    for (size_t j = 0; j < J; j++) {
      const size_t rows = GEMMINI_EDGE(i, I, pad_I), cols = GEMMINI_EDGE(j, J, pad_J);
      for (size_t k = 0; k < K; k++) {
        uint32_t out = k + 1 == K ? C_start + (uint32_t)((i * J + j) * DIM) : GARBAGE_ADDR;
        if (overwrite && k + 1 == K) out &= ~(1u << (ADDR_LEN - 2));
        const uint32_t a = A_start + (i * K + k) * DIM, b = B_start + (k * J + j) * DIM;
        const size_t inner = GEMMINI_EDGE(k, K, pad_K);
        gemmini_extended_preload(GARBAGE_ADDR, out, DIM, DIM, cols, rows);
        if (k == 0) {
          gemmini_extended_compute_preloaded(a, b, inner, rows, cols, inner);
        } else {
          gemmini_extended_compute_accumulated(a, b, inner, rows, cols, inner);
        }
      }
    }
  if (C != NULL)
    for (size_t i = 0; i < I; i++)
      for (size_t j = 0; j < J; j++)
        gemmini_extended_mvout((int8_t *)C + (i * m->stride_C + j) * DIM * size_C,
                               C_start + (i * J + j) * DIM, GEMMINI_EDGE(j, J, pad_J),
                               GEMMINI_EDGE(i, I, pad_I));
#undef GEMMINI_EDGE
}

static void gemmini_matmul_os(const struct gemmini_matmul *m, struct gemmini_matmul_tile t) {
  const size_t size_C = m->full_C ? sizeof(acc_t) : sizeof(elem_t);
  const size_t bi = gemmini_blocks(m->I), bj = gemmini_blocks(m->J), bk = gemmini_blocks(m->K);
  const size_t I0 = (bi + t.I - 1) / t.I, J0 = (bj + t.J - 1) / t.J, K0 = (bk + t.K - 1) / t.K;
  const size_t pad_I = bi * DIM - m->I, pad_J = bj * DIM - m->J, pad_K = bk * DIM - m->K;
  gemmini_extended_config_ex(OUTPUT_STATIONARY, m->act & 3, 0, 1, false, false);
  gemmini_extended_config_st(m->stride_C * size_C, m->act & 3, m->scale);
  for (size_t i0 = 0; i0 < I0; i0++)
    for (size_t j0 = 0; j0 < J0; j0++)
      for (size_t k0 = 0; k0 < K0; k0++) {
        const size_t row = i0 * t.I * DIM, col = j0 * t.J * DIM, dep = k0 * t.K * DIM;
        const void *d = (m->D == NULL || k0 != 0)
                            ? NULL
                            : (const acc_t *)m->D + (m->repeating_bias ? 0 : row) * m->stride_D +
                                  col;
        void *c = k0 + 1 == K0 ? (int8_t *)m->C + (row * m->stride_C + col) * size_C : NULL;
        gemmini_matmul_os_tile(m, i0 + 1 < I0 ? t.I : bi - i0 * t.I,
                               j0 + 1 < J0 ? t.J : bj - j0 * t.J,
                               k0 + 1 < K0 ? t.K : bk - k0 * t.K, i0 + 1 == I0 ? pad_I : 0,
                               j0 + 1 == J0 ? pad_J : 0, k0 + 1 == K0 ? pad_K : 0,
                               m->A + row * m->stride_A + dep, m->B + dep * m->stride_B + col, d,
                               m->D == NULL && k0 == 0, c);
      }
  gemmini_fence();
}

static void gemmini_matmul_run(const struct gemmini_matmul *m, struct gemmini_matmul_tile t,
                               enum tiled_matmul_type_t type) {
  if (type == CPU) {
    gemmini_cpu_matmul(m);
    return;
  }
#ifdef GEMMINI_ASSERTIONS
  gemmini_matmul_check(m, t, type);
#endif
  if (type == OS)
    gemmini_matmul_os(m, t);
  else
    gemmini_matmul_ws(m, t);
}

/* Packs upstream's positional arguments (same names in both entry points) into the struct. */
#define GEMMINI_MATMUL_ARGS                                                                   \
  {.I = dim_I, .J = dim_J, .K = dim_K, .A = A, .B = B, .D = D, .C = C,                        \
   .stride_A = stride_A, .stride_B = stride_B, .stride_D = stride_D, .stride_C = stride_C,    \
   .A_scale = A_scale_factor, .B_scale = B_scale_factor, .D_scale = D_scale_factor,           \
   .act = act, .scale = scale, .repeating_bias = repeating_bias, .transpose_A = transpose_A,  \
   .transpose_B = transpose_B, .full_C = full_C, .low_D = low_D}

/* Upstream's public signature: C = act(scale * (A * B + D)), tiles given by the caller. */
GEMMINI_API void tiled_matmul(size_t dim_I, size_t dim_J, size_t dim_K, const elem_t *A,
                         const elem_t *B, const void *D, void *C, size_t stride_A,
                         size_t stride_B, size_t stride_D, size_t stride_C,
                         scale_t A_scale_factor, scale_t B_scale_factor,
                         scale_acc_t D_scale_factor, int act, acc_scale_t scale,
                         acc_scale_t bert_scale, bool repeating_bias, size_t tile_I,
                         size_t tile_J, size_t tile_K, bool transpose_A, bool transpose_B,
                         bool full_C, bool low_D, uint8_t weightA,
                         enum tiled_matmul_type_t tiled_matmul_type) {
  (void)bert_scale;
  (void)weightA;
  const struct gemmini_matmul m = GEMMINI_MATMUL_ARGS;
  const struct gemmini_matmul_tile t = {tile_I, tile_J, tile_K};
  gemmini_matmul_run(&m, t, tiled_matmul_type);
}

/* Upstream's public signature, with tiles chosen automatically. */
GEMMINI_API void tiled_matmul_auto(size_t dim_I, size_t dim_J, size_t dim_K, const elem_t *A,
                              const elem_t *B, const void *D, void *C, size_t stride_A,
                              size_t stride_B, size_t stride_D, size_t stride_C,
                              scale_t A_scale_factor, scale_t B_scale_factor,
                              scale_acc_t D_scale_factor, int act, acc_scale_t scale,
                              acc_scale_t bert_scale, bool repeating_bias, bool transpose_A,
                              bool transpose_B, bool full_C, bool low_D, uint8_t weightA,
                              enum tiled_matmul_type_t tiled_matmul_type) {
  (void)bert_scale;
  (void)weightA;
  const struct gemmini_matmul m = GEMMINI_MATMUL_ARGS;
  const struct gemmini_matmul_tile t = gemmini_matmul_pick_tile(&m, tiled_matmul_type);
  gemmini_matmul_run(&m, t, tiled_matmul_type);
}

/* ---- convolution ------------------------------------------------------------------------- */

/* Tile sizes of a convolution: batches, pooled output rows/cols/channels, kernel rows/cols and
 * input channels (upstream's `args` order). */
struct gemmini_conv_tile {
  int batches, porows, pocols, pochs, krows, kcols, kchs;
};

static inline int gemmini_ceil_div(int a, int b) { return a / b + (a % b != 0); }

/* Scratchpad rows (A + B) or accumulator rows (C) one conv tile occupies. */
static int gemmini_conv_rows(const struct gemmini_conv *c, const struct gemmini_conv_tile *t,
                             int pool_size, int pool_stride, bool downsample, bool acc) {
  const int orows = t->porows * pool_stride + pool_size - 1;
  const int ocols = t->pocols * pool_stride + pool_size - 1;
  const int krows_d = t->krows + (c->kernel_dilation - 1) * (t->krows - 1);
  const int kcols_d = t->kcols + (c->kernel_dilation - 1) * (t->kcols - 1);
  const int irows = gemmini_ceil_div(orows * c->stride + krows_d - 1, c->input_dilation);
  const int icols = gemmini_ceil_div(ocols * c->stride + kcols_d - 1, c->input_dilation);
  const int ich_banks = gemmini_ceil_div(t->kchs, DIM);
  const int och_banks = gemmini_ceil_div(t->pochs, DIM);
  const int pixels = (irows >> downsample) * (icols >> downsample);
  const int A_rows = c->trans_input_3120
                         ? gemmini_ceil_div(t->batches, DIM) * t->kchs * pixels
                         : ich_banks * t->batches * pixels;
  const int B_rows = c->trans_weight_0132 ? ich_banks * t->kcols * t->krows * t->pochs
                                          : och_banks * t->kcols * t->krows * t->kchs;
  const int C_rows = och_banks * t->batches * orows * ocols;
  return acc ? C_rows : A_rows + B_rows;
}

/* Upstream's helper, kept for programs that size their own tiles. */
GEMMINI_API int tiled_conv_total_spad_rows(bool acc, int stride, int input_dilation,
                                      int kernel_dilation, bool downsample,
                                      bool trans_weight_0132, bool trans_input_3120, int batches,
                                      int porows, int pocols, int ochs, int krows, int kcols,
                                      int kchs, int pool_size, int pool_stride) {
  struct gemmini_conv c = {0};
  c.stride = stride;
  c.input_dilation = input_dilation;
  c.kernel_dilation = kernel_dilation;
  c.trans_weight_0132 = trans_weight_0132;
  c.trans_input_3120 = trans_input_3120;
  const struct gemmini_conv_tile t = {batches, porows, pocols, ochs, krows, kcols, kchs};
  return gemmini_conv_rows(&c, &t, pool_size, pool_stride, downsample, acc);
}

static inline bool gemmini_conv_pooled(const struct gemmini_conv *c) { return c->pool_stride != 0; }
static inline int gemmini_conv_pool_size(const struct gemmini_conv *c) {
  return gemmini_conv_pooled(c) ? c->pool_size : 1;
}
static inline int gemmini_conv_pool_stride(const struct gemmini_conv *c) {
  return gemmini_conv_pooled(c) ? c->pool_stride : 1;
}
static inline int gemmini_conv_pool_padding(const struct gemmini_conv *c) {
  return gemmini_conv_pooled(c) ? c->pool_padding : 0;
}
static inline int gemmini_conv_pool_rows(const struct gemmini_conv *c) {
  return (c->out_row_dim + 2 * gemmini_conv_pool_padding(c) - gemmini_conv_pool_size(c)) /
             gemmini_conv_pool_stride(c) + 1;
}
static inline int gemmini_conv_pool_cols(const struct gemmini_conv *c) {
  return (c->out_col_dim + 2 * gemmini_conv_pool_padding(c) - gemmini_conv_pool_size(c)) /
             gemmini_conv_pool_stride(c) + 1;
}
/* A 1x1 stride-2 conv on an even image reads every other pixel: the DMA skips the others. */
static inline bool gemmini_conv_downsample(const struct gemmini_conv *c) {
  return c->stride == 2 && c->kernel_dim == 1 && c->padding == 0 && !gemmini_conv_pooled(c) &&
         c->in_row_dim % 2 == 0 && c->in_col_dim % 2 == 0 && c->input_dilation == 1 &&
         !c->trans_input_3120;
}

/* Shrink the largest tile dimension until the tile fits half the scratchpad and half the
 * accumulator, then grow ocols, then any dimension, while it still fits (upstream's search). */
static struct gemmini_conv_tile gemmini_conv_pick_tile(const struct gemmini_conv *c) {
  enum { ORows = 1, OCols = 2, OChs = 3, IChs = 6, N = 7 };
  const int full[N] = {c->batch_size,  gemmini_conv_pool_rows(c), gemmini_conv_pool_cols(c),
                       c->out_channels, c->kernel_dim,            c->kernel_dim,
                       c->in_channels};
  int a[N];
  for (int i = 0; i < N; i++) a[i] = full[i];
  const int ps = gemmini_conv_pool_size(c), pst = gemmini_conv_pool_stride(c);
  const bool ds = gemmini_conv_downsample(c);
#define GEMMINI_CONV_FITS(v)                                                                  \
  (gemmini_conv_rows(c, (const struct gemmini_conv_tile *)(v), ps, pst, ds, false) <=        \
       BANK_NUM * BANK_ROWS / 2 &&                                                            \
   gemmini_conv_rows(c, (const struct gemmini_conv_tile *)(v), ps, pst, ds, true) <=         \
       ACC_ROWS / 2)
  while (!GEMMINI_CONV_FITS(a)) {
    int idx = -1;
    for (int i = 0; i < N; i++) {
      /* Keep a full row of DIM output columns as long as rows can shrink instead. */
      const bool keep = i == OCols && a[i] <= DIM && a[ORows] > 1;
      if (!keep && (idx < 0 || a[i] > a[idx])) idx = i;
    }
    if (idx == OChs || idx == IChs) { /* channels shrink by whole blocks of DIM */
      a[idx] = a[idx] % DIM != 0 ? (a[idx] / DIM) * DIM : a[idx] - DIM;
      if (a[idx] == 0) a[idx] = 1;
    } else {
      a[idx]--;
    }
  }
  for (;;) { /* grow ocols first: it keeps the array's rows busy */
    int b[N];
    for (int i = 0; i < N; i++) b[i] = a[i];
    b[OCols]++;
    if (b[OCols] > full[OCols] || !GEMMINI_CONV_FITS(b)) break;
    a[OCols] = b[OCols];
  }
  for (bool grew = true; grew;) {
    grew = false;
    for (int i = 0; i < N; i++) {
      int b[N];
      for (int j = 0; j < N; j++) b[j] = a[j];
      b[i]++;
      if (b[i] <= full[i] && GEMMINI_CONV_FITS(b)) {
        a[i] = b[i];
        grew = true;
      }
    }
  }
#undef GEMMINI_CONV_FITS
  const struct gemmini_conv_tile t = {a[0], a[1], a[2], a[3], a[4], a[5], a[6]};
  return t;
}

static void gemmini_conv_check(const struct gemmini_conv *c, const struct gemmini_conv_tile *t) {
  const bool ds = gemmini_conv_downsample(c);
  const int ps = gemmini_conv_pool_size(c), pst = gemmini_conv_pool_stride(c);
  if (c->trans_weight_1203 && c->trans_weight_0132)
    gemmini_fail("only one weight transformation can be applied at a time");
  if (gemmini_conv_rows(c, t, ps, pst, ds, false) > BANK_NUM * BANK_ROWS / 2)
    gemmini_fail("not enough scratchpad space for the conv's inputs and weights");
  if (gemmini_conv_rows(c, t, ps, pst, ds, true) > ACC_ROWS / 2)
    gemmini_fail("not enough accumulator space for the conv's outputs");
  if (c->kernel_dim <= c->padding) gemmini_fail("kernel_dim must be larger than padding");
  if (c->input_dilation > 2) gemmini_fail("input_dilation > 2 is only supported on CPU");
  if (c->input_dilation > 1 && c->stride > 1)
    gemmini_fail("input dilation is only supported with stride 1");
  if (c->trans_output_1203 && gemmini_conv_pooled(c))
    gemmini_fail("the output can only be transposed without pooling");
  if (c->trans_input_3120 && c->trans_weight_0132)
    gemmini_fail("WS cannot transpose the innermost dimensions of both inputs and weights");
  if (c->act != NO_ACTIVATION && c->act != RELU)
    gemmini_fail("only NO_ACTIVATION and RELU are supported");
}

/* One LOOP_CONV_WS for the tile whose first pooled output is (b, porow, pocol, poch) and whose
 * first kernel element is (krow, kcol, kch). Paddings say how much of the tile's input window
 * (and pooling window) lies outside the image. */
static void gemmini_conv_tile_ws(const struct gemmini_conv *c, const struct gemmini_conv_tile *t,
                                 int b, int porow, int pocol, int poch, int krow, int kcol,
                                 int kch) {
  const int ps = gemmini_conv_pool_size(c), pst = gemmini_conv_pool_stride(c);
  const int ppad = gemmini_conv_pool_padding(c);
  const int prows = gemmini_conv_pool_rows(c), pcols = gemmini_conv_pool_cols(c);
  const bool ds = gemmini_conv_downsample(c);
  const int input_dilated = c->input_dilation == 2;
  const int kd = c->kernel_dim, kdil = c->kernel_dilation;
  const int dil_in_rows = c->in_row_dim + (c->input_dilation - 1) * (c->in_row_dim - 1);
  const int dil_in_cols = c->in_col_dim + (c->input_dilation - 1) * (c->in_col_dim - 1);

  const int orow = porow * pst - ppad, ocol = pocol * pst - ppad;
  const int irow = (orow < 0 ? 0 : orow) * c->stride + krow * kdil - c->padding;
  const int icol = (ocol < 0 ? 0 : ocol) * c->stride + kcol * kdil - c->padding;

  const int batches = c->batch_size - b < t->batches ? c->batch_size - b : t->batches;
  const int porows = prows - porow < t->porows ? prows - porow : t->porows;
  const int pocols = pcols - pocol < t->pocols ? pcols - pocol : t->pocols;
  const int pochs = c->out_channels - poch < t->pochs ? c->out_channels - poch : t->pochs;
  const int krows = kd - krow < t->krows ? kd - krow : t->krows;
  const int kcols = kd - kcol < t->kcols ? kd - kcol : t->kcols;
  const int kchs = c->in_channels - kch < t->kchs ? c->in_channels - kch : t->kchs;

  const int ocols_ = pocols * pst + ps - 1, orows_ = porows * pst + ps - 1;
  const int plpad = ocol < 0 ? -ocol : 0;
  const int prpad = ocol + ocols_ > c->out_col_dim ? ocol + ocols_ - c->out_col_dim : 0;
  const int pupad = orow < 0 ? -orow : 0;
  const int pdpad = orow + orows_ > c->out_row_dim ? orow + orows_ - c->out_row_dim : 0;

  const int krows_d = krows + (kdil - 1) * (krows - 1), kcols_d = kcols + (kdil - 1) * (kcols - 1);
  const int icols_ = (ocols_ - plpad - prpad) * c->stride + kcols_d - 1;
  const int irows_ = (orows_ - pupad - pdpad) * c->stride + krows_d - 1;
  int lpad = icol < 0 ? -icol : 0;
  int rpad = icol + icols_ > dil_in_cols ? icol + icols_ - dil_in_cols : 0;
  int upad = irow < 0 ? -irow : 0;
  int dpad = irow + irows_ > dil_in_rows ? irow + irows_ - dil_in_rows : 0;
  if (input_dilated) { /* the window must start and end on a real (odd-free) pixel */
    lpad += lpad == 0 && icol % 2 != 0;
    rpad += rpad == 0 && (icol + icols_) % 2 != 1;
    upad += upad == 0 && irow % 2 != 0;
    dpad += dpad == 0 && (irow + irows_) % 2 != 1;
  }

  const int krow_ = c->wrot180 ? kd - krow - krows : krow;
  const int kcol_ = c->wrot180 ? kd - kcol - kcols : kcol;
  const elem_t *w;
  if (c->trans_weight_1203)
    w = c->weights + (kch * kd * kd + krow_ * kd + kcol_) * c->out_channels + poch;
  else if (c->trans_weight_0132)
    w = c->weights + (krow_ * kd * c->out_channels + kcol_ * c->out_channels + poch) *
                         c->in_channels + kch;
  else
    w = c->weights + (krow_ * kd * c->in_channels + kcol_ * c->in_channels + kch) *
                         c->weight_stride + poch;

  const int in_r = (irow + upad) >> input_dilated, in_c = (icol + lpad) >> input_dilated;
  const elem_t *in = c->trans_input_3120
      ? c->input + (kch * c->in_row_dim * c->in_col_dim + in_r * c->in_col_dim + in_c) *
                       c->batch_size + b
      : c->input + (b * c->in_row_dim * c->in_col_dim + in_r * c->in_col_dim + in_c) *
                       c->in_stride + kch;

  /* Only the last kernel tile moves the output out; only the first one loads the bias. */
  const bool last_k = krow + t->krows >= kd && kcol + t->kcols >= kd &&
                      kch + t->kchs >= c->in_channels;
  const bool first_k = krow == 0 && kcol == 0 && kch == 0;
  elem_t *out = NULL;
  if (last_k)
    out = c->trans_output_1203
              ? c->output + (porow * pcols * c->batch_size + pocol * c->batch_size + b) *
                                c->out_stride + poch
              : c->output + (b * prows * pcols + porow * pcols + pocol) * c->out_stride + poch;
  const bool no_bias = c->bias == NULL;
  const acc_t *bias = first_k ? (no_bias ? (const acc_t *)1 : c->bias) + poch : NULL;

  const int orows = porows * pst + ps - 1 - pupad - pdpad;
  const int ocols = pocols * pst + ps - 1 - plpad - prpad;
#ifdef HAS_FIRST_LAYER_OPTIMIZATIONS
  /* Few input channels: pack several kernel columns into one DIM-wide row. */
  const bool transposed = c->trans_output_1203 || c->trans_input_3120 || c->trans_weight_1203 ||
                          c->trans_weight_0132;
  int max_pixels_per_row = transposed || c->wrot180 || ds || input_dilated || kdil > 1 ||
                                   kchs > DIM
                               ? 1
                               : DIM / kchs;
  if (max_pixels_per_row > kcols) max_pixels_per_row = kcols;
#else
  const int max_pixels_per_row = 1;
#endif

  gemmini_loop_conv_ws(c->batch_size, c->in_row_dim, c->in_col_dim, c->in_channels,
                       c->out_channels, c->out_row_dim, c->out_col_dim, prows, pcols, c->stride,
                       c->padding, kd, kdil, ps, pst, ppad, batches, porows, pocols, pochs,
                       krows, kcols, kchs, lpad, rpad, upad, dpad, plpad, prpad, pupad, pdpad,
                       orows, ocols, w, out, bias, in, no_bias, !gemmini_conv_pooled(c), ds,
                       c->wrot180, input_dilated, c->act, c->trans_output_1203,
                       c->trans_weight_1203, c->trans_weight_0132, c->trans_input_3120,
                       max_pixels_per_row, c->in_stride, c->weight_stride, c->out_stride, 0, 0,
                       0);
}

static void gemmini_conv_run(const struct gemmini_conv *c, const struct gemmini_conv_tile *t,
                             enum tiled_matmul_type_t type) {
  if (type == CPU) {
    gemmini_cpu_conv(c);
    return;
  }
  if (type == OS) gemmini_fail("Gemmini convs do not support OS");
#ifdef GEMMINI_ASSERTIONS
  gemmini_conv_check(c, t);
#endif
  const bool ds = gemmini_conv_downsample(c);
  const size_t out_stride = (c->trans_output_1203 ? (size_t)c->batch_size : 1) *
                            (size_t)c->out_stride * sizeof(elem_t);
  gemmini_extended_config_st(out_stride, c->act, c->scale);
  gemmini_extended3_config_ex(WEIGHT_STATIONARY, 0, 0, 0, c->input_dilation, c->stride >> ds,
                              c->trans_input_3120, c->trans_weight_0132, false);
  const int prows = gemmini_conv_pool_rows(c), pcols = gemmini_conv_pool_cols(c);
  for (int b = 0; b < c->batch_size; b += t->batches)
    for (int porow = 0; porow < prows; porow += t->porows)
      for (int pocol = 0; pocol < pcols; pocol += t->pocols)
        for (int poch = 0; poch < c->out_channels; poch += t->pochs)
          for (int krow = 0; krow < c->kernel_dim; krow += t->krows)
            for (int kcol = 0; kcol < c->kernel_dim; kcol += t->kcols)
              for (int kch = 0; kch < c->in_channels; kch += t->kchs)
                gemmini_conv_tile_ws(c, t, b, porow, pocol, poch, krow, kcol, kch);
  gemmini_fence();
}

/* Packs upstream's positional arguments (same names in both entry points) into the struct. */
#define GEMMINI_CONV_ARGS                                                                     \
  {.batch_size = batch_size, .in_row_dim = in_row_dim, .in_col_dim = in_col_dim,              \
   .in_channels = in_channels, .out_channels = out_channels, .out_row_dim = out_row_dim,      \
   .out_col_dim = out_col_dim, .stride = stride, .input_dilation = input_dilation,            \
   .kernel_dilation = kernel_dilation, .padding = padding, .kernel_dim = kernel_dim,          \
   .in_stride = in_stride, .weight_stride = weight_stride, .out_stride = out_stride,          \
   .wrot180 = wrot180, .trans_output_1203 = trans_output_1203,                                \
   .trans_input_3120 = trans_input_3120, .trans_weight_1203 = trans_weight_1203,              \
   .trans_weight_0132 = trans_weight_0132, .input = input, .weights = weights, .bias = bias,   \
   .output = output, .act = act, .scale = scale, .pool_size = pool_size,                      \
   .pool_stride = pool_stride, .pool_padding = pool_padding}

/* Upstream's public signature; pool_stride == 0 means no pooling. in_stride / weight_stride /
 * out_stride are the elements from one input pixel, weight row and output pixel to the next. */
GEMMINI_API void tiled_conv(int batch_size, int in_row_dim, int in_col_dim, int in_channels,
                       int out_channels, int out_row_dim, int out_col_dim, int stride,
                       int input_dilation, int kernel_dilation, int padding, int kernel_dim,
                       int in_stride, int weight_stride, int out_stride, bool wrot180, bool trans_output_1203, bool trans_input_3120,
                       bool trans_weight_1203, bool trans_weight_0132, int batches, int porows,
                       int pocols, int pochs, int krows, int kcols, int kchs,
                       const elem_t *input, const elem_t *weights, const acc_t *bias,
                       elem_t *output, int act, acc_scale_t scale, int pool_size,
                       int pool_stride, int pool_padding,
                       enum tiled_matmul_type_t tiled_conv_type) {
  /* A 1x1 stride-1 unpadded pool is no pool (upstream treats it so on the CPU path). */
  if (pool_size == 1 && pool_stride == 1 && pool_padding == 0) pool_stride = 0;
  const struct gemmini_conv c = GEMMINI_CONV_ARGS;
  const struct gemmini_conv_tile t = {batches, porows, pocols, pochs, krows, kcols, kchs};
  gemmini_conv_run(&c, &t, tiled_conv_type);
}

/* Upstream's public signature, with tiles chosen automatically and explicit pixel strides. */
GEMMINI_API void tiled_conv_stride_auto(int batch_size, int in_row_dim, int in_col_dim,
                            int in_channels, int out_channels, int out_row_dim, int out_col_dim,
                            int stride, int input_dilation, int kernel_dilation, int padding,
                            int kernel_dim, int in_stride, int weight_stride, int out_stride,
                            bool wrot180, bool trans_output_1203,
                            bool trans_input_3120, bool trans_weight_1203,
                            bool trans_weight_0132, const elem_t *input, const elem_t *weights,
                            const acc_t *bias, elem_t *output, int act, acc_scale_t scale,
                            int pool_size, int pool_stride, int pool_padding,
                            enum tiled_matmul_type_t tiled_conv_type) {
  if (pool_size == 1 && pool_stride == 1 && pool_padding == 0) pool_stride = 0;
  const struct gemmini_conv c = GEMMINI_CONV_ARGS;
  const struct gemmini_conv_tile t = gemmini_conv_pick_tile(&c);
  gemmini_conv_run(&c, &t, tiled_conv_type);
}

/* Upstream's public signature, with tiles chosen automatically (dense NHWC / HWIO layouts). */
GEMMINI_API void tiled_conv_auto(int batch_size, int in_row_dim, int in_col_dim, int in_channels,
                                 int out_channels, int out_row_dim, int out_col_dim, int stride,
                                 int input_dilation, int kernel_dilation, int padding,
                                 int kernel_dim, bool wrot180, bool trans_output_1203,
                                 bool trans_input_3120, bool trans_weight_1203,
                                 bool trans_weight_0132, const elem_t *input,
                                 const elem_t *weights, const acc_t *bias, elem_t *output,
                                 int act, acc_scale_t scale, int pool_size, int pool_stride,
                                 int pool_padding, enum tiled_matmul_type_t tiled_conv_type) {
  tiled_conv_stride_auto(batch_size, in_row_dim, in_col_dim, in_channels, out_channels,
                         out_row_dim, out_col_dim, stride, input_dilation, kernel_dilation,
                         padding, kernel_dim, in_channels, out_channels, out_channels, wrot180,
                         trans_output_1203, trans_input_3120, trans_weight_1203,
                         trans_weight_0132, input, weights, bias, output, act, scale, pool_size,
                         pool_stride, pool_padding, tiled_conv_type);
}

/* ---- residual add ------------------------------------------------------------------------ */

/* One tile of C = sat(scale * (MVIN_SCALE(A) + MVIN_SCALE(B))): A and B are both moved into the
 * same accumulator rows (the second mvin accumulates), then moved out scaled. */
static void gemmini_resadd_tile(size_t I, size_t J, const elem_t *A, const elem_t *B, elem_t *C,
                                size_t stride) {
  size_t blocks = gemmini_blocks(J);
  if (blocks > MAX_BLOCK_LEN) blocks = MAX_BLOCK_LEN;
  const uint32_t acc_overwrite = 1u << (ADDR_LEN - 1), acc_accumulate = 3u << (ADDR_LEN - 2);
  const size_t row_blocks = gemmini_blocks(J); /* accumulator rows per DIM input rows */
  for (int pass = 0; pass < 3; pass++)
    for (size_t i = 0; i < I; i += DIM)
      for (size_t j = 0; j < J; j += blocks * DIM) {
        const size_t cols = j + blocks * DIM <= J ? blocks * DIM : J - j;
        const size_t rows = i + DIM <= I ? DIM : I - i;
        const uint32_t local = (uint32_t)(i * row_blocks + j);
        if (pass == 0) {
          gemmini_extended_mvin(A + i * stride + j, acc_overwrite + local, cols, rows);
        } else if (pass == 1) {
          gemmini_extended_mvin2(B + i * stride + j, acc_accumulate + local, cols, rows);
        } else {
          gemmini_extended_mvout(C + i * stride + j, acc_overwrite + local, cols, rows);
        }
      }
}

/* Upstream's public signature: C = sat(C_scale * (MVIN_SCALE(A, A_scale) + MVIN_SCALE(B,
 * B_scale))), optional ReLU; A, B, C are I x J with rows `stride` elements apart. */
GEMMINI_API void tiled_resadd_stride_auto(const size_t I, const size_t J, const scale_t A_scale,
                                          const scale_t B_scale, const acc_scale_t C_scale,
                                          const size_t stride, const elem_t *A, const elem_t *B,
                                          elem_t *C, bool relu,
                                          enum tiled_matmul_type_t matadd_type) {
  if (matadd_type == CPU) {
    resadd_cpu(I, J, stride, A_scale, B_scale, C_scale, A, B, C, relu);
    return;
  }
  if (matadd_type != WS) gemmini_fail("resadd supports WS and CPU only");
  size_t tile_I = I, tile_J = J;
  while (gemmini_blocks(tile_I) * DIM * gemmini_blocks(tile_J) > ACC_ROWS) {
    if (tile_I >= tile_J)
      tile_I--;
    else
      tile_J--;
  }
  gemmini_extended_config_st(stride * sizeof(elem_t), relu ? RELU : NO_ACTIVATION, C_scale);
  gemmini_config_ex(WEIGHT_STATIONARY, 0, 0);
  gemmini_extended4_config_ld(stride * sizeof(elem_t), A_scale, true, DIM, 0);
  gemmini_extended4_config_ld(stride * sizeof(elem_t), B_scale, true, DIM, 1);
  for (size_t i = 0; i < I; i += tile_I)
    for (size_t j = 0; j < J; j += tile_J) {
      const size_t ti = i + tile_I <= I ? tile_I : I - i, tj = j + tile_J <= J ? tile_J : J - j;
      const size_t at = i * stride + j;
      gemmini_resadd_tile(ti, tj, A + at, B + at, C + at, stride);
    }
  gemmini_fence();
}

/* Upstream's public signature: tiled_resadd_stride_auto on dense I x J matrices. */
GEMMINI_API void tiled_resadd_auto(const size_t I, const size_t J, const scale_t A_scale,
                              const scale_t B_scale, const acc_scale_t C_scale, const elem_t *A,
                              const elem_t *B, elem_t *C, bool relu,
                              enum tiled_matmul_type_t matadd_type) {
  tiled_resadd_stride_auto(I, J, A_scale, B_scale, C_scale, J, A, B, C, relu, matadd_type);
}

/* ---- global average pooling ---------------------------------------------------------------- */

/* Upstream's public signature: output[b][ch] = mean of input[b][:][:][ch] over dim x dim pixels
 * (NHWC), with channels in tiles of `channel_tile_size`. Every pixel row is moved into the same
 * accumulator rows (int8 shrunk mvins that accumulate), then moved out scaled by 1/(dim*dim). */
GEMMINI_API void tiled_global_average(const elem_t *input, elem_t *output, int batches,
                                      int channels, int dim, int channel_tile_size) {
  if (channel_tile_size <= 0 || channel_tile_size > ACC_ROWS * DIM)
    gemmini_fail("global average: channel_tile_size must be 1 .. ACC_ROWS * DIM");
  const uint32_t acc = 1u << (ADDR_LEN - 1), accumulate = 1u << (ADDR_LEN - 2);
  const int pixels = dim * dim;
  gemmini_extended4_config_ld(DIM * sizeof(elem_t), MVIN_SCALE_IDENTITY, true, 1, 0);
  gemmini_extended_config_st(0, NO_ACTIVATION, (acc_scale_t)(1.0 / pixels));
  for (int b = 0; b < batches; b++)
    for (int ch0 = 0; ch0 < channels; ch0 += channel_tile_size) {
      const int tile = channels - ch0 < channel_tile_size ? channels - ch0 : channel_tile_size;
      const int span = MAX_BLOCK_LEN * DIM; /* channels per mvin: one row, up to MAX_BLOCK_LEN */
      for (int c = 0; c < tile; c += span) {
        const int cols = tile - c < span ? tile - c : span;
        for (int px = 0; px < pixels; px++) /* block stride 1: DIM channels per acc row */
          gemmini_extended_mvin(input + ((size_t)b * pixels + px) * channels + ch0 + c,
                                acc | (px ? accumulate : 0) | (uint32_t)(c / DIM), cols, 1);
      }
      for (int c = 0; c < tile; c += DIM)
        gemmini_extended_mvout(output + (size_t)b * channels + ch0 + c, acc | (uint32_t)(c / DIM),
                               tile - c < DIM ? tile - c : DIM, 1);
    }
  gemmini_fence();
}

/* Upstream's public signature, with the largest channel tile the accumulator holds. */
GEMMINI_API void tiled_global_average_auto(const elem_t *input, elem_t *output, int batches,
                                           int channels, int dim,
                                           enum tiled_matmul_type_t type) {
  if (type == CPU) {
    global_average_cpu(input, output, batches, channels, dim);
    return;
  }
  const int tile = channels < ACC_ROWS * DIM ? channels : ACC_ROWS * DIM;
  tiled_global_average(input, output, batches, channels, dim, tile);
}

/* ---- depthwise and downsampling convolutions --------------------------------------------- */

/* A depthwise conv (weights [channels][kernel_dim][kernel_dim], input and output NHWC) as one
 * single-channel conv per channel, with the channel's pixels `channels` elements apart (upstream
 * also tiles depthwise convs one channel at a time). `tile` NULL: tiles picked per channel. */
static void gemmini_conv_dw_run(int batch_size, int in_row_dim, int in_col_dim, int channels,
                                int out_row_dim, int out_col_dim, int stride, int padding,
                                int kernel_dim, const struct gemmini_conv_tile *tile,
                                const elem_t *input, const elem_t *weights, const acc_t *bias,
                                elem_t *output, int act, acc_scale_t scale, int pool_size,
                                int pool_stride, int pool_padding,
                                enum tiled_matmul_type_t type) {
  if (pool_size == 1 && pool_stride == 1 && pool_padding == 0) pool_stride = 0;
  for (int ch = 0; ch < channels; ch++) {
    const struct gemmini_conv c = {
        .batch_size = batch_size, .in_row_dim = in_row_dim, .in_col_dim = in_col_dim,
        .in_channels = 1, .out_channels = 1, .out_row_dim = out_row_dim,
        .out_col_dim = out_col_dim, .stride = stride, .input_dilation = 1,
        .kernel_dilation = 1, .padding = padding, .kernel_dim = kernel_dim,
        .in_stride = channels, .weight_stride = 1, .out_stride = channels,
        .input = input + ch, .weights = weights + (size_t)ch * kernel_dim * kernel_dim,
        .bias = bias == NULL ? NULL : bias + ch, .output = output + ch, .act = act,
        .scale = scale, .pool_size = pool_size, .pool_stride = pool_stride,
        .pool_padding = pool_padding};
    const struct gemmini_conv_tile t = tile != NULL ? *tile : gemmini_conv_pick_tile(&c);
    gemmini_conv_run(&c, &t, type);
  }
}

/* Upstream's public signature: a depthwise conv with the caller's tiles. */
GEMMINI_API void tiled_conv_dw(int batch_size, int in_row_dim, int in_col_dim, int channels,
                               int out_row_dim, int out_col_dim, int stride, int padding,
                               int kernel_dim, int batches, int porows, int pocols, int krows,
                               int kcols, const elem_t *input, const elem_t *weights,
                               const acc_t *bias, elem_t *output, int act, acc_scale_t scale,
                               int pool_size, int pool_stride, int pool_padding,
                               enum tiled_matmul_type_t tiled_conv_type) {
  const struct gemmini_conv_tile t = {batches, porows, pocols, 1, krows, kcols, 1};
  gemmini_conv_dw_run(batch_size, in_row_dim, in_col_dim, channels, out_row_dim, out_col_dim,
                      stride, padding, kernel_dim, &t, input, weights, bias, output, act, scale,
                      pool_size, pool_stride, pool_padding, tiled_conv_type);
}

/* Upstream's public signature: a depthwise conv with tiles chosen automatically. */
GEMMINI_API void tiled_conv_dw_auto(int batch_size, int in_row_dim, int in_col_dim,
                                    int channels, int out_row_dim, int out_col_dim, int stride,
                                    int padding, int kernel_dim, const elem_t *input,
                                    const elem_t *weights, const acc_t *bias, elem_t *output,
                                    int act, acc_scale_t scale, int pool_size, int pool_stride,
                                    int pool_padding, enum tiled_matmul_type_t tiled_conv_type) {
  gemmini_conv_dw_run(batch_size, in_row_dim, in_col_dim, channels, out_row_dim, out_col_dim,
                      stride, padding, kernel_dim, NULL, input, weights, bias, output, act, scale,
                      pool_size, pool_stride, pool_padding, tiled_conv_type);
}

/* Upstream's public signature: a 1x1 conv with stride 2, no padding and no pooling (ResNet's
 * downsampling shortcut), strides in elements. On even images the conv loop's DMA skips every
 * other pixel; rectangular images work too (upstream rejects them). */
GEMMINI_API void tiled_conv_downsample(int batch_size, int in_row_dim, int in_col_dim,
                                       int in_channels, int out_channels, int out_row_dim,
                                       int out_col_dim, int in_stride, int weight_stride,
                                       int out_stride, const elem_t *input,
                                       const elem_t *weights, const acc_t *bias, elem_t *output,
                                       int act, acc_scale_t scale,
                                       enum tiled_matmul_type_t tiled_conv_type) {
  tiled_conv_stride_auto(batch_size, in_row_dim, in_col_dim, in_channels, out_channels,
                         out_row_dim, out_col_dim, 2, 1, 1, 0, 1, in_stride, weight_stride,
                         out_stride, false, false, false, false, false, input, weights, bias,
                         output, act, scale, 0, 0, 0, tiled_conv_type);
}

/* ---- gemmini_nn.h's matmul entry point ----------------------------------------------------- */

/* Upstream's public signature: C = act(scale * (A * B + D)) on dense row-major matrices (D: int32
 * rows of dim_J, one row when repeating_bias); with `check`, the same matmul on the CPU must give
 * the same bytes, or the program stops naming `layer_name`. */
GEMMINI_API void tiled_matmul_nn_auto(size_t dim_I, size_t dim_J, size_t dim_K,
                                      const elem_t A[dim_I][dim_K], const elem_t B[dim_K][dim_J],
                                      const void *D, elem_t C[dim_I][dim_J], int act,
                                      acc_scale_t scale, bool repeating_bias,
                                      enum tiled_matmul_type_t tiled_matmul_type, bool check,
                                      char *layer_name) {
  if (check) printf("%s: gemmini\n", layer_name);
  tiled_matmul_auto(dim_I, dim_J, dim_K, &A[0][0], &B[0][0], D, &C[0][0], dim_K, dim_J, dim_J,
                    dim_J, MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, act,
                    scale, 0, repeating_bias, false, false, false, false, 0, tiled_matmul_type);
  if (!check) return;
  printf("%s: CPU\n", layer_name);
  elem_t *gold = (elem_t *)malloc(dim_I * dim_J * sizeof(elem_t));
  if (gold == NULL) gemmini_fail("tiled_matmul_nn_auto: no memory for the CPU check");
  tiled_matmul_auto(dim_I, dim_J, dim_K, &A[0][0], &B[0][0], D, gold, dim_K, dim_J, dim_J, dim_J,
                    MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, act, scale, 0,
                    repeating_bias, false, false, false, false, 0, CPU);
  for (size_t i = 0; i < dim_I * dim_J; i++)
    if ((&C[0][0])[i] != gold[i]) {
      printf("Layer calculated incorrectly: %s\n", layer_name);
      exit(1);
    }
  free(gold);
}

#undef abs

#endif /* SRC_MAIN_C_GEMMINI_H */
