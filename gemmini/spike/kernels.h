// The hot loop, compiled with -O3 and an AVX2 clone picked at load time.
#pragma once

#include <cstddef>
#include <cstdint>

#include "gemmini_params.h"

namespace gemmini {

// out[i][j] += sum_{k < cols} a[i*a_stride + k] * b[k][j] for i < rows, j < DIM, with 32-bit
// wrap-around. Rows of `out` at or beyond `rows` are left alone (their A rows are zero).
void mac_tile(const int8_t* a, size_t a_stride, int rows, int cols, const int32_t b[DIM][DIM],
              int32_t out[DIM][DIM]);

}  // namespace gemmini
