"""I-LayerNorm's requantization to int8, folded into int64 (docs/integer-program.md, I-LayerNorm).

The specification's value of channel c is `clamp_8(rhe((u + b) * m / 2^e))`, where
`u = (y * f) >> 1` lies in [-2^30, 2^30], `b` is the checkpoint's integer LayerNorm bias (any
int64) and `(m, e)` the pair of the next requantization (any `e`, `|m| < 2^31`). A trained
checkpoint's outlier channels make `(u + b) * m` exceed int64 or `e` exceed 62. This module
rewrites every channel, once and with exact Python integers, as `(q, m', r, e')` such that

    clamp_8(q + rhe((u * m' + r) / 2^e'))

is the same integer for every `u` in [-2^30, 2^30], with `|m'| < 2^31`, `|r| <= 2^62`,
`0 <= e' <= 62` and `|q| <= 2^62`: every intermediate then fits int64 (the bounds and the
proof of each case are in the documentation). Torch-free, so that torch-int and the TVM graph
(hence the firmware) use the same arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

U_MAX = 2**30  # |(y * f) >> 1| <= 2^30 (docs/integer-program.md, I-LayerNorm)
MAX_SHIFT = 62
Q_LIMIT = 2**62
STEP_SHIFT = 32  # the two-level encoding of a channel whose shift exceeds 62


@dataclass(frozen=True)
class FoldedRequant:
    """Per-channel (q, m, r, e) of `clamp_8(q + rhe((u * m + r) / 2^e))`."""

    q: np.ndarray  # int64
    m: np.ndarray  # int32
    r: np.ndarray  # int64
    e: np.ndarray  # int32


def layernorm_requants(depth: int) -> list[tuple[str, str]]:
    """(LayerNorm, requantization to int8 after it) name pairs of a network of `depth` blocks."""
    pairs = []
    for i in range(depth):
        pairs += [(f"blocks.{i}.norm1", f"blocks.{i}.attn_in.rq"),
                  (f"blocks.{i}.norm2", f"blocks.{i}.mlp_in.rq")]
    return [*pairs, ("norm", "head_in.rq")]


def exact_value(u: int, b: int, m: int, e: int) -> int:
    """clamp_8(rhe((u + b) * m / 2^e)) in unbounded integers (any sign of e)."""
    num = (u + b) * m
    if e <= 0:
        v = num << -e
    else:
        v, rest = divmod(num, 1 << e)  # num = v * 2^e + rest, 0 <= rest < 2^e
        twice = 2 * rest
        v += 1 if twice > (1 << e) or (twice == (1 << e) and v % 2 == 1) else 0
    return max(-128, min(127, v))


def fold_channel(b: int, m: int, e: int) -> tuple[int, int, int, int]:
    """(q, m', r, e') of one channel; see the module docstring."""
    if abs(m) >= 2**31:
        raise ValueError(f"multiplier {m} is outside int32")
    if e < 0:  # m * 2^-e exactly, or, beyond int32, any multiplier >= 2^31: z != 0 saturates
        big = m << -e
        m, e = (big, 0) if abs(big) < 2**31 else ((1 if m > 0 else -1) * 2**30, 0)
    if e <= MAX_SHIFT:
        t = b * m
        q = 2 * ((t + (1 << e)) >> (e + 1))  # even, and r = t - q 2^e in [-2^e, 2^e)
        r = t - q * (1 << e)
        return max(-Q_LIMIT, min(Q_LIMIT, q)), m, r, e
    # e > 62: |u * m| / 2^e < 1/4, so the channel takes at most two adjacent values over u.
    lo, hi = exact_value(-U_MAX, b, m, e), exact_value(U_MAX, b, m, e)
    if lo == hi:
        return lo, 0, 0, 0
    if abs(hi - lo) != 1:
        raise AssertionError(f"channel of shift {e} takes values {lo} and {hi}")
    below, first = -U_MAX, U_MAX  # smallest u with the value hi, by bisection (monotone)
    while first - below > 1:
        mid = (below + first) // 2
        below, first = (mid, first) if exact_value(mid, b, m, e) == lo else (below, mid)
    step = hi - lo
    return lo, step, step * (2**31 + 1 - first), STEP_SHIFT


def fold_layernorm_requant(bias: np.ndarray, m: np.ndarray, e: np.ndarray) -> FoldedRequant:
    """The folded arrays of one LayerNorm (int bias (C,)) and its requantization (m, e), each
    per channel (C,) or per tensor (1,)."""
    channels = bias.shape[0]
    ms, es = np.broadcast_to(m, (channels,)), np.broadcast_to(e, (channels,))
    rows = [fold_channel(int(b), int(mc), int(ec))
            for b, mc, ec in zip(bias.tolist(), ms.tolist(), es.tolist(), strict=True)]
    q, mm, r, ee = zip(*rows, strict=True)
    return FoldedRequant(q=np.array(q, np.int64), m=np.array(mm, np.int32),
                         r=np.array(r, np.int64), e=np.array(ee, np.int32))
