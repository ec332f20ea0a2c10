"""An independent oracle of the integer specification, in plain Python integers and Fractions.

Written from docs/integer-program.md and I-ViT's formulas (fractions where I-ViT divides), not
from `ivit_gemmini.spec.ops`: the tests compare the two. Slow, exact, unbounded.
"""

from __future__ import annotations

from fractions import Fraction

INT31_MAX = 2**31 - 1


def rhe(value: Fraction) -> int:
    """Round half to even (Python's round on a Fraction does exactly that)."""
    return round(value)


def requant(z: int, m: int, e: int) -> int:
    return rhe(Fraction(z * m, 2**e))


def clamp(v: int, bits: int) -> int:
    return max(-(2 ** (bits - 1)), min(2 ** (bits - 1) - 1, v))


def layernorm(row: list[int], bias: list[int]) -> list[int]:
    c = len(row)
    mean = rhe(Fraction(sum(row), c))
    y = [v - mean for v in row]
    var = sum(v * v for v in y)
    k = 2**16
    for _ in range(10):
        k = (k + var // k) // 2
    factor = INT31_MAX // k
    return [int(Fraction(v * factor, 2).__floor__()) + b for v, b in zip(y, bias, strict=True)]


def shift_exp(x: int, x0: int, n: int) -> int:
    t = x + Fraction(x, 2).__floor__() - Fraction(x, 16).__floor__()
    t = max(t, n * x0)
    q = Fraction(t, x0).__floor__()
    r = t - x0 * q
    value = ((Fraction(r, 2) - x0) * Fraction(2) ** (n - q)).__floor__()
    return min(max(value, 0), INT31_MAX)


def shiftmax(row: list[int], x0: int, out_bits: int) -> list[int]:
    top = max(row)
    e = [shift_exp(v - top, x0, 15) for v in row]
    total = min(sum(e), INT31_MAX)
    factor = INT31_MAX // total
    return [(v * factor) // 2 ** (32 - out_bits) for v in e]


def shiftgelu(row: list[int], x0: int) -> list[int]:
    top = max(row)
    e_max = shift_exp(-top, x0, 23)
    out = []
    for v in row:
        e = shift_exp(v - top, x0, 23)
        total = min(e + e_max, INT31_MAX)
        sigmoid = (e * (INT31_MAX // total)) // 2**24
        out.append(v * sigmoid)
    return out
