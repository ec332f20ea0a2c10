/* Any trap (illegal instruction, access fault, ...) is fatal: print the machine trap CSRs in
 * one parseable line, for an access fault a second line saying what it means for the memory
 * layout of ivit.ld and which config key changes it, and exit non-zero (128 + mcause), without
 * the done marker. mtvec is set by ivit_reset (reset.S) before anything else runs. */
#include <stdint.h>
#include <stdio.h>

#include "htif.h"
#include "ivit_runtime.h"

/* Addresses from ivit.ld (symbols, not values: only their addresses mean something). */
extern char __ivit_memory_start[], __ivit_memory_end[];
extern char __ivit_guard_start[], __ivit_guard_end[], __stack[];

#define MCAUSE_FETCH_ACCESS 1
#define MCAUSE_LOAD_ACCESS 5
#define MCAUSE_STORE_ACCESS 7

static void explain_access_fault(uint64_t mtval)
{
    uintptr_t start = (uintptr_t)__ivit_memory_start, end = (uintptr_t)__ivit_memory_end;
    unsigned long long mib = (unsigned long long)(end - start) >> 20;
    if (mtval >= (uintptr_t)__ivit_guard_start && mtval < (uintptr_t)__ivit_guard_end) {
        printf(IVIT_TRAP_WHY_MARKER " stack overflow: the %llu KiB stack ran into the guard "
               "below it (or a buffer ran past the end of .bss): raise firmware.stack_kb\n",
               (unsigned long long)((uintptr_t)__stack - (uintptr_t)__ivit_guard_end) >> 10);
    } else if (mtval >= start && mtval < end) {
        printf(IVIT_TRAP_WHY_MARKER " 0x%llx lies in the %llu MiB the program was linked for "
               "(firmware.memory_mb) but the machine has no memory there: set "
               "firmware.memory_mb to the machine's memory size\n",
               (unsigned long long)mtval, mib);
    } else {
        printf(IVIT_TRAP_WHY_MARKER " 0x%llx is outside the program's memory 0x%llx..0x%llx "
               "(firmware.memory_mb = %llu): a heap or buffer overrun, or a bad pointer; "
               "raise firmware.memory_mb if the program needs more memory\n",
               (unsigned long long)mtval, (unsigned long long)start, (unsigned long long)end,
               mib);
    }
}

void ivit_trap_report(void) __attribute__((noreturn));

void ivit_trap_report(void)
{
    uint64_t mcause, mepc, mtval;
    __asm__ volatile("csrr %0, mcause" : "=r"(mcause));
    __asm__ volatile("csrr %0, mepc" : "=r"(mepc));
    __asm__ volatile("csrr %0, mtval" : "=r"(mtval));
    if (!ivit_console_at_line_start())
        putchar('\n');
    printf(IVIT_TRAP_MARKER " mcause=0x%llx mepc=0x%llx mtval=0x%llx\n",
           (unsigned long long)mcause, (unsigned long long)mepc, (unsigned long long)mtval);
    if (mcause == MCAUSE_FETCH_ACCESS || mcause == MCAUSE_LOAD_ACCESS ||
        mcause == MCAUSE_STORE_ACCESS)
        explain_access_fault(mtval);
    ivit_console_flush();
    htif_exit(128 + (int)(mcause & 0x7f));
}
