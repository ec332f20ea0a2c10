/* Test driver: replays a list of raw Gemmini instructions from a generated header
 * (driver_data.h), then dumps output regions of its memory image as hex lines
 * "OUT <offset> <hex bytes>". Uses raw .insn encodings so it depends only on the ISA table. */
#include <stdint.h>
#include <stdio.h>

#include "gemmini_commands.h"
#include "driver_data.h" /* mem_image, MEM_BYTES, cmds, N_CMDS, dumps, N_DUMPS */

#define REL_RS1 1u
#define REL_RS2 2u

static uint8_t mem[MEM_BYTES] __attribute__((aligned(64)));

#define ISSUE(name, code)                                                          \
    case code:                                                                     \
        __asm__ volatile(".insn r 0x7b, 0x3, %0, x0, %1, %2"                       \
                         :                                                         \
                         : "i"(code), "r"(rs1), "r"(rs2)                           \
                         : "memory");                                              \
        break;

static uint64_t issue(unsigned funct, uint64_t rs1, uint64_t rs2)
{
    uint64_t rd = 0;
    if (funct == k_COUNTER) { /* the one command that writes rd (xd = 1) */
        __asm__ volatile(".insn r 0x7b, 0x7, %1, %0, %2, %3"
                         : "=r"(rd)
                         : "i"(k_COUNTER), "r"(rs1), "r"(rs2)
                         : "memory");
        return rd;
    }
    switch (funct) {
    case 98: /* not a Gemmini command: a fence (the core waits for Gemmini) */
        __asm__ volatile("fence" ::: "memory");
        break;
    case 99: /* not a Gemmini command: must be rejected */
        __asm__ volatile(".insn r 0x7b, 0x3, 99, x0, %0, %1" : : "r"(rs1), "r"(rs2) : "memory");
        break;
        GEMMINI_COMMAND_LIST(ISSUE)
    default:
        printf("driver: funct %u not issuable\n", funct);
        return ~0ull;
    }
    return rd;
}

int main(void)
{
    for (unsigned i = 0; i < MEM_BYTES; i++)
        mem[i] = mem_image[i];
    const uint64_t base = (uint64_t)(uintptr_t)mem;
    for (unsigned i = 0; i < N_CMDS; i++) {
        const uint64_t rs1 = cmds[i].rs1 + ((cmds[i].flags & REL_RS1) ? base : 0);
        const uint64_t rs2 = cmds[i].rs2 + ((cmds[i].flags & REL_RS2) ? base : 0);
        const uint64_t rd = issue(cmds[i].funct, rs1, rs2);
        if (cmds[i].funct == k_COUNTER)
            printf("RD %u %llu\n", i, (unsigned long long)rd);
    }
    __asm__ volatile("fence" ::: "memory");
    for (unsigned d = 0; d < N_DUMPS; d++) {
        for (unsigned off = dumps[d][0]; off < dumps[d][0] + dumps[d][1]; off += 64) {
            unsigned end = off + 64 < dumps[d][0] + dumps[d][1] ? off + 64 : dumps[d][0] + dumps[d][1];
            printf("OUT %u ", off);
            for (unsigned j = off; j < end; j++)
                printf("%02x", mem[j]);
            putchar('\n');
        }
    }
    return 0;
}
