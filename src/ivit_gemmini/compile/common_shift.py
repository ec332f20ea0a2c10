"""One shift for a whole per-channel requantization, where the integers allow it (exact).

`rhe(z * m / 2^e)` is the same rational as `rhe(z * (m << (E - e)) / 2^E)` for any `E >= e`, so
a per-channel pair (m, e) can become (m', E) with `E = max(e)` and `m' = m << (E - e)`: the
shift and its rounding constant are then literals in the C (no per-element load of `e`, no
`1 << e` at run time). It is used only where the product provably stays in int64:
`max|z| * max|m'| + 2^(E-1) < 2^63`, with `max|z|` bounded from the params (for a linear layer,
`max|bias| + K_in * 128 * 128`, the specification's own accumulator bound).
"""

from __future__ import annotations

import numpy as np

from ivit_gemmini.model.params import IntegerParams

INT64_LIMIT = 2**63
INT8_PRODUCT = 128 * 128


def linear_bound(params: IntegerParams, name: str) -> int:
    """max |acc + bias| of linear layer `name` (int8 x int8, weight (out, in))."""
    weight, bias = params[f"{name}.weight"], params[f"{name}.bias"]
    return int(np.max(np.abs(bias.astype(np.int64)))) + int(weight.shape[1]) * INT8_PRODUCT


def common_shift(m: np.ndarray, e: np.ndarray, z_bound: int) -> tuple[np.ndarray, int] | None:
    """(m' as int64, E) for per-channel (m, e) when exact in int64 for |z| <= z_bound; None if
    the pair is per tensor already, or if the product could overflow."""
    if m.size <= 1:
        return None
    big_e = int(np.max(e))
    shifted = [int(mi) << (big_e - int(ei)) for mi, ei in zip(m.tolist(), e.tolist(), strict=True)]
    worst = max(abs(v) for v in shifted)
    half = 2 ** (big_e - 1) if big_e >= 1 else 0
    if big_e < 1 or z_bound * worst + half >= INT64_LIMIT:
        return None
    return np.array(shifted, dtype=np.int64), big_e


def linear_common_shift(params: IntegerParams, name: str) -> tuple[np.ndarray, int] | None:
    """`common_shift` of the requantization `<name>.rq` right after linear layer `name`."""
    return common_shift(params[f"{name}.rq.m"], params[f"{name}.rq.e"], linear_bound(params, name))
