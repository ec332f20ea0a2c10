/* Any trap (illegal instruction, access fault, ...) is fatal: print the machine trap CSRs in
 * one parseable line and exit non-zero (128 + mcause), without the done marker. */
#include <stdint.h>
#include <stdio.h>

#include "htif.h"
#include "ivit_runtime.h"

extern void ivit_trap_entry(void);

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
    ivit_console_flush();
    htif_exit(128 + (int)(mcause & 0x7f));
}

/* Runs before main (constructor), so even a crash in main's first line is reported. */
__attribute__((constructor)) static void ivit_install_trap_handler(void)
{
    __asm__ volatile("csrw mtvec, %0" : : "r"((uintptr_t)&ivit_trap_entry));
}
