/* Helpers of upstream's include/gemmini_testutils.h that bare-metal test programs use
 * (reference matmuls on DIM x DIM tiles, scaling, comparison, printing, rand, read_cycles),
 * so such programs compile against this folder unchanged. Written for int8/int32 only. */
#ifndef SRC_MAIN_C_GEMMINI_TESTUTILS_H
#define SRC_MAIN_C_GEMMINI_TESTUTILS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "gemmini.h"

#ifdef BAREMETAL
#undef assert
#define assert(expr)                                                                          \
  if (!(expr)) {                                                                              \
    printf("Failed assertion: " #expr "\n  " __FILE__ ":%u\n", __LINE__);                     \
    exit(1);                                                                                  \
  }
#endif

#define GEMMINI_TU static __attribute__((unused))

/* C_full = A * B + D on one tile, in 64 bits (upstream's reference). */
GEMMINI_TU void matmul(elem_t A[DIM][DIM], elem_t B[DIM][DIM], elem_t D[DIM][DIM],
                       full_t C_full[DIM][DIM]) {
  for (size_t r = 0; r < DIM; r++)
    for (size_t c = 0; c < DIM; c++) {
      full_t sum = D[r][c];
      for (size_t k = 0; k < DIM; k++) sum += (full_t)A[r][k] * B[k][c];
      C_full[r][c] = sum;
    }
}

GEMMINI_TU void matmul_full(elem_t A[DIM][DIM], elem_t B[DIM][DIM], full_t D[DIM][DIM],
                            full_t C_full[DIM][DIM]) {
  for (size_t r = 0; r < DIM; r++)
    for (size_t c = 0; c < DIM; c++) {
      full_t sum = D[r][c];
      for (size_t k = 0; k < DIM; k++) sum += (full_t)A[r][k] * B[k][c];
      C_full[r][c] = sum;
    }
}

/* The same on int8: C = D + A * B wrapping modulo 256 as upstream's elem_t accumulation does. */
GEMMINI_TU void matmul_short(elem_t A[DIM][DIM], elem_t B[DIM][DIM], elem_t D[DIM][DIM],
                             elem_t C[DIM][DIM]) {
  for (size_t r = 0; r < DIM; r++)
    for (size_t c = 0; c < DIM; c++) {
      uint32_t sum = (uint32_t)D[r][c];
      for (size_t k = 0; k < DIM; k++) sum += (uint32_t)((int32_t)A[r][k] * B[k][c]);
      C[r][c] = (elem_t)sum;
    }
}

/* Transposed variants (upstream's names): A_transposed uses A[k][r], B_transposed uses B[c][k];
 * `full` takes a 64-bit D, `short` accumulates in elem_t. One generic loop behind them. */
static inline full_t gemmini_tu_dot(elem_t A[DIM][DIM], elem_t B[DIM][DIM], size_t r, size_t c,
                                    bool tA, bool tB) {
  full_t sum = 0;
  for (size_t k = 0; k < DIM; k++)
    sum += (full_t)(tA ? A[k][r] : A[r][k]) * (tB ? B[c][k] : B[k][c]);
  return sum;
}
#define GEMMINI_TU_MATMUL(name, d_t, c_t, tA, tB)                                             \
  GEMMINI_TU void name(elem_t A[DIM][DIM], elem_t B[DIM][DIM], d_t D[DIM][DIM],               \
                       c_t C[DIM][DIM]) {                                                     \
    for (size_t r = 0; r < DIM; r++)                                                          \
      for (size_t c = 0; c < DIM; c++)                                                        \
        C[r][c] = (c_t)((full_t)D[r][c] + gemmini_tu_dot(A, B, r, c, tA, tB));               \
  }
GEMMINI_TU_MATMUL(matmul_A_transposed, elem_t, full_t, true, false)
GEMMINI_TU_MATMUL(matmul_short_A_transposed, elem_t, elem_t, true, false)
GEMMINI_TU_MATMUL(matmul_full_A_transposed, full_t, full_t, true, false)
GEMMINI_TU_MATMUL(matmul_B_transposed, elem_t, full_t, false, true)
GEMMINI_TU_MATMUL(matmul_short_B_transposed, elem_t, elem_t, false, true)
GEMMINI_TU_MATMUL(matmul_full_B_transposed, full_t, full_t, false, true)
GEMMINI_TU_MATMUL(matmul_AB_transposed, elem_t, full_t, true, true)
GEMMINI_TU_MATMUL(matmul_short_AB_transposed, elem_t, elem_t, true, true)
GEMMINI_TU_MATMUL(matmul_full_AB_transposed, full_t, full_t, true, true)
#undef GEMMINI_TU_MATMUL

GEMMINI_TU void matadd(full_t sum[DIM][DIM], full_t m1[DIM][DIM], full_t m2[DIM][DIM]) {
  for (size_t r = 0; r < DIM; r++)
    for (size_t c = 0; c < DIM; c++) sum[r][c] = m1[r][c] + m2[r][c];
}

/* Rounding right shift (half to even, as the OS mesh output), then saturate to elem_t. */
GEMMINI_TU void matshift(full_t full[DIM][DIM], elem_t out[DIM][DIM], int shift) {
  for (size_t r = 0; r < DIM; r++)
    for (size_t c = 0; c < DIM; c++) {
      const full_t y = ROUNDING_RIGHT_SHIFT(full[r][c], shift);
      out[r][c] = y > elem_t_max ? elem_t_max : (y < elem_t_min ? elem_t_min : (elem_t)y);
    }
}

/* Scale each element down to elem_t as the accumulator's mvout does. */
GEMMINI_TU void matscale(full_t full[DIM][DIM], elem_t out[DIM][DIM], acc_scale_t scale) {
  for (size_t r = 0; r < DIM; r++)
    for (size_t c = 0; c < DIM; c++) {
      const full_t y = ACC_SCALE(full[r][c], scale);
      out[r][c] = y > elem_t_max ? elem_t_max : (y < elem_t_min ? elem_t_min : (elem_t)y);
    }
}

GEMMINI_TU void matrelu(elem_t in[DIM][DIM], elem_t out[DIM][DIM]) {
  for (size_t r = 0; r < DIM; r++)
    for (size_t c = 0; c < DIM; c++) out[r][c] = in[r][c] > 0 ? in[r][c] : 0;
}

/* ReLU6 with 6 expressed in the caller's fixed-point scale. */
GEMMINI_TU void matrelu6(elem_t in[DIM][DIM], elem_t out[DIM][DIM], int scale) {
  const int max = 6 * scale;
  for (size_t r = 0; r < DIM; r++)
    for (size_t c = 0; c < DIM; c++) {
      const int positive = in[r][c] > 0 ? in[r][c] : 0;
      out[r][c] = (elem_t)(positive > max ? max : positive);
    }
}

GEMMINI_TU void transpose(elem_t in[DIM][DIM], elem_t out[DIM][DIM]) {
  for (size_t r = 0; r < DIM; r++)
    for (size_t c = 0; c < DIM; c++) out[c][r] = in[r][c];
}

/* A small deterministic generator replacing libc's rand, as upstream's does (weak: a program
 * may still define its own). */
__attribute__((weak)) int rand(void) {
  static uint32_t state = 777;
  state = state * 1664525u + 1013904223u;
  return (int)(state >> 24);
}

GEMMINI_TU void printMatrix(elem_t m[DIM][DIM]) {
  for (size_t i = 0; i < DIM; ++i) {
    for (size_t j = 0; j < DIM; ++j) printf("%d ", m[i][j]);
    printf("\n");
  }
}

GEMMINI_TU void printMatrixAcc(acc_t m[DIM][DIM]) {
  for (size_t i = 0; i < DIM; ++i) {
    for (size_t j = 0; j < DIM; ++j) printf("%d ", (int)m[i][j]);
    printf("\n");
  }
}

GEMMINI_TU int is_equal(elem_t x[DIM][DIM], elem_t y[DIM][DIM]) {
  for (size_t i = 0; i < DIM; ++i)
    for (size_t j = 0; j < DIM; ++j)
      if (x[i][j] != y[i][j]) return 0;
  return 1;
}

GEMMINI_TU int is_equal_transposed(elem_t x[DIM][DIM], elem_t y[DIM][DIM]) {
  for (size_t i = 0; i < DIM; ++i)
    for (size_t j = 0; j < DIM; ++j)
      if (x[i][j] != y[j][i]) return 0;
  return 1;
}

/* 1 when the first dim_i x dim_j elements of two 2-D arrays are equal (GNU statement expr). */
#define MAT_IS_EQUAL(dim_i, dim_j, x, y)                                                      \
  ({                                                                                          \
    int mat_equal_ = 1;                                                                       \
    for (size_t i_ = 0; i_ < (dim_i) && mat_equal_; i_++)                                     \
      for (size_t j_ = 0; j_ < (dim_j); ++j_)                                                 \
        if ((x)[i_][j_] != (y)[i_][j_]) {                                                     \
          mat_equal_ = 0;                                                                     \
          break;                                                                              \
        }                                                                                     \
    mat_equal_;                                                                               \
  })

/* Cycles since reset. Upstream reads `cycle` (rdcycle), which Spike only allows with Zicntr;
 * our bare-metal programs run in machine mode, where `mcycle` is always there. */
GEMMINI_TU uint64_t read_cycles(void) {
  uint64_t cycles;
  asm volatile("csrr %0, mcycle" : "=r"(cycles));
  return cycles;
}

#endif /* SRC_MAIN_C_GEMMINI_TESTUTILS_H */
