"""Integer operators of the I-ViT specification, on int64 torch tensors.

Each function is the executable form of one section of docs/integer-program.md; the section's
bounds are why the widths used here cannot overflow. No float is used anywhere in this module.
"""

from __future__ import annotations

import torch

from ivit_gemmini.spec.constants import (
    GELU_N,
    GELU_SIGMOID_BITS,
    INT31_MAX,
    NEWTON_START,
    NEWTON_STEPS,
    SOFTMAX_N,
)
from ivit_gemmini.spec.fold import FoldedRequant

Tensor = torch.Tensor


def clamp_bits(x: Tensor, bits: int) -> Tensor:
    """Clamp to the signed `bits`-bit range."""
    return x.clamp(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)


def shift_round_half_even(t: Tensor, e: Tensor) -> Tensor:
    """rhe(t / 2^e) for int64 `t` and shifts `0 <= e <= 62` (broadcast); exact while
    |t| + 2^(e-1) < 2^63."""
    e = e.to(torch.int64)
    floor = torch.bitwise_right_shift(t, e)
    half = torch.bitwise_right_shift(torch.ones_like(e) << e, 1)  # 2^(e-1), 0 when e == 0
    rounded = torch.bitwise_right_shift(t + half - (e > 0).to(torch.int64) + (floor & 1), e)
    return torch.where(e > 0, rounded, t)


def requant(z: Tensor, m: Tensor, e: Tensor) -> Tensor:
    """rhe(z * m / 2^e): dyadic requantization, no clamp. (m, e) broadcast along the last axis."""
    return shift_round_half_even(z.to(torch.int64) * m.to(torch.int64), e)


def requant_bits(z: Tensor, m: Tensor, e: Tensor, bits: int) -> Tensor:
    """Dyadic requantization clamped to `bits` signed bits."""
    return clamp_bits(requant(z, m, e), bits)


def linear(a: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    """int8 (.., in) x int8 (out, in) + int32 bias -> int32 accumulators (as int64).

    int32 arithmetic is exact here: the params stage proves |acc| < 2^31 for every layer.
    """
    acc = torch.matmul(a.to(torch.int32), weight.to(torch.int32).T) + bias.to(torch.int32)
    return acc.to(torch.int64)


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """Integer matmul a (.., n, k) @ b (.., k, m) whose int32 result is proven not to overflow."""
    return torch.matmul(a.to(torch.int32), b.to(torch.int32)).to(torch.int64)


def floor_div_round_half_even(a: Tensor, b: int) -> Tensor:
    """rhe(a / b) for a positive integer b."""
    q = torch.div(a, b, rounding_mode="floor")
    r2 = 2 * (a - q * b)
    return q + ((r2 > b) | ((r2 == b) & (q % 2 == 1))).to(torch.int64)


def layernorm(x: Tensor, bias: Tensor) -> Tensor:
    """I-LayerNorm over the last axis of an int16 tensor, plus the int64 bias; returns int64."""
    return normalize(x) + bias.to(torch.int64)


def layernorm_requant8(x: Tensor, folded: FoldedRequant) -> Tensor:
    """requant_8(I-LayerNorm(x)) per channel, from the folded int64 form (spec/fold.py):
    clamp_8(q + rhe((u * m + r) / 2^e)); |u * m + r| < 2^62 + 2^61 keeps it in int64."""
    return requant8_folded(normalize(x), folded)


def requant8_folded(u: Tensor, folded: FoldedRequant) -> Tensor:
    """clamp_8(q + rhe((u * m + r) / 2^e)) per channel (last axis) for |u| <= 2^30."""
    q, m, r, e = (torch.from_numpy(a.astype("int64")) for a in
                  (folded.q, folded.m, folded.r, folded.e))
    return clamp_bits(q + shift_round_half_even(u.to(torch.int64) * m + r, e), 8)


def normalize(x: Tensor) -> Tensor:
    """u = (y * f) >> 1 of I-LayerNorm over the last axis of int16 `x` (|u| <= 2^30), as int64."""
    x = x.to(torch.int64)
    channels = x.shape[-1]
    mean = floor_div_round_half_even(x.sum(dim=-1, keepdim=True), channels)
    y = x - mean
    var = (y * y).sum(dim=-1, keepdim=True)
    k = torch.full_like(var, NEWTON_START)
    for _ in range(NEWTON_STEPS):
        k = torch.div(k + torch.div(var, k, rounding_mode="floor"), 2, rounding_mode="floor")
    factor = torch.div(torch.full_like(k, INT31_MAX), k, rounding_mode="floor")
    return torch.bitwise_right_shift(y * factor, 1)


def shift_exp(x: Tensor, x0: int, n: int) -> Tensor:
    """E_n(x; x0): I-ViT's shift exponential, exact, saturated at 2^31 - 1."""
    t = x + torch.bitwise_right_shift(x, 1) - torch.bitwise_right_shift(x, 4)
    t = torch.clamp(t, min=n * x0)
    q = torch.div(t, x0, rounding_mode="floor")
    v = t - x0 * q - 2 * x0  # in (0, 2|x0|]
    shift = n - q
    # A shift of 32 or more already exceeds 2^31 (v >= 1): saturate without shifting that far.
    big = shift >= 32
    exact = torch.bitwise_right_shift(v << torch.where(big, 0, shift), 1)
    return torch.where(big, INT31_MAX, exact.clamp(max=INT31_MAX))


def shiftmax(x: Tensor, x0: int, out_bits: int) -> Tensor:
    """Shiftmax over the last axis of int8 scores -> integers in [0, 2^(out_bits-1) - 1]."""
    x = x.to(torch.int64)
    e = shift_exp(x - x.amax(dim=-1, keepdim=True), x0, SOFTMAX_N)
    total = e.sum(dim=-1, keepdim=True).clamp(max=INT31_MAX)
    factor = torch.div(torch.full_like(total, INT31_MAX), total, rounding_mode="floor")
    return torch.bitwise_right_shift(e * factor, 32 - out_bits)


def shiftgelu(x: Tensor, x0: int) -> Tensor:
    """ShiftGELU over the last axis of int8 inputs -> x * sigmoid with sigmoid in [0, 127]."""
    x = x.to(torch.int64)
    row_max = x.amax(dim=-1, keepdim=True)
    e = shift_exp(x - row_max, x0, GELU_N)
    e_max = shift_exp(-row_max, x0, GELU_N)
    total = (e + e_max).clamp(max=INT31_MAX)
    factor = torch.div(torch.full_like(total, INT31_MAX), total, rounding_mode="floor")
    sigmoid = torch.bitwise_right_shift(e * factor, 32 - GELU_SIGMOID_BITS)
    return x * sigmoid


def residual_add(
    branch: Tensor, branch_rq: tuple[Tensor, Tensor], skip: Tensor, skip_rq: tuple[Tensor, Tensor]
) -> Tensor:
    """I-ViT's residual add: each side requantized and rounded separately, summed, clamped to 16."""
    return clamp_bits(requant(branch, *branch_rq) + requant(skip, *skip_rq), 16)
