/* Host program: the tile gemmini.h's tiled_matmul_auto picks (WS) for each "I J K" line on
 * stdin, printed as "tI tJ tK". Compiled on the host against a generated gemmini_params.h
 * (tests/test_sweep_configs.py): the header's own tiler, as the golden of sweep/configs.py. */
#include <stdio.h>
#include "gemmini.h"
int main(void) {
  size_t I, J, K;
  while (scanf("%zu %zu %zu", &I, &J, &K) == 3) {
    struct gemmini_matmul m = {0};
    m.I = I; m.J = J; m.K = K;
    struct gemmini_matmul_tile t = gemmini_matmul_pick_tile(&m, WS);
    printf("%zu %zu %zu\n", t.I, t.J, t.K);
  }
  return 0;
}
