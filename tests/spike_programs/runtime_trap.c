/* Traps on purpose: an illegal instruction, or a load from unmapped memory (-DLOAD_FAULT). */
#include <stdint.h>
#include <stdio.h>

int main(void)
{
    printf("about to trap");
#ifdef LOAD_FAULT
    volatile uint64_t *bad = (volatile uint64_t *)0x40000000ull;
    return (int)*bad;
#else
    __asm__ volatile(".word 0xffffffff");
    return 0;
#endif
}
