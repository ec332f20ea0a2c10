/* A bare-metal program in the style of upstream gemmini-rocc-tests (bareMetalC/mvin_mvout.c,
 * matmul_ws.c, tiled_matmul_ws.c, conv.c): upstream's include paths, macros, argument lists and
 * helpers, self-checking, "PASS" or "FAIL <what>" and a non-zero exit on failure. It proves a
 * program written against upstream's header compiles against ours unchanged and computes the
 * same results on Gemmini as on the core. Build with -I gemmini -I gemmini/include -I gemmini/isa.
 */
#include <stdint.h>
#include <stddef.h>
#include <assert.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#ifndef BAREMETAL
#define BAREMETAL 1
#endif
#include "include/gemmini_testutils.h"

#define N 4
#define MAT_DIM_I 63
#define MAT_DIM_J 45
#define MAT_DIM_K 100
#define NO_BIAS 0
#define FULL_BIAS_WIDTH 1

#define BATCH_SIZE 2
#define IN_DIM 9
#define IN_CHANNELS 17
#define OUT_CHANNELS 20
#define KERNEL_DIM 3
#define PADDING 1
#define STRIDE 2
#define OUT_DIM ((IN_DIM + 2 * PADDING - KERNEL_DIM) / STRIDE + 1)

static int fail(const char *what) {
  printf("FAIL %s\n", what);
  exit(1);
}

static void test_mvin_mvout(void) {
  static elem_t In[N][DIM][DIM] row_align(1);
  static elem_t Out[N][DIM][DIM] row_align(1);
  for (size_t n = 0; n < N; ++n)
    for (size_t i = 0; i < DIM; ++i)
      for (size_t j = 0; j < DIM; ++j) In[n][i][j] = (elem_t)(rand() % 256 - 128);
  gemmini_config_ld(DIM * sizeof(elem_t));
  gemmini_config_st(DIM * sizeof(elem_t));
  for (size_t n = 0; n < N; ++n) {
    gemmini_mvin(In[n], n * DIM);
    gemmini_mvout(Out[n], n * DIM);
  }
  gemmini_fence();
  for (size_t n = 0; n < N; ++n)
    if (!is_equal(In[n], Out[n])) fail("mvin_mvout");
}

static void test_matmul_ws(void) {
  static elem_t A[DIM][DIM] row_align(1), B[DIM][DIM] row_align(1), D[DIM][DIM] row_align(1);
  static elem_t C[DIM][DIM] row_align(1), gold[DIM][DIM];
  static full_t gold_full[DIM][DIM];
  for (size_t i = 0; i < DIM; ++i)
    for (size_t j = 0; j < DIM; ++j) {
      A[i][j] = (elem_t)(rand() % 32 - 16);
      B[i][j] = (elem_t)(rand() % 32 - 16);
      D[i][j] = (elem_t)(rand() % 32 - 16);
    }
  matmul(A, B, D, gold_full);
  matscale(gold_full, gold, ACC_SCALE_IDENTITY);
  const uint32_t A_addr = 0, B_addr = DIM, D_addr = 2 * DIM;
  const uint32_t C_addr_acc = 1u << (ADDR_LEN - 1);
  gemmini_config_ex(WEIGHT_STATIONARY, NO_ACTIVATION, 0);
  gemmini_config_ld(DIM * sizeof(elem_t));
  gemmini_config_st(DIM * sizeof(elem_t));
  gemmini_mvin(A, A_addr);
  gemmini_mvin(B, B_addr);
  gemmini_mvin(D, D_addr);
  /* C = D (moved through the array with an identity) is not needed: preload B, compute A*B
   * into the accumulator, then add D*I by accumulating a second compute. */
  static elem_t I_mat[DIM][DIM] row_align(1);
  for (size_t i = 0; i < DIM; ++i) I_mat[i][i] = 1;
  const uint32_t I_addr = 3 * DIM;
  gemmini_mvin(I_mat, I_addr);
  gemmini_preload(B_addr, C_addr_acc);
  gemmini_compute_preloaded(A_addr, GARBAGE_ADDR);
  gemmini_preload(I_addr, C_addr_acc | (1u << (ADDR_LEN - 2)));
  gemmini_compute_preloaded(D_addr, GARBAGE_ADDR);
  gemmini_mvout(C, C_addr_acc);
  gemmini_fence();
  if (!is_equal(C, gold)) {
    printMatrix(C);
    fail("matmul_ws");
  }
}

static void test_tiled_matmul(void) {
  static elem_t full_A[MAT_DIM_I][MAT_DIM_K] row_align(1);
  static elem_t full_B[MAT_DIM_K][MAT_DIM_J] row_align(1);
  static elem_t full_C[MAT_DIM_I][MAT_DIM_J] row_align(1);
  static elem_t gold[MAT_DIM_I][MAT_DIM_J];
  static acc_t full_D[MAT_DIM_I][MAT_DIM_J] row_align_acc(1);
  for (size_t i = 0; i < MAT_DIM_I; ++i)
    for (size_t j = 0; j < MAT_DIM_K; ++j) full_A[i][j] = (elem_t)(rand() % 3 - 1);
  for (size_t i = 0; i < MAT_DIM_K; ++i)
    for (size_t j = 0; j < MAT_DIM_J; ++j) full_B[i][j] = (elem_t)(rand() % 3 - 1);
  for (size_t i = 0; i < MAT_DIM_I; ++i)
    for (size_t j = 0; j < MAT_DIM_J; ++j) full_D[i][j] = NO_BIAS ? 0 : rand() % 3 - 1;
  const enum tiled_matmul_type_t types[2] = {CPU, WS};
  for (int t = 0; t < 2; t++) {
    tiled_matmul_auto(MAT_DIM_I, MAT_DIM_J, MAT_DIM_K, (elem_t *)full_A, (elem_t *)full_B,
                      NO_BIAS ? NULL : &full_D[0][0], t == 0 ? (elem_t *)gold : (elem_t *)full_C,
                      MAT_DIM_K, MAT_DIM_J, MAT_DIM_J, MAT_DIM_J, MVIN_SCALE_IDENTITY,
                      MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, NO_ACTIVATION, ACC_SCALE_IDENTITY,
                      0, false, false, false, false, !FULL_BIAS_WIDTH, 0, types[t]);
  }
  gemmini_fence();
  if (!MAT_IS_EQUAL(MAT_DIM_I, MAT_DIM_J, full_C, gold)) fail("tiled_matmul_auto");
  /* Explicit tile factors (2 x 1 x 3 blocks of DIM) and the output-stationary dataflow. */
  const enum tiled_matmul_type_t dataflows[2] = {WS, OS};
  for (int t = 0; t < 2; t++) {
    for (size_t i = 0; i < sizeof(full_C); i++) ((elem_t *)full_C)[i] = 99;
    tiled_matmul(MAT_DIM_I, MAT_DIM_J, MAT_DIM_K, (elem_t *)full_A, (elem_t *)full_B,
                 &full_D[0][0], (elem_t *)full_C, MAT_DIM_K, MAT_DIM_J, MAT_DIM_J, MAT_DIM_J,
                 MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, NO_ACTIVATION,
                 ACC_SCALE_IDENTITY, 0, false, 2, 1, 3, false, false, false, false, 0,
                 dataflows[t]);
    gemmini_fence();
    if (!MAT_IS_EQUAL(MAT_DIM_I, MAT_DIM_J, full_C, gold)) fail("tiled_matmul");
  }
}

static void test_conv(void) {
  static elem_t input[BATCH_SIZE][IN_DIM][IN_DIM][IN_CHANNELS];
  static elem_t weights[KERNEL_DIM * KERNEL_DIM * IN_CHANNELS][OUT_CHANNELS];
  static acc_t bias[OUT_CHANNELS];
  static elem_t out_cpu[BATCH_SIZE * OUT_DIM * OUT_DIM][OUT_CHANNELS];
  static elem_t out_gemmini[BATCH_SIZE * OUT_DIM * OUT_DIM][OUT_CHANNELS];
  for (size_t i = 0; i < sizeof(input); i++) ((elem_t *)input)[i] = (elem_t)(rand() % 5 - 2);
  for (size_t i = 0; i < sizeof(weights); i++) ((elem_t *)weights)[i] = (elem_t)(rand() % 5 - 2);
  for (size_t i = 0; i < OUT_CHANNELS; i++) bias[i] = rand() % 5 - 2;
  const enum tiled_matmul_type_t types[2] = {CPU, WS};
  for (int t = 0; t < 2; t++) {
    tiled_conv_auto(BATCH_SIZE, IN_DIM, IN_DIM, IN_CHANNELS, OUT_CHANNELS, OUT_DIM, OUT_DIM,
                    STRIDE, 1, 1, PADDING, KERNEL_DIM, false, false, false, false, false,
                    (elem_t *)input, (elem_t *)weights, (acc_t *)bias,
                    t == 0 ? (elem_t *)out_cpu : (elem_t *)out_gemmini, RELU, ACC_SCALE_IDENTITY,
                    0, 0, 0, types[t]);
  }
  gemmini_fence();
  if (!MAT_IS_EQUAL(BATCH_SIZE * OUT_DIM * OUT_DIM, OUT_CHANNELS, out_gemmini, out_cpu))
    fail("tiled_conv_auto");
}

/* The kernels of upstream's gemmini.h / gemmini_nn.h beyond matmul and conv, called with
 * upstream's argument lists: Gemmini (WS) must equal the core (CPU). */
static void test_more_kernels(void) {
  enum { B = 2, IN = 8, CH = 16, K = 3, DW_OUT = (IN + 2 - K) / 2 + 1, DS_OUT = IN / 2 };
  static elem_t in[B][IN][IN][CH], dw_w[CH][K][K], ds_w[CH][CH];
  static acc_t bias[CH];
  static elem_t dw_out[2][B][DW_OUT][DW_OUT][CH], ds_out[2][B][DS_OUT][DS_OUT][CH];
  static elem_t avg[2][B][CH], res[2][IN][2 * CH];
  for (size_t i = 0; i < sizeof(in); i++) ((elem_t *)in)[i] = (elem_t)(rand() % 256 - 128);
  for (size_t i = 0; i < sizeof(dw_w); i++) ((elem_t *)dw_w)[i] = (elem_t)(rand() % 9 - 4);
  for (size_t i = 0; i < sizeof(ds_w); i++) ((elem_t *)ds_w)[i] = (elem_t)(rand() % 9 - 4);
  for (size_t i = 0; i < CH; i++) bias[i] = rand() % 101 - 50;
  const enum tiled_matmul_type_t types[2] = {CPU, WS};
  for (int t = 0; t < 2; t++) {
    tiled_conv_dw_auto(B, IN, IN, CH, DW_OUT, DW_OUT, 2, 1, K, (elem_t *)in, (elem_t *)dw_w,
                       (acc_t *)bias, (elem_t *)dw_out[t], RELU, 0.125, 0, 0, 0, types[t]);
    tiled_conv_downsample(B, IN, IN, CH, CH, DS_OUT, DS_OUT, CH, CH, CH, (elem_t *)in,
                          (elem_t *)ds_w, (acc_t *)bias, (elem_t *)ds_out[t], NO_ACTIVATION,
                          0.05, types[t]);
    tiled_global_average_auto((elem_t *)in, (elem_t *)avg[t], B, CH, IN, types[t]);
    /* rows of 2 * CH elements (two pixels), the first 12 columns of each added */
    tiled_resadd_stride_auto(IN, 12, 0.5, MVIN_SCALE_IDENTITY, ACC_SCALE_IDENTITY, 2 * CH,
                             (elem_t *)in[0], (elem_t *)in[1], (elem_t *)res[t], true, types[t]);
  }
  gemmini_fence();
  if (memcmp(dw_out[0], dw_out[1], sizeof(dw_out[0])) != 0) fail("tiled_conv_dw_auto");
  if (memcmp(ds_out[0], ds_out[1], sizeof(ds_out[0])) != 0) fail("tiled_conv_downsample");
  if (memcmp(avg[0], avg[1], sizeof(avg[0])) != 0) fail("tiled_global_average_auto");
  if (memcmp(res[0], res[1], sizeof(res[0])) != 0) fail("tiled_resadd_stride_auto");
  static elem_t nn_A[20][30], nn_B[30][17], nn_C[20][17];
  static acc_t nn_D[17];
  for (size_t i = 0; i < sizeof(nn_A); i++) ((elem_t *)nn_A)[i] = (elem_t)(rand() % 256 - 128);
  for (size_t i = 0; i < sizeof(nn_B); i++) ((elem_t *)nn_B)[i] = (elem_t)(rand() % 256 - 128);
  for (size_t i = 0; i < 17; i++) nn_D[i] = rand() % 2001 - 1000;
  /* check = true: the CPU result must be the same, or the program stops */
  tiled_matmul_nn_auto(20, 17, 30, nn_A, nn_B, nn_D, nn_C, RELU, 0.01, true, WS, true, "fc");
}

/* The reference helpers of upstream's gemmini_testutils.h agree with each other. */
static void test_testutils(void) {
  static elem_t A[DIM][DIM], B[DIM][DIM], D[DIM][DIM], At[DIM][DIM], Bt[DIM][DIM];
  static full_t F[DIM][DIM], gold[DIM][DIM], got[DIM][DIM], sum[DIM][DIM];
  static elem_t shifted[DIM][DIM], short_C[DIM][DIM];
  for (size_t i = 0; i < DIM; i++)
    for (size_t j = 0; j < DIM; j++) {
      A[i][j] = (elem_t)(rand() % 256 - 128);
      B[i][j] = (elem_t)(rand() % 256 - 128);
      D[i][j] = (elem_t)(rand() % 256 - 128);
      F[i][j] = rand() % 100001 - 50000;
    }
  transpose(A, At);
  transpose(B, Bt);
  matmul(At, Bt, D, gold);
  matmul_AB_transposed(A, B, D, got);
  if (memcmp(gold, got, sizeof(got)) != 0) fail("matmul_AB_transposed");
  matmul(At, B, D, gold);
  matmul_A_transposed(A, B, D, got);
  if (memcmp(gold, got, sizeof(got)) != 0) fail("matmul_A_transposed");
  matmul(A, Bt, D, gold);
  matmul_B_transposed(A, B, D, got);
  if (memcmp(gold, got, sizeof(got)) != 0) fail("matmul_B_transposed");
  matmul_full(At, B, F, gold);
  matmul_full_A_transposed(A, B, F, got);
  if (memcmp(gold, got, sizeof(got)) != 0) fail("matmul_full_A_transposed");
  matmul_full(At, Bt, F, gold);
  matmul_full_AB_transposed(A, B, F, got);
  if (memcmp(gold, got, sizeof(got)) != 0) fail("matmul_full_AB_transposed");
  matadd(sum, F, F);
  matshift(sum, shifted, 1); /* (2F) >> 1 = F exactly, then saturated */
  for (size_t i = 0; i < DIM; i++)
    for (size_t j = 0; j < DIM; j++)
      if (shifted[i][j] != (F[i][j] > 127 ? 127 : F[i][j] < -128 ? -128 : F[i][j]))
        fail("matadd / matshift");
  matmul_short(A, B, D, short_C);
  matmul(A, B, D, gold);
  for (size_t i = 0; i < DIM; i++)
    for (size_t j = 0; j < DIM; j++)
      if (short_C[i][j] != (elem_t)gold[i][j]) fail("matmul_short");
}

int main(void) {
  gemmini_flush(0);
  const uint64_t start = read_cycles();
  counter_reset();
  counter_configure(0, LOAD_ACTIVE_CYCLE);
  test_mvin_mvout();
  test_matmul_ws();
  test_tiled_matmul();
  test_conv();
  test_more_kernels();
  test_testutils();
  counter_snapshot_take();
  printf("counter0=%u cycles=%llu\n", counter_read(0), (unsigned long long)(read_cycles() - start));
  printf("PASS\n");
  exit(0);
}
