/* A kernel whose dynamic instruction mix is known from its code (tests/test_core_cycles.py).
 *
 * mix_kernel(a, n, out) sums a[i]*a[i] over n > 0 elements. Written in assembly, uncompressed,
 * so the compiler cannot change it: per call 2 + 6n + 4 instructions retire after the first
 * minstret read (csrr, li, then n x {ld, mul, add, addi, addi, bne}, csrr, sub, sd, addi, jalr),
 * and *out receives minstret's own count of the instructions between the two reads. */
#include <stdio.h>

long mix_kernel(const long *a, long n, unsigned long *out);

__asm__(".option push\n"
        ".option norvc\n"
        ".globl mix_kernel\n"
        ".type mix_kernel, @function\n"
        "mix_kernel:\n"
        "  csrr t3, minstret\n"
        "  li t0, 0\n"
        "1:\n"
        "  ld t1, 0(a0)\n"      /* load ... */
        "  mul t2, t1, t1\n"    /* ... used at once: one load-use stall */
        "  add t0, t0, t2\n"    /* mul result used at once */
        "  addi a0, a0, 8\n"
        "  addi a1, a1, -1\n"
        "  bne a1, zero, 1b\n"  /* taken n-1 times */
        "  csrr t4, minstret\n"
        "  sub t4, t4, t3\n"
        "  sd t4, 0(a2)\n"
        "  addi a0, t0, 0\n"
        "  jalr zero, 0(ra)\n"
        ".size mix_kernel, .-mix_kernel\n"
        ".option pop\n");

#ifndef MIX_N
#define MIX_N 100
#endif

static long data[MIX_N];

int main(void)
{
    for (long i = 0; i < MIX_N; i++)
        data[i] = i;
    unsigned long between = 0;
    long sum = mix_kernel(data, MIX_N, &between);
    printf("MIX sum=%ld minstret=%lu\n", sum, between);
    return 0;
}
