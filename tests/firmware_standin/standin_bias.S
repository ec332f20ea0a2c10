/* TEST DOUBLE: the stand-in model's bias blob, linked like the real model's weights. */
    .section .rodata.standin_bias, "a"
    .balign 16
    .globl standin_bias
standin_bias:
    .incbin "standin_bias.bin"
