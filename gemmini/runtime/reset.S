/* The first instructions of every ELF (placed at 0x80000000 by ivit.ld, also the ELF entry).
 * Before anything touches the stack or memory:
 *   1. point mtvec at the trap reporter, so every fault prints one line instead of spinning
 *      (with mtvec still at its reset value a fault jumps to a bad address, faults again,
 *      forever);
 *   2. lock a PMP entry over the stack guard (no access, M-mode included), so a stack
 *      overflow traps; a core without PMP skips this step (its CSR write traps to 1:);
 *   3. read the last word of the memory the program was linked for (firmware.memory_mb): a
 *      machine with less memory faults here, and the trap reporter says so;
 * then continue in picolibc's crt0 (_start). */
    .section .text.ivit_reset, "ax"
    .globl ivit_reset
ivit_reset:
    /* The trap reporter's C code addresses small data through gp (linker relaxation). */
    .option push
    .option norelax
    la gp, __global_pointer$
    .option pop
    la t0, 1f
    csrw mtvec, t0
    la t0, __ivit_guard_start
    srli t0, t0, 2
    csrw pmpaddr0, t0
    la t0, __ivit_guard_end
    srli t0, t0, 2
    csrw pmpaddr1, t0
    /* pmp1cfg = L | A=TOR | no R/W/X (0x88): [pmpaddr0, pmpaddr1) denied; pmp0cfg = off. */
    li t0, 0x8800
    csrw pmpcfg0, t0
    .balign 4
1:  la t0, ivit_trap_entry
    csrw mtvec, t0
    la t0, __ivit_memory_end
    ld zero, -8(t0)
    j _start
