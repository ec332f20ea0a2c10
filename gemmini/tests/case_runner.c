/* One ELF for every ISA test case: pytest writes a case (a header of 64 int32 words plus the
 * input arrays) over the initial contents of `ivit_case` in a copy of the ELF, Spike runs it,
 * and the program prints
 *   STATS cycles=<n> instret=<n>   (around the kernel, `repeats` times)
 *   OUT <hex>                      (the output buffer, 64 bytes a line, when dump is set)
 * and exits 0, or prints "CASE-ERROR <why>" and exits 2 on a malformed case.
 *
 * Kinds: 1 matmul (tiled_matmul_auto), 2 conv (tiled_conv_auto), 3 resadd (tiled_resadd_auto,
 * or tiled_resadd_stride_auto with a stride), 4 script (low-level instruction sequence through
 * the gemmini.h macros), 5 depthwise conv (tiled_conv_dw_auto, or tiled_conv_dw with tiles),
 * 6 tiled_conv_downsample, 7 tiled_global_average_auto, 8 tiled_matmul_nn_auto (with its CPU
 * check), 9 the gemmini_testutils.h helpers on 16 x 16 tiles.
 * Word layout: see src/ivit_gemmini/gemmini/case_blob.py, the only writer of cases. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "counters.h"
#include "gemmini.h"
#include "gemmini_testutils.h"

#define CASE_BYTES (2u << 20)
#define OUT_BYTES (1u << 20)
#define CASE_MAGIC 0x54474956u /* "IVGT" */

/* Initialised (so its bytes are in the ELF file to patch), not const and not static (the compiler
 * must not assume the contents it sees here), and placed with the read-only data so the start-up
 * code does not copy 2 MiB from flash to RAM (Spike's memory is writable everywhere). */
uint8_t ivit_case[CASE_BYTES]
    __attribute__((section(".rodata.ivit_case"), aligned(64), used)) = {1};
static uint8_t out_buf[OUT_BYTES] __attribute__((aligned(64)));

enum { W_MAGIC, W_KIND, W_DATAFLOW, W_REPEATS, W_DUMP_BYTES, W_PARAMS = 8 };

static const int32_t *words(void) { return (const int32_t *)ivit_case; }
static int32_t P(int i) { return words()[W_PARAMS + i]; }
static float PF(int i) {
  const int32_t w = P(i);
  float f;
  memcpy(&f, &w, sizeof f);
  return f;
}
static const void *at(int32_t offset) { return offset < 0 ? NULL : ivit_case + offset; }

static int fail(const char *why) {
  printf("CASE-ERROR %s\n", why);
  return 2;
}

static void run_matmul(enum tiled_matmul_type_t df) {
  /* params: I J K sA sB sD sC A_scale B_scale D_scale act scale rep_bias tA tB full_C low_D
   *         A_off B_off D_off */
  tiled_matmul_auto((size_t)P(0), (size_t)P(1), (size_t)P(2), at(P(17)), at(P(18)), at(P(19)),
                    out_buf, (size_t)P(3), (size_t)P(4), (size_t)P(5), (size_t)P(6), PF(7),
                    PF(8), P(9), P(10), PF(11), 0, P(12), P(13), P(14), P(15), P(16), 0, df);
}

static void run_conv(enum tiled_matmul_type_t df) {
  /* params: batch in_rows in_cols in_chs out_chs out_rows out_cols stride in_dil k_dil pad
   *         kdim wrot180 t_out_1203 t_in_3120 t_w_1203 t_w_0132 act scale pool_size
   *         pool_stride pool_pad in_off w_off bias_off */
  tiled_conv_auto(P(0), P(1), P(2), P(3), P(4), P(5), P(6), P(7), P(8), P(9), P(10), P(11),
                  P(12), P(13), P(14), P(15), P(16), at(P(22)), at(P(23)), at(P(24)),
                  (elem_t *)out_buf, P(17), PF(18), P(19), P(20), P(21), df);
}

static void run_resadd(enum tiled_matmul_type_t df) {
  /* params: I J A_scale B_scale C_scale relu A_off B_off stride (0: dense, tiled_resadd_auto) */
  if (P(8) == 0)
    tiled_resadd_auto((size_t)P(0), (size_t)P(1), PF(2), PF(3), PF(4), at(P(6)), at(P(7)),
                      (elem_t *)out_buf, P(5), df);
  else
    tiled_resadd_stride_auto((size_t)P(0), (size_t)P(1), PF(2), PF(3), PF(4), (size_t)P(8),
                             at(P(6)), at(P(7)), (elem_t *)out_buf, P(5), df);
}

static void run_conv_dw(enum tiled_matmul_type_t df) {
  /* params: batch in_rows in_cols channels out_rows out_cols stride pad kdim act scale
   *         pool_size pool_stride pool_pad in_off w_off bias_off tiles(0: auto) batches porows
   *         pocols krows kcols */
  if (P(17) == 0)
    tiled_conv_dw_auto(P(0), P(1), P(2), P(3), P(4), P(5), P(6), P(7), P(8), at(P(14)),
                       at(P(15)), at(P(16)), (elem_t *)out_buf, P(9), PF(10), P(11), P(12),
                       P(13), df);
  else
    tiled_conv_dw(P(0), P(1), P(2), P(3), P(4), P(5), P(6), P(7), P(8), P(18), P(19), P(20),
                  P(21), P(22), at(P(14)), at(P(15)), at(P(16)), (elem_t *)out_buf, P(9), PF(10),
                  P(11), P(12), P(13), df);
}

static void run_downsample(enum tiled_matmul_type_t df) {
  /* params: batch in_rows in_cols in_chs out_chs out_rows out_cols in_stride w_stride
   *         out_stride act scale in_off w_off bias_off */
  tiled_conv_downsample(P(0), P(1), P(2), P(3), P(4), P(5), P(6), P(7), P(8), P(9), at(P(12)),
                        at(P(13)), at(P(14)), (elem_t *)out_buf, P(10), PF(11), df);
}

static void run_global_average(enum tiled_matmul_type_t df) {
  /* params: batches channels dim in_off */
  tiled_global_average_auto(at(P(3)), (elem_t *)out_buf, P(0), P(1), P(2), df);
}

static void run_matmul_nn(enum tiled_matmul_type_t df) {
  /* params: I J K act scale repeating_bias A_off B_off D_off; dense A, B, C */
  const size_t I = (size_t)P(0), J = (size_t)P(1), K = (size_t)P(2);
  static char name[] = "nn_case";
  tiled_matmul_nn_auto(I, J, K, (const elem_t(*)[K])at(P(6)), (const elem_t(*)[J])at(P(7)),
                       at(P(8)), (elem_t(*)[J])out_buf, P(3), PF(4), P(5), df, true, name);
}

/* The testutils helpers on the case's A, B, D (int8 16 x 16) and F (full_t 16 x 16); results
 * in this order: A_transposed, B_transposed, AB_transposed, full_A_transposed,
 * full_AB_transposed, full_B_transposed, matadd(F, F) (full_t each), matshift(F, shift),
 * matmul_short, short_A/B/AB_transposed, matrelu6(A, 3) (elem_t each). */
static void run_testutils(void) {
  /* params: A_off B_off D_off F_off shift */
  elem_t(*A)[DIM] = (elem_t(*)[DIM])(ivit_case + P(0));
  elem_t(*B)[DIM] = (elem_t(*)[DIM])(ivit_case + P(1));
  elem_t(*D)[DIM] = (elem_t(*)[DIM])(ivit_case + P(2));
  full_t(*F)[DIM] = (full_t(*)[DIM])(ivit_case + P(3));
  full_t(*full)[DIM][DIM] = (full_t(*)[DIM][DIM])out_buf;
  matmul_A_transposed(A, B, D, full[0]);
  matmul_B_transposed(A, B, D, full[1]);
  matmul_AB_transposed(A, B, D, full[2]);
  matmul_full_A_transposed(A, B, F, full[3]);
  matmul_full_AB_transposed(A, B, F, full[4]);
  matmul_full_B_transposed(A, B, F, full[5]);
  matadd(full[6], F, F);
  elem_t(*small)[DIM][DIM] = (elem_t(*)[DIM][DIM])(out_buf + 7 * sizeof(full[0]));
  matshift(F, small[0], P(4));
  matmul_short(A, B, D, small[1]);
  matmul_short_A_transposed(A, B, D, small[2]);
  matmul_short_B_transposed(A, B, D, small[3]);
  matmul_short_AB_transposed(A, B, D, small[4]);
  matrelu6(A, small[5], 3);
}

/* A script: params[0] = number of ops, params[1] = offset of the ops, 8 words each: opcode and
 * up to 7 arguments. DRAM operands are offsets: into the case for mvin, into the output buffer
 * for mvout. */
static int run_script(void) {
  const int32_t *op = (const int32_t *)(ivit_case + P(1));
  for (int n = P(0); n > 0; n--, op += 8) {
    const uint32_t a1 = (uint32_t)op[1], a2 = (uint32_t)op[2], a3 = (uint32_t)op[3];
    const uint32_t a4 = (uint32_t)op[4], a5 = (uint32_t)op[5], a6 = (uint32_t)op[6];
    float f;
    switch (op[0]) {
      case 1: /* config_ld: id stride scale_bits shrunk block_stride */
        memcpy(&f, &op[3], sizeof f);
        gemmini_extended4_config_ld(a2, f, a4, a5, a1);
        break;
      case 2: /* config_st: stride act scale_bits */
        memcpy(&f, &op[3], sizeof f);
        gemmini_extended_config_st(a1, a2, f);
        break;
      case 3: /* config_ex: dataflow act a_transpose b_transpose shift */
        gemmini_extended_config_ex(a1, a2, a5, 1, a3, a4);
        break;
      case 4: /* mvin: unit case_offset local cols rows */
        if (a1 == 0) {
          gemmini_extended_mvin(ivit_case + a2, a3, a4, a5);
        } else if (a1 == 1) {
          gemmini_extended_mvin2(ivit_case + a2, a3, a4, a5);
        } else {
          gemmini_extended_mvin3(ivit_case + a2, a3, a4, a5);
        }
        break;
      case 5: /* mvout: out_offset local cols rows */
        gemmini_extended_mvout(out_buf + a1, a2, a3, a4);
        break;
      case 6: /* preload: bd c bd_cols bd_rows c_cols c_rows */
        gemmini_extended_preload(a1, a2, a3, a4, a5, a6);
        break;
      case 7: /* compute_preloaded: a bd a_cols a_rows bd_cols bd_rows */
        gemmini_extended_compute_preloaded(a1, a2, a3, a4, a5, a6);
        break;
      case 8: /* compute_accumulated */
        gemmini_extended_compute_accumulated(a1, a2, a3, a4, a5, a6);
        break;
      case 9:
        gemmini_fence();
        break;
      case 10:
        gemmini_flush(0);
        break;
      default:
        return fail("unknown script op");
    }
  }
  gemmini_fence();
  return 0;
}

static void dump(uint32_t bytes) {
  static const char hex[] = "0123456789abcdef";
  char line[4 + 128 + 2];
  for (uint32_t at = 0; at < bytes; at += 64) {
    const uint32_t n = bytes - at < 64 ? bytes - at : 64;
    memcpy(line, "OUT ", 4);
    for (uint32_t i = 0; i < n; i++) {
      line[4 + 2 * i] = hex[out_buf[at + i] >> 4];
      line[5 + 2 * i] = hex[out_buf[at + i] & 15];
    }
    line[4 + 2 * n] = '\n';
    line[5 + 2 * n] = 0;
    fputs(line, stdout);
  }
}

int main(void) {
  if ((uint32_t)words()[W_MAGIC] != CASE_MAGIC) return fail("no case written into ivit_case");
  const int kind = words()[W_KIND];
  const enum tiled_matmul_type_t df = (enum tiled_matmul_type_t)words()[W_DATAFLOW];
  const uint32_t dump_bytes = (uint32_t)words()[W_DUMP_BYTES];
  if (dump_bytes > OUT_BYTES) return fail("dump larger than the output buffer");
  const uint64_t c0 = ivit_read_cycles(), i0 = ivit_read_instret();
  for (int r = 0; r < words()[W_REPEATS]; r++) {
    if (kind == 1) {
      run_matmul(df);
    } else if (kind == 2) {
      run_conv(df);
    } else if (kind == 3) {
      run_resadd(df);
    } else if (kind == 4) {
      if (run_script() != 0) return 2;
    } else if (kind == 5) {
      run_conv_dw(df);
    } else if (kind == 6) {
      run_downsample(df);
    } else if (kind == 7) {
      run_global_average(df);
    } else if (kind == 8) {
      run_matmul_nn(df);
    } else if (kind == 9) {
      run_testutils();
    } else {
      return fail("unknown kind");
    }
  }
  const uint64_t c1 = ivit_read_cycles(), i1 = ivit_read_instret();
  printf("STATS cycles=%llu instret=%llu\n", (unsigned long long)(c1 - c0),
         (unsigned long long)(i1 - i0));
  dump(dump_bytes);
  return 0;
}
