#include "kernels.h"

#include <cstring>

namespace gemmini {

// 8 int32 lanes (one AVX2 register), fewer only when the mesh itself is narrower (DIM 4).
constexpr int kLanes = DIM < 8 ? DIM : 8;
static_assert(DIM % kLanes == 0, "the kernel works on rows of kLanes-lane vectors");
typedef int32_t v8i __attribute__((vector_size(kLanes * sizeof(int32_t))));

// One kLanes-column strip at a time so the accumulator stays in a register.
__attribute__((target_clones("avx2", "default")))
void mac_tile(const int8_t* a, size_t a_stride, int rows, int cols, const int32_t b[DIM][DIM],
              int32_t out[DIM][DIM]) {
  for (int l = 0; l < DIM; l += kLanes) {
    for (int i = 0; i < rows; ++i) {
      v8i acc;
      std::memcpy(&acc, &out[i][l], sizeof acc);
      const int8_t* arow = a + i * a_stride;
      for (int k = 0; k < cols; ++k) {
        v8i bk;
        std::memcpy(&bk, &b[k][l], sizeof bk);
        acc += (v8i{} + static_cast<int32_t>(arow[k])) * bk;
      }
      std::memcpy(&out[i][l], &acc, sizeof acc);
    }
  }
}

}  // namespace gemmini
