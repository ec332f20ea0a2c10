/* The C side of the Gemmini offload: functions the TVM-generated kernels call (T.call_extern).
 *
 * Prototypes match what TVM 0.27's C codegen declares for the extern call (int32_t scalars,
 * typed pointers); they are not static so that TVM's own prototype does not clash.
 */
#ifndef IVIT_GEMMINI_OPS_H_
#define IVIT_GEMMINI_OPS_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* C[i*ldc + j] = sum_k A[i*lda + k] * B[k*ldb + j] for i < M, j < N: full int32 results, no
 * bias, no scaling, no activation. Returns 0. Built with IVIT_GEMMINI_HOST_REF it is plain C
 * (the host reference); otherwise it runs on Gemmini via tiled_matmul_auto (WS dataflow). */
int32_t ivit_gemmini_matmul(int32_t M, int32_t N, int32_t K, int8_t *A, int8_t *B, int32_t *C,
                            int32_t lda, int32_t ldb, int32_t ldc);

/* The same plus an int32 bias row: C[i*ldc + j] = sum_k A[i*lda + k] * B[k*ldb + j] + D[j]
 * (Gemmini adds D in its accumulator; exact in int32 where the specification bounds it). */
int32_t ivit_gemmini_matmul_bias(int32_t M, int32_t N, int32_t K, int8_t *A, int8_t *B,
                                 int32_t *D, int32_t *C, int32_t lda, int32_t ldb, int32_t ldc);

#ifdef __cplusplus
}
#endif

#endif /* IVIT_GEMMINI_OPS_H_ */
