/* Cycle and retired-instruction counters (machine mode; in Spike cycle == instret). */
#ifndef IVIT_COUNTERS_H
#define IVIT_COUNTERS_H

#include <stdint.h>

static inline uint64_t ivit_read_cycles(void)
{
    uint64_t value;
    __asm__ volatile("csrr %0, mcycle" : "=r"(value));
    return value;
}

static inline uint64_t ivit_read_instret(void)
{
    uint64_t value;
    __asm__ volatile("csrr %0, minstret" : "=r"(value));
    return value;
}

#endif
