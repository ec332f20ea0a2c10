/* HTIF for Spike: ordinary 8-byte aligned .bss symbols (picolibc's linker script wants them
 * there; a custom section broke the link). Syscalls go through a magic_mem block. */
#include "htif.h"

volatile uint64_t tohost __attribute__((aligned(64)));
volatile uint64_t fromhost __attribute__((aligned(64)));

#define SYS_WRITE 64

static volatile uint64_t magic_mem[8] __attribute__((aligned(64)));

void htif_write(int fd, const void *buf, size_t len)
{
    magic_mem[0] = SYS_WRITE;
    magic_mem[1] = (uint64_t)fd;
    magic_mem[2] = (uint64_t)(uintptr_t)buf;
    magic_mem[3] = len;
    __sync_synchronize();
    tohost = (uint64_t)(uintptr_t)magic_mem;
    while (fromhost == 0) {
    }
    fromhost = 0;
    __sync_synchronize();
}

void htif_exit(int code)
{
    __sync_synchronize();
    for (;;) {
        tohost = ((uint64_t)(uint32_t)code << 1) | 1;
    }
}
