/* Glue between the compile stage's model library (its generated ivit_model.h, built with
 * -DIVIT_COUNTERS) and the firmware's counter contract (ivit_firmware.h). Compiled into
 * libmodel.a by ivit_gemmini.firmware.elf for archives of format ivit-gemmini-mlf/1. */
#include "ivit_firmware.h"
#include "ivit_model.h"

static const char *kind_name(uint8_t kind)
{
    return kind == IVIT_KIND_GEMMINI ? "gemmini" : "core";
}

size_t ivit_model_counters(const ivit_kernel_counter_t **counters)
{
    static ivit_kernel_counter_t kinds[2];
    const uint8_t order[2] = {IVIT_KIND_GEMMINI, IVIT_KIND_CORE};
    for (int i = 0; i < 2; i++) {
        uint64_t calls = 0;
        for (int s = 0; s < IVIT_MODEL_NUM_STEPS; s++)
            calls += ivit_step_kinds[s] == order[i];
        kinds[i].kind = kind_name(order[i]);
        kinds[i].calls = calls;
        kinds[i].cycles = ivit_kind_counters[order[i]].cycles;
        kinds[i].instret = ivit_kind_counters[order[i]].instret;
    }
    *counters = kinds;
    return 2;
}

size_t ivit_model_step_counters(const ivit_step_counter_t **steps)
{
    static ivit_step_counter_t all[IVIT_MODEL_NUM_STEPS];
    for (int s = 0; s < IVIT_MODEL_NUM_STEPS; s++) {
        all[s].name = ivit_step_names[s];
        all[s].kind = kind_name(ivit_step_kinds[s]);
        all[s].cycles = ivit_step_counters[s].cycles;
        all[s].instret = ivit_step_counters[s].instret;
    }
    *steps = all;
    return IVIT_MODEL_NUM_STEPS;
}
