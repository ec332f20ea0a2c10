/* Runtime smoke test: console (integers, floats), a large static buffer, the counters. */
#include <stdio.h>
#include <string.h>

#include "counters.h"

static unsigned char big[8 << 20]; /* 8 MiB of .bss (crt0 zeroes it: about 0.2 s of Spike) */

int main(void)
{
    memset(big, 7, sizeof big / 1024);
    volatile char stack_probe[256 << 10]; /* 256 KiB on the stack */
    stack_probe[0] = 1;
    stack_probe[sizeof stack_probe - 1] = 2;
    const unsigned long long c0 = ivit_read_cycles();
    printf("hello %d %.3f %d\n", 42, 1.5, big[100] + stack_probe[0] + stack_probe[sizeof stack_probe - 1]);
    printf("cycles-advanced %d\n", ivit_read_cycles() > c0);
    return 0;
}
