"""The integer operators of `ivit_gemmini.spec.ops` against the independent oracle."""

from __future__ import annotations

import numpy as np
import spec_oracle as oracle
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ivit_gemmini.spec import ops

int32s = st.integers(-(2**31), 2**31 - 1)
multipliers = st.one_of(st.integers(2**30, 2**31 - 1), st.integers(-(2**31) + 1, -(2**30)),
                        st.just(0))
shifts = st.integers(0, 62)


def t(values: list[int]) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.int64)


@given(z=st.lists(int32s, min_size=1, max_size=8), m=multipliers, e=shifts)
def test_requant_matches_exact_rounding(z: list[int], m: int, e: int) -> None:
    got = ops.requant(t(z), t([m]), t([e])).tolist()
    assert got == [oracle.requant(v, m, e) for v in z]


@given(half=st.integers(-(2**20), 2**20), e=st.integers(1, 40))
def test_requant_ties_go_to_even(half: int, e: int) -> None:
    # z * 1 / 2^e lands exactly on k + 1/2: the result must be the even neighbour.
    z = (2 * half + 1) * 2 ** (e - 1)
    got = int(ops.requant(t([z]), t([1]), t([e]))[0])
    assert got % 2 == 0 and abs(got * 2**e - z) == 2 ** (e - 1)


def test_requant_per_channel_broadcasts_along_last_axis() -> None:
    z = t([[100, 100], [-7, -7]])
    m, e = t([2**30, 3 * 2**29]), t([31, 31])
    assert ops.requant(z, m, e).tolist() == [[50, 75], [-4, -5]]  # -3.5 -> -4, -5.25 -> -5


@given(z=st.lists(int32s, min_size=1, max_size=8), bits=st.sampled_from([8, 16]))
def test_clamp_saturates_at_both_ends(z: list[int], bits: int) -> None:
    got = ops.clamp_bits(t(z), bits).tolist()
    assert got == [oracle.clamp(v, bits) for v in z]


@settings(max_examples=200)
@given(
    row=st.lists(st.integers(-32768, 32767), min_size=2, max_size=48),
    bias=st.integers(-(2**30), 2**30),
)
def test_layernorm_matches_oracle(row: list[int], bias: int) -> None:
    biases = [bias] * len(row)
    got = ops.layernorm(t(row), t(biases)).tolist()
    want = oracle.layernorm(row, biases)
    assert got == want
    assert all(abs(v) < 2**31 for v in got)  # the specification's bound


def test_layernorm_extreme_rows_stay_in_bounds() -> None:
    for row in ([32767] * 192, [-32768] * 191 + [32767], [0] * 191 + [-32768], [0] * 192):
        got = ops.layernorm(t(row), t([2**30] * len(row)))
        assert got.tolist() == oracle.layernorm(row, [2**30] * len(row))
        assert int(got.abs().max()) < 2**31


@settings(max_examples=300)
@given(x=st.integers(-4000, 0), x0=st.integers(-(2**15), -1), n=st.sampled_from([15, 23]))
def test_shift_exp_matches_ivit_formula(x: int, x0: int, n: int) -> None:
    assert int(ops.shift_exp(t([x]), x0, n)[0]) == oracle.shift_exp(x, x0, n)


@given(x=st.integers(1, 400), x0=st.integers(-255, -1))
def test_shift_exp_saturates_for_positive_arguments(x: int, x0: int) -> None:
    # GELU's E(-max) when a whole row is negative: huge values saturate at 2^31 - 1.
    assert int(ops.shift_exp(t([x]), x0, 23)[0]) == oracle.shift_exp(x, x0, 23)


@settings(max_examples=200)
@given(
    row=st.lists(st.integers(-128, 127), min_size=1, max_size=40),
    x0=st.integers(-(2**15), -1),
    bits=st.sampled_from([8, 16]),
)
def test_shiftmax_matches_oracle_and_range(row: list[int], x0: int, bits: int) -> None:
    got = ops.shiftmax(t(row), x0, bits).tolist()
    assert got == oracle.shiftmax(row, x0, bits)
    assert all(0 <= v <= 2 ** (bits - 1) - 1 for v in got)


def test_shiftmax_of_a_constant_row_is_uniform() -> None:
    got = ops.shiftmax(t([5] * 4), -12, 16)
    assert got.tolist() == [oracle.shiftmax([5] * 4, -12, 16)[0]] * 4
    assert abs(int(got[0]) - 32768 // 4) <= 2


@settings(max_examples=200)
@given(row=st.lists(st.integers(-128, 127), min_size=1, max_size=40), x0=st.integers(-255, -1))
def test_shiftgelu_matches_oracle(row: list[int], x0: int) -> None:
    got = ops.shiftgelu(t(row), x0).tolist()
    assert got == oracle.shiftgelu(row, x0)
    assert all(abs(v) <= 128 * 127 for v in got)


def test_shiftgelu_of_an_all_negative_row_is_bounded() -> None:
    row = [-128, -90, -3]
    got = ops.shiftgelu(t(row), -1).tolist()
    assert got == oracle.shiftgelu(row, -1)


def test_linear_matches_numpy_at_int32_extremes() -> None:
    rng = np.random.default_rng(0)
    a = rng.integers(-128, 128, size=(5, 768)).astype(np.int64)
    w = rng.integers(-128, 128, size=(7, 768)).astype(np.int64)
    a[0], w[0] = -128, -128  # the worst case product sum: 768 * 2^14
    bias = rng.integers(-(2**20), 2**20, size=7).astype(np.int64)
    got = ops.linear(torch.from_numpy(a), torch.from_numpy(w), torch.from_numpy(bias)).numpy()
    np.testing.assert_array_equal(got, a @ w.T + bias)


def test_residual_add_rounds_each_branch_then_clamps() -> None:
    one_half = (t([2**30]), t([31]))  # x 0.5
    got = ops.residual_add(t([3, 32767]), one_half, t([3, 32767]), one_half)
    assert got.tolist() == [4, 32767]  # 1.5 -> 2 twice = 4; 16384 * 2 = 32768 clamps to 32767
