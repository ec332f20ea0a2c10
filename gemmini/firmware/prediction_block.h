/* Printing the machine-readable prediction block that ivit_gemmini.simulate.prediction_log
 * parses (Spike or Verilator stdout). Format, one item a line:
 *
 *   IVIT-BEGIN version=1 classes=<K> input_bytes=<n>
 *   IVIT-LOGITS <first index> <logit> <logit> ...     (up to 8 a line, in class order)
 *   Top-5 Predictions:
 *     1. Class <c>                                   (ranked: logit descending, then class)
 *   IVIT-STEP <i> kind=<gemmini|core> cycles=<n> instret=<n> name=<kernel>   (per step, if any)
 *   IVIT-COUNTER kind=<gemmini|core|total> calls=<n> cycles=<n> instret=<n>
 *   IVIT-END logits=<K>
 *
 * followed by the runtime's "IVIT-DONE status=0". An error is one "IVIT-ERROR <message>" line.
 */
#ifndef IVIT_PREDICTION_BLOCK_H
#define IVIT_PREDICTION_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "ivit_firmware.h"

#define IVIT_BLOCK_VERSION 1
#define IVIT_LOGITS_PER_LINE 8
#define IVIT_TOPK 5

void ivit_print_begin(size_t num_classes, size_t input_bytes);
void ivit_print_logits(const int64_t *logits, size_t num_classes);
void ivit_print_topk(const int64_t *logits, size_t num_classes, size_t k);
void ivit_print_step(size_t index, const ivit_step_counter_t *step);
void ivit_print_counter(const ivit_kernel_counter_t *counter);
void ivit_print_end(size_t num_classes);

#endif
