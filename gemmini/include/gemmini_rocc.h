/* RoCC instruction emitters for Gemmini (the role of upstream's rocc-software xcustom.h).
 *
 * Every Gemmini instruction is an R-type custom-3 instruction (opcode 0x7B). funct3 says which
 * registers are used: 0b011 = rs1 and rs2 (no result), 0b111 = rd, rs1 and rs2 (counter reads).
 * funct7 is the command code from gemmini_commands.h; it must expand to a plain number because
 * it is pasted into the assembler string.
 *
 * Unlike upstream, the asm statements clobber "memory": the compiler may not move a store that
 * produces an mvin operand (or a load that reads an mvout result) across a Gemmini instruction.
 */
#ifndef IVIT_GEMMINI_ROCC_H
#define IVIT_GEMMINI_ROCC_H

#include <stdint.h>

#define GEMMINI_STR_(x) #x
#define GEMMINI_STR(x) GEMMINI_STR_(x)

/* custom-N major opcodes; Gemmini lives on custom-3 (XCUSTOM_ACC == 3). */
#define CUSTOMX_OPCODE_0 0x0b
#define CUSTOMX_OPCODE_1 0x2b
#define CUSTOMX_OPCODE_2 0x5b
#define CUSTOMX_OPCODE_3 0x7b
#define CUSTOMX_OPCODE(x) CUSTOMX_OPCODE_##x
#define CUSTOMX_OPCODE_OF(x) CUSTOMX_OPCODE(x)

#ifndef XCUSTOM_ACC
#define XCUSTOM_ACC 3
#endif

/* No result: rs1, rs2 -> accelerator. A braced block, so upstream's unterminated chains
 * (`ROCC_INSTRUCTION_RS1_RS2(...) ROCC_INSTRUCTION_RS1_RS2(...)`) compile as they do upstream. */
#define ROCC_INSTRUCTION_0_R_R(x, rs1, rs2, funct7)                                          \
  {                                                                                          \
    asm volatile(".insn r " GEMMINI_STR(CUSTOMX_OPCODE_OF(x)) ", 3, " GEMMINI_STR(funct7)    \
                 ", x0, %0, %1"                                                              \
                 :                                                                           \
                 : "r"((uint64_t)(rs1)), "r"((uint64_t)(rs2))                                \
                 : "memory");                                                                \
  }

/* With a result register: rd <- accelerator(rs1, rs2). */
#define ROCC_INSTRUCTION_R_R_R(x, rd, rs1, rs2, funct7)                                      \
  {                                                                                          \
    uint64_t rocc_rd_;                                                                       \
    asm volatile(".insn r " GEMMINI_STR(CUSTOMX_OPCODE_OF(x)) ", 7, " GEMMINI_STR(funct7)    \
                 ", %0, %1, %2"                                                              \
                 : "=r"(rocc_rd_)                                                            \
                 : "r"((uint64_t)(rs1)), "r"((uint64_t)(rs2))                                \
                 : "memory");                                                                \
    (rd) = rocc_rd_;                                                                         \
  }

#define ROCC_INSTRUCTION(x, rd, rs1, rs2, funct7) ROCC_INSTRUCTION_R_R_R(x, rd, rs1, rs2, funct7)

#define ROCC_INSTRUCTION_RS1_RS2(x, rs1, rs2, funct) ROCC_INSTRUCTION_0_R_R(x, rs1, rs2, funct)

#endif /* IVIT_GEMMINI_ROCC_H */
