/* Upstream-style use of Gemmini's performance counters (gemmini_counter.h through gemmini.h):
 * reset, configure seven counters, one tiled_matmul_auto, snapshot, read. Prints
 * "CNT <code> <value>" per counter for the test to compare with the extension's stats JSON. */
#include <stdio.h>

#include "gemmini.h"

static elem_t A[64][64] row_align(1), B[64][64] row_align(1), C[64][64] row_align(1);

int main(void) {
  static const size_t codes[] = {LOAD_ACTIVE_CYCLE, EXE_ACTIVE_CYCLE, STORE_ACTIVE_CYCLE,
                                 RDMA_BYTES_REC, WDMA_BYTES_SENT, SCRATCHPAD_A_WAIT_CYCLE,
                                 LOAD_DMA_WAIT_CYCLE};
  const size_t n = sizeof codes / sizeof codes[0];
  counter_reset();
  for (size_t i = 0; i < n; i++) counter_configure(i, codes[i]);
  tiled_matmul_auto(64, 64, 64, &A[0][0], &B[0][0], NULL, &C[0][0], 64, 64, 64, 64,
                    MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, NO_ACTIVATION,
                    ACC_SCALE_IDENTITY, 0, false, false, false, false, false, 0, WS);
  counter_snapshot_take();
  for (size_t i = 0; i < n; i++) printf("CNT %u %u\n", (unsigned)codes[i], counter_read(i));
  counter_snapshot_reset();
  return 0;
}
