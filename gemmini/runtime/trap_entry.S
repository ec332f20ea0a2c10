/* Machine-mode trap vector: switch to a private stack (the trap may come from a broken
 * stack) and report the trap in C. Installed by ivit_install_trap_handler(). */
    .section .text.ivit_trap
    .balign 4
    .globl ivit_trap_entry
ivit_trap_entry:
    la sp, ivit_trap_stack_top
    call ivit_trap_report
1:  j 1b

    .bss
    .balign 16
ivit_trap_stack:
    .skip 8192
ivit_trap_stack_top:
