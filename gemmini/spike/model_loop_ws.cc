// LOOP_WS and its five config commands: the weight-stationary tiled matmul that
// tiled_matmul_auto issues. Replays upstream's sequence of mvin / preload / compute / mvout
// (same scratchpad and accumulator addresses, same order), so the final architectural state
// equals upstream's; every step runs on the fast primitives of this model.
#include <string>

#include "model.h"

namespace gemmini {

void Model::loop_ws_config(int which, uint64_t rs1, uint64_t rs2) {
  switch (which) {
    case 0:  // bounds: rs1 = pads, rs2 = sizes (in DIM tiles), 16 bits each
      ws_.pad_I = rs1 & 0xFFFF, ws_.pad_J = (rs1 >> 16) & 0xFFFF, ws_.pad_K = (rs1 >> 32) & 0xFFFF;
      ws_.I = rs2 & 0xFFFF, ws_.J = (rs2 >> 16) & 0xFFFF, ws_.K = (rs2 >> 32) & 0xFFFF;
      break;
    case 1: ws_.A = rs1, ws_.B = rs2; break;
    case 2: ws_.D = rs1, ws_.C = rs2; break;
    case 3: ws_.A_stride = rs1, ws_.B_stride = rs2; break;
    default: ws_.D_stride = rs1, ws_.C_stride = rs2; break;
  }
}

void Model::loop_ws(uint64_t rs1, uint64_t rs2) {
  const bool ex_accumulate = rs1 & 1, full_C = (rs1 >> 1) & 1, low_D = (rs1 >> 2) & 1;
  const unsigned act = (rs1 >> 8) & 7;
  const unsigned b_spad_id = (rs1 >> 16) & 3, a_spad_id = (rs1 >> 18) & 3;
  const bool a_transpose = rs2 & 1, b_transpose = (rs2 >> 1) & 1, is_resadd = (rs2 >> 2) & 1;
  const uint64_t I = ws_.I, J = ws_.J, K = ws_.K;
  const uint64_t pad_I = ws_.pad_I, pad_J = ws_.pad_J, pad_K = ws_.pad_K;
  if (act == static_cast<unsigned>(Act::LayerNorm) || act == static_cast<unsigned>(Act::Softmax))
    throw ModelError("LOOP_WS: LayerNorm/Softmax activations need the normalization unit, "
                     "which is not modelled");
  if ((I * K + K * J) * DIM > kSpRows / 2 || I * J * DIM > kAccRows / 2)
    throw ModelError("LOOP_WS: bounds I=" + std::to_string(I) + " J=" + std::to_string(J) +
                     " K=" + std::to_string(K) + " are too large for double-buffering");

  uint32_t A_start = a_spad_id == 2 ? kSpRows / 2 : 0;
  uint32_t B_start = (b_spad_id == 2 ? kSpRows : kSpRows / 2) - K * J * DIM;
  const uint32_t D_start = 1u << 31;
  const uint32_t C_start = (3u << 30) | (uint32_t(full_C) << 29);
  const size_t sizeof_C = full_C ? 4 : 1;
  auto rows_of = [&](uint64_t i) { return DIM - (i == I - 1 ? pad_I : 0); };
  auto cols_of = [&](uint64_t j) { return DIM - (j == J - 1 ? pad_J : 0); };
  auto ks_of = [&](uint64_t k) { return DIM - (k == K - 1 ? pad_K : 0); };
  auto mvout_C = [&](uint64_t i, uint64_t j) {
    const uint64_t dram = ws_.C + (i * ws_.C_stride + j) * DIM * sizeof_C;
    mvout(dram, local_operand(C_start + (i * J + j) * DIM, cols_of(j), rows_of(i)));
  };

  const LoopTimer timer(stats_.timing, ws_.C != 0, true);
  if (is_resadd) {  // C = A + B through the accumulator
    A_start = 1u << 31;
    B_start = 3u << 30;
    for (uint64_t i = 0; i < I; ++i) {
      for (uint64_t j = 0; j < J; ++j) {
        const uint32_t off = (i * J + j) * DIM;
        mvin(ws_.A + (i * ws_.A_stride + j) * DIM, local_operand(A_start + off, cols_of(j), rows_of(i)), 0);
        mvin(ws_.B + (i * ws_.B_stride + j) * DIM, local_operand(B_start + off, cols_of(j), rows_of(i)), 1);
        if (ws_.C != 0) mvout_C(i, j);
      }
    }
    return;
  }

  if (ws_.D != 0) {
    const size_t sizeof_D = low_D ? 1 : 4;
    for (uint64_t i = 0; i < I; ++i)
      for (uint64_t j = 0; j < J; ++j)
        mvin(ws_.D + (i * ws_.D_stride + j) * DIM * sizeof_D,
             local_operand(D_start + (i * J + j) * DIM, cols_of(j), rows_of(i)), 2);
  }

  for (uint64_t k = 0; k < K; ++k) {
    for (uint64_t j = 0; j < J; ++j) {
      for (uint64_t i = 0; i < I; ++i) {
        const uint32_t A_sp = A_start + (a_transpose ? (k * I + i) : (i * K + k)) * DIM;
        const uint32_t B_sp = B_start + (b_transpose ? (j * K + k) : (k * J + j)) * DIM;
        uint32_t C_sp = C_start + (i * J + j) * DIM;
        if (j == 0 && ws_.A != 0) {
          if (a_transpose)
            mvin(ws_.A + (k * ws_.A_stride + i) * DIM, local_operand(A_sp, rows_of(i), ks_of(k)), 0);
          else
            mvin(ws_.A + (i * ws_.A_stride + k) * DIM, local_operand(A_sp, ks_of(k), rows_of(i)), 0);
        }
        if (i == 0 && ws_.B != 0) {
          if (b_transpose)
            mvin(ws_.B + (j * ws_.B_stride + k) * DIM, local_operand(B_sp, ks_of(k), cols_of(j)), 1);
          else
            mvin(ws_.B + (k * ws_.B_stride + j) * DIM, local_operand(B_sp, cols_of(j), ks_of(k)), 1);
        }
        if (!ex_accumulate && k == 0) C_sp &= ~(1u << 30);  // first k overwrites
        preload(local_operand(i == 0 ? B_sp : kGarbage, cols_of(j), ks_of(k)),
                local_operand(C_sp, cols_of(j), rows_of(i)));
        compute(local_operand(A_sp, ks_of(k), rows_of(i)), local_operand(kGarbage, DIM, DIM), i == 0);
        if (ws_.C != 0 && k == K - 1) mvout_C(i, j);
      }
    }
  }
}

}  // namespace gemmini
