/* Firmware main: run the linked model on the linked int8 input and print the prediction block.
 *
 * The input bytes come from input.S (.incbin of results/inputs/<image>.bin), so one model
 * library serves every image: a new image only re-links. IVIT_NUM_CLASSES and IVIT_INPUT_BYTES
 * are given on the compiler command line from the archive's metadata.
 */
#include <stdint.h>
#include <stdio.h>

#include "counters.h"
#include "ivit_firmware.h"
#include "prediction_block.h"

#ifndef IVIT_NUM_CLASSES
#error "IVIT_NUM_CLASSES must be defined (-DIVIT_NUM_CLASSES=<classes>)"
#endif
#ifndef IVIT_INPUT_BYTES
#error "IVIT_INPUT_BYTES must be defined (-DIVIT_INPUT_BYTES=<bytes>)"
#endif

extern const int8_t ivit_input[];
extern const int8_t ivit_input_end[];

static int64_t logits[IVIT_NUM_CLASSES];

int main(void)
{
    size_t input_bytes = (size_t)(ivit_input_end - ivit_input);
    if (input_bytes != IVIT_INPUT_BYTES) {
        printf("IVIT-ERROR the linked input has %lu bytes but the model expects %lu: "
               "re-quantize the image with this model's params\n",
               (unsigned long)input_bytes, (unsigned long)IVIT_INPUT_BYTES);
        return 2;
    }

    uint64_t cycles0 = ivit_read_cycles();
    uint64_t instret0 = ivit_read_instret();
    int status = ivit_model_run(ivit_input, logits);
    uint64_t cycles1 = ivit_read_cycles();
    uint64_t instret1 = ivit_read_instret();
    if (status != 0) {
        printf("IVIT-ERROR the model returned status %d\n", status);
        return 3;
    }

    ivit_print_begin(IVIT_NUM_CLASSES, IVIT_INPUT_BYTES);
    ivit_print_logits(logits, IVIT_NUM_CLASSES);
    ivit_print_topk(logits, IVIT_NUM_CLASSES, IVIT_TOPK);
    const ivit_step_counter_t *steps = NULL;
    size_t n_steps = ivit_model_step_counters(&steps);
    for (size_t i = 0; i < n_steps; i++)
        ivit_print_step(i, &steps[i]);
    const ivit_kernel_counter_t *kinds = NULL;
    size_t n_kinds = ivit_model_counters(&kinds);
    for (size_t i = 0; i < n_kinds; i++)
        ivit_print_counter(&kinds[i]);
    ivit_kernel_counter_t total = {"total", 1, cycles1 - cycles0, instret1 - instret0};
    ivit_print_counter(&total);
    ivit_print_end(IVIT_NUM_CLASSES);
    return 0;
}
