/* HTIF: the host-target interface Spike polls (tohost/fromhost). */
#ifndef IVIT_HTIF_H
#define IVIT_HTIF_H

#include <stddef.h>
#include <stdint.h>

/* Write `len` bytes to the host's file descriptor `fd` (1 = stdout) via SYS_write. */
void htif_write(int fd, const void *buf, size_t len);

/* Stop the simulator with exit code `code` (0 = success). Never returns. */
void htif_exit(int code) __attribute__((noreturn));

#endif
