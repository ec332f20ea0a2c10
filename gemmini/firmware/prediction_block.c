/* The prediction block: see prediction_block.h for the format. */
#include "prediction_block.h"

#include <stdio.h>

void ivit_print_begin(size_t num_classes, size_t input_bytes)
{
    printf("IVIT-BEGIN version=%d classes=%lu input_bytes=%lu\n", IVIT_BLOCK_VERSION,
           (unsigned long)num_classes, (unsigned long)input_bytes);
}

void ivit_print_logits(const int64_t *logits, size_t num_classes)
{
    for (size_t first = 0; first < num_classes; first += IVIT_LOGITS_PER_LINE) {
        printf("IVIT-LOGITS %lu", (unsigned long)first);
        for (size_t c = first; c < num_classes && c < first + IVIT_LOGITS_PER_LINE; c++)
            printf(" %lld", (long long)logits[c]);
        putchar('\n');
    }
}

/* Whether class a ranks before class b: larger logit first, then lower class index. */
static int ranks_before(const int64_t *logits, size_t a, size_t b)
{
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
}

void ivit_print_topk(const int64_t *logits, size_t num_classes, size_t k)
{
    size_t chosen[IVIT_TOPK];
    if (k > IVIT_TOPK)
        k = IVIT_TOPK;
    if (k > num_classes)
        k = num_classes;
    printf("Top-%lu Predictions:\n", (unsigned long)k);
    for (size_t rank = 0; rank < k; rank++) {
        size_t best = num_classes;
        for (size_t c = 0; c < num_classes; c++) {
            int taken = 0;
            for (size_t r = 0; r < rank; r++)
                taken |= chosen[r] == c;
            if (!taken && (best == num_classes || ranks_before(logits, c, best)))
                best = c;
        }
        chosen[rank] = best;
        printf("  %lu. Class %lu\n", (unsigned long)(rank + 1), (unsigned long)best);
    }
}

void ivit_print_step(size_t index, const ivit_step_counter_t *step)
{
    printf("IVIT-STEP %lu kind=%s cycles=%llu instret=%llu name=%s\n", (unsigned long)index,
           step->kind, (unsigned long long)step->cycles, (unsigned long long)step->instret,
           step->name);
}

void ivit_print_counter(const ivit_kernel_counter_t *counter)
{
    printf("IVIT-COUNTER kind=%s calls=%llu cycles=%llu instret=%llu\n", counter->kind,
           (unsigned long long)counter->calls, (unsigned long long)counter->cycles,
           (unsigned long long)counter->instret);
}

void ivit_print_end(size_t num_classes)
{
    printf("IVIT-END logits=%lu\n", (unsigned long)num_classes);
}
