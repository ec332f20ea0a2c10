/* TEST DOUBLE — not the DeiT model. A tiny integer "model" with the firmware's entry point
 * (gemmini/firmware/ivit_firmware.h), so the ELF build, the Spike run and the log parser are tested
 * end to end without the compiler stage. Python recomputes the same integers with numpy:
 *
 *   w[c][i]   = ((i * 31 + c * 17) % 255) - 127         (int8 range)
 *   logit[c]  = sum_i input[i] * w[c][i] * 4096 + bias[c]     (int64: exercises 64-bit printing)
 *   bias[c]   = the int32 little-endian blob standin_bias.bin (linked with .incbin)
 *
 * Failure modes for the tests: -DSTANDIN_TRAP=1 executes an illegal instruction,
 * -DSTANDIN_HANG=1 never returns, -DSTANDIN_FAIL=1 returns a non-zero status,
 * -DSTANDIN_HANG_ON_FLAT=1 never returns for an input whose first channel is one value (a
 * one-colour picture), so one image of a shard can time out while the others succeed.
 */
#include <stdint.h>

#include "counters.h"
#include "ivit_firmware.h"
#include "standin_config.h"

extern const int32_t standin_bias[];

static ivit_kernel_counter_t kinds[2] = {{"gemmini", 0, 0, 0}, {"core", 0, 0, 0}};

int ivit_model_run(const int8_t *input, int64_t *logits)
{
    uint64_t c0 = ivit_read_cycles(), i0 = ivit_read_instret();
#if defined(STANDIN_TRAP) && STANDIN_TRAP
    __asm__ volatile(".word 0"); /* an all-zero word is an illegal instruction */
#endif
#if defined(STANDIN_HANG) && STANDIN_HANG
    for (volatile int spin = 0;; spin++) {
    }
#endif
#if defined(STANDIN_HANG_ON_FLAT) && STANDIN_HANG_ON_FLAT
    int flat = 1;
    for (int i = 1; i < STANDIN_INPUT_BYTES / 3; i++)
        flat &= input[i] == input[0];
    while (flat) {
        __asm__ volatile("");
    }
#endif
#if defined(STANDIN_FAIL) && STANDIN_FAIL
    return 7;
#endif
    for (int c = 0; c < STANDIN_CLASSES; c++) {
        int64_t acc = 0;
        for (int i = 0; i < STANDIN_INPUT_BYTES; i++)
            acc += (int64_t)input[i] * (((i * 31 + c * 17) % 255) - 127);
        logits[c] = acc * 4096 + standin_bias[c];
    }
    kinds[1].calls += 1;
    kinds[1].cycles += ivit_read_cycles() - c0;
    kinds[1].instret += ivit_read_instret() - i0;
    return 0;
}

size_t ivit_model_counters(const ivit_kernel_counter_t **counters)
{
    *counters = kinds;
    return 2;
}

/* One step, so the per-step lines of the prediction block are exercised too. */
size_t ivit_model_step_counters(const ivit_step_counter_t **steps)
{
    static ivit_step_counter_t step = {"standin_dense", "core", 0, 0};
    step.cycles = kinds[1].cycles;
    step.instret = kinds[1].instret;
    *steps = &step;
    return 1;
}
