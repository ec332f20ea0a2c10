"""The compile stage's cheaper forms of the specification give the same integers.

- `common_shift`: a per-channel (m, e) as (m << (E - e), E), checked against exact rational
  rounding (fractions.Fraction, half to even) and refused where int64 could overflow.
- `gelu_table`: requant_8(ShiftGELU) over (row max, element), checked against the
  specification's own operators (ivit_gemmini.spec.ops) on whole rows.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ivit_gemmini.compile import int_ops
from ivit_gemmini.compile.common_shift import common_shift
from ivit_gemmini.spec import ops


def rhe(q: Fraction) -> int:
    """Round half to even, on an exact rational (Python's round does exactly that)."""
    return round(q)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(2**30, 2**31 - 1), st.integers(20, 23)), min_size=2,
             max_size=6),
    st.integers(-(2**23), 2**23),
    st.booleans(),
)
def test_common_shift_rounds_like_each_channel(pairs, z: int, negative: bool) -> None:
    m = np.array([-mi if negative else mi for mi, _ in pairs], dtype=np.int32)
    e = np.array([ei for _, ei in pairs], dtype=np.int32)
    found = common_shift(m, e, 2**23)
    assert found is not None
    shifted, big_e = found
    for c in range(len(pairs)):
        want = rhe(Fraction(z * int(m[c]), 2 ** int(e[c])))
        v = z * int(shifted[c])  # the kernel's branch-free rounding with a literal shift
        got = (v + 2 ** (big_e - 1) - 1 + ((v >> big_e) & 1)) >> big_e
        assert got == want


def test_common_shift_refuses_what_could_overflow() -> None:
    m = np.array([2**31 - 1, 2**31 - 1], dtype=np.int32)
    assert common_shift(m, np.array([40, 50], np.int32), 2**22) is None  # m' ~ 2^41, z 2^22
    assert common_shift(m, np.array([40, 41], np.int32), 2**22) is not None
    assert common_shift(m[:1], np.array([40], np.int32), 2**22) is None  # per tensor already


@settings(max_examples=12, deadline=None)
@given(st.integers(-60, -10), st.integers(2**30, 2**31 - 1), st.integers(8, 40),
       st.integers(0, 2**32 - 1))
def test_gelu_table_equals_spec(x0: int, m: int, e: int, seed: int) -> None:
    table = np.array(int_ops.gelu_table(x0, (m, e)), dtype=np.int64)
    rng = np.random.default_rng(seed)
    rows = rng.integers(-128, 128, (6, 40))
    rows[0, :] = -128  # a row of only negatives: E(-max) saturates
    rows[1, 0] = 127
    x = torch.tensor(rows, dtype=torch.int64)
    want = ops.requant_bits(ops.shiftgelu(x, x0), torch.tensor([m]), torch.tensor([e]), 8)
    mx = rows.max(axis=1, keepdims=True)
    got = table[mx + 128, rows + 128]
    np.testing.assert_array_equal(got, want.numpy())
