/* Times tiled_matmul_auto calls on the Spike timing model (ivit_gemmini.gemmini.cycles builds
 * it per request). CYCLES_CALLS is a list of {I, K, J, dataflow, bias, act} rows; each call ends
 * with the fence inside tiled_matmul_auto, so the extension's stats JSON has one modelled segment
 * per call. The operands are left as zeros: the timing model does not depend on values. */
#include <stdint.h>
#include <stdio.h>

#include "gemmini.h"

#ifndef CYCLES_CALLS
#error "define CYCLES_CALLS as {{I, K, J, dataflow, bias, act}, ...}"
#endif
#ifndef CYCLES_ARENA_BYTES
#error "define CYCLES_ARENA_BYTES (the largest call's A + B + D + C bytes)"
#endif

static const size_t calls[][6] = CYCLES_CALLS;
static uint8_t arena[CYCLES_ARENA_BYTES] __attribute__((aligned(64)));

int main(void) {
  for (size_t n = 0; n < sizeof calls / sizeof calls[0]; n++) {
    const size_t I = calls[n][0], K = calls[n][1], J = calls[n][2];
    const elem_t *A = (const elem_t *)arena;
    const elem_t *B = A + I * K;
    acc_t *D = (acc_t *)(arena + ((I * K + K * J + 63) & ~(size_t)63));
    elem_t *C = (elem_t *)(D + I * J);
    tiled_matmul_auto(I, J, K, A, B, calls[n][4] ? D : NULL, C, K, J, J, J, MVIN_SCALE_IDENTITY,
                      MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, (int)calls[n][5],
                      ACC_SCALE_IDENTITY, 0, false, false, false, false, false, 0,
                      calls[n][3] ? WS : OS);
  }
  printf("CYCLES-DONE %u\n", (unsigned)(sizeof calls / sizeof calls[0]));
  return 0;
}
