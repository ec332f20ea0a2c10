/* Gemmini wrappers called by the generated kernels (see ivit_gemmini_ops.h). */
#include "ivit_gemmini_ops.h"

#ifdef IVIT_GEMMINI_HOST_REF

/* Plain-C reference: the same integers as Gemmini's int8 x int8 -> int32 accumulation. */
int32_t ivit_gemmini_matmul(int32_t M, int32_t N, int32_t K, int8_t *A, int8_t *B, int32_t *C,
                            int32_t lda, int32_t ldb, int32_t ldc) {
  for (int32_t i = 0; i < M; ++i) {
    for (int32_t j = 0; j < N; ++j) C[(int64_t)i * ldc + j] = 0;
    for (int32_t k = 0; k < K; ++k) {
      const int32_t a = A[(int64_t)i * lda + k];
      const int8_t *b = B + (int64_t)k * ldb;
      int32_t *c = C + (int64_t)i * ldc;
      for (int32_t j = 0; j < N; ++j) c[j] += a * (int32_t)b[j];
    }
  }
  return 0;
}

int32_t ivit_gemmini_matmul_bias(int32_t M, int32_t N, int32_t K, int8_t *A, int8_t *B,
                                 int32_t *D, int32_t *C, int32_t lda, int32_t ldb, int32_t ldc) {
  ivit_gemmini_matmul(M, N, K, A, B, C, lda, ldb, ldc);
  for (int32_t i = 0; i < M; ++i)
    for (int32_t j = 0; j < N; ++j) C[(int64_t)i * ldc + j] += D[j];
  return 0;
}

#else

#include <stdbool.h>
#include <stddef.h>

#include "gemmini.h"

int32_t ivit_gemmini_matmul(int32_t M, int32_t N, int32_t K, int8_t *A, int8_t *B, int32_t *C,
                            int32_t lda, int32_t ldb, int32_t ldc) {
  /* D = NULL: no bias; full_C: raw int32 accumulators are moved out, the core requantizes. */
  tiled_matmul_auto((size_t)M, (size_t)N, (size_t)K, (const elem_t *)A, (const elem_t *)B, NULL,
                    (void *)C, (size_t)lda, (size_t)ldb, (size_t)ldc, (size_t)ldc,
                    MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, NO_ACTIVATION,
                    ACC_SCALE_IDENTITY, 0, false, false, false, true, false, 0, WS);
  gemmini_fence();
  return 0;
}

int32_t ivit_gemmini_matmul_bias(int32_t M, int32_t N, int32_t K, int8_t *A, int8_t *B,
                                 int32_t *D, int32_t *C, int32_t lda, int32_t ldb, int32_t ldc) {
  /* D: one int32 row repeated over the M rows (repeating_bias), moved into the accumulator
   * unscaled (int32 mvin, MVIN_SCALE_IDENTITY); the sum is acc = A @ B + D exactly. */
  tiled_matmul_auto((size_t)M, (size_t)N, (size_t)K, (const elem_t *)A, (const elem_t *)B,
                    (const void *)D, (void *)C, (size_t)lda, (size_t)ldb, 0, (size_t)ldc,
                    MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, NO_ACTIVATION,
                    ACC_SCALE_IDENTITY, 0, true, false, false, true, false, 0, WS);
  gemmini_fence();
  return 0;
}

#endif
