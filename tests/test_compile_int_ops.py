"""Each TE operator of `compile.int_ops`, compiled by TVM (llvm), equals `spec.ops` exactly.

Shapes are fixed per test so each operator compiles once; hypothesis varies the integers.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
import spec_oracle as oracle
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ivit_gemmini.compile import int_ops, tvm_adapter
from ivit_gemmini.spec import ops
from ivit_gemmini.spec.fold import fold_layernorm_requant
from ivit_gemmini.spec.network import patch_tokens as spec_patch_tokens

FAST = settings(max_examples=25, deadline=None)


@functools.cache
def _runner(key: str, fn, inputs: tuple):  # noqa: ANN001, ANN202 - test plumbing
    vm = tvm_adapter.load_vm(
        tvm_adapter.compile_llvm(tvm_adapter.module_from_te(fn, list(inputs), key))
    )
    return lambda *arrays: tvm_adapter.run_vm(vm, *arrays)


def run(key: str, fn, *arrays: np.ndarray) -> np.ndarray:  # noqa: ANN001
    inputs = tuple((tuple(a.shape), a.dtype.name) for a in arrays)
    return _runner(key, fn, inputs)(*arrays)


def t64(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.asarray(a).astype(np.int64))


def arrays(dtype: type, shape: tuple[int, ...], lo: int | None = None, hi: int | None = None):  # noqa: ANN201
    info = np.iinfo(dtype)
    return hnp.arrays(
        dtype,
        shape,
        elements=st.integers(info.min if lo is None else lo, info.max if hi is None else hi),
    )


# -- requantization -------------------------------------------------------------------------------
M_CH = 5


def _requant_channel(z, m, e):  # noqa: ANN001, ANN202
    return int_ops.requant(z, m, e, 8, "int8")


@FAST
@given(
    z=arrays(np.int32, (3, M_CH)),
    m=arrays(np.int32, (M_CH,), -(2**31) + 1),
    e=arrays(np.int32, (M_CH,), 0, 62),
)
def test_requant_per_channel_matches_spec(z: np.ndarray, m: np.ndarray, e: np.ndarray) -> None:
    got = run("rq_channel", _requant_channel, z, m, e)
    want = ops.requant_bits(t64(z), t64(m), t64(e), 8).numpy()
    assert got.dtype == np.int8
    np.testing.assert_array_equal(got.astype(np.int64), want)


@pytest.mark.parametrize(("m", "e"), [(2**31 - 1, 62), (-(2**30) - 12345, 33), (-7, 0)])
@FAST
@given(z=arrays(np.int32, (7,)))
def test_requant_literal_pair_unclamped_matches_spec(m: int, e: int, z: np.ndarray) -> None:
    # Literal (m, e) are baked into the TIR: one compile per pair.
    got = run(f"rq_lit{m}_{e}", lambda t: int_ops.requant(t, m, e, None, "int64"), z)
    want = ops.requant(t64(z), t64([m]), t64([e])).numpy()
    np.testing.assert_array_equal(got, want)


def test_requant_ties_round_to_even_and_shift_zero_is_identity() -> None:
    z = np.array([1, 3, 5, -1, -3, -5, 2**31 - 1, -(2**31)], dtype=np.int32)
    m = np.array([1] * 8, dtype=np.int32)
    e = np.array([1, 1, 1, 1, 1, 1, 0, 0], dtype=np.int32)
    got = run("rq_ties", lambda a, b, c: int_ops.requant(a, b, c, None, "int64"), z, m, e)
    # 0.5->0, 1.5->2, 2.5->2, -0.5->0, -1.5->-2, -2.5->-2, e=0 keeps z (computed by hand).
    np.testing.assert_array_equal(got, [0, 2, 2, 0, -2, -2, 2**31 - 1, -(2**31)])


# -- nonlinear operators --------------------------------------------------------------------------
@FAST
@given(x=arrays(np.int16, (4, 24)), bias=arrays(np.int32, (24,), -(2**30), 2**30))
def test_layernorm_matches_spec(x: np.ndarray, bias: np.ndarray) -> None:
    got = run("layernorm", int_ops.layernorm, x, bias)
    np.testing.assert_array_equal(got.astype(np.int64), ops.layernorm(t64(x), t64(bias)).numpy())


def test_layernorm_constant_and_extreme_rows() -> None:
    x = np.array(
        [[5] * 24, [32767] * 12 + [-32768] * 12, [0] * 23 + [32767], [-32768] + [0] * 23],
        dtype=np.int16,
    )
    bias = np.arange(24, dtype=np.int32) * 1000
    got = run("layernorm", int_ops.layernorm, x, bias)
    np.testing.assert_array_equal(got.astype(np.int64), ops.layernorm(t64(x), t64(bias)).numpy())


def _ln_rq8(x, q, m, r, e):  # noqa: ANN001, ANN202
    return int_ops.layernorm_requant8(x, (q, m, r, e))


def _ln_rq8_oracle(x: np.ndarray, bias: np.ndarray, m: np.ndarray, e: np.ndarray) -> np.ndarray:
    rows = [oracle.layernorm(row, bias.tolist()) for row in x.astype(int).tolist()]
    return np.array([[oracle.clamp(oracle.requant(v, int(mc), int(ec)), 8)
                      for v, mc, ec in zip(row, m, e, strict=True)] for row in rows])


@FAST
@given(
    x=arrays(np.int16, (3, 6)),
    bias=arrays(np.int64, (6,)),
    m=arrays(np.int32, (6,), -(2**31) + 1),
    e=arrays(np.int32, (6,), 0, 100),
)
def test_layernorm_requant8_is_exact_for_any_bias_and_shift(
    x: np.ndarray, bias: np.ndarray, m: np.ndarray, e: np.ndarray
) -> None:
    # Any int64 bias and any shift (trained LayerNorm outliers), through the int64 fold.
    f = fold_layernorm_requant(bias, m, e)
    got = run("ln_rq8", _ln_rq8, x, f.q, f.m, f.r, f.e)
    assert got.dtype == np.int8
    np.testing.assert_array_equal(got.astype(np.int64), _ln_rq8_oracle(x, bias, m, e))


def test_layernorm_requant8_at_the_int64_edges_of_the_fold() -> None:
    x = np.array([[32767] * 3 + [-32768] * 3, [7] * 6, [0] * 5 + [-32768]], dtype=np.int16)
    bias = np.array([2**62, -(2**62), 2**40 + 1, -(2**63) + 1, 12345, 2**63 - 1], np.int64)
    m = np.array([2**31 - 1, -(2**31) + 1, 2**30 + 7, 2**31 - 1, 2**30, -(2**30)], np.int32)
    e = np.array([0, 62, 62, 1, 75, 63], np.int32)
    f = fold_layernorm_requant(bias, m, e)
    assert int(np.abs(f.q).max()) == 2**62 and int(np.abs(f.r).max()) > 2**61
    got = run("ln_rq8", _ln_rq8, x, f.q, f.m, f.r, f.e)
    np.testing.assert_array_equal(got.astype(np.int64), _ln_rq8_oracle(x, bias, m, e))


@pytest.mark.parametrize("x0", [-1, -37, -(2**15)])
@FAST
@given(x=arrays(np.int8, (2, 3, 17)))
def test_shiftmax_matches_spec(x0: int, x: np.ndarray) -> None:
    got = run(f"shiftmax{x0}", lambda t: int_ops.shiftmax(t, x0, 16), x)
    assert got.dtype == np.int16
    np.testing.assert_array_equal(got.astype(np.int64), ops.shiftmax(t64(x), x0, 16).numpy())


@pytest.mark.parametrize("x0", [-1, -23, -255])
@FAST
@given(x=arrays(np.int8, (3, 20)))
def test_shiftgelu_matches_spec(x0: int, x: np.ndarray) -> None:
    got = run(f"shiftgelu{x0}", lambda t: int_ops.shiftgelu(t, x0), x)
    np.testing.assert_array_equal(got.astype(np.int64), ops.shiftgelu(t64(x), x0).numpy())


@pytest.mark.parametrize("x0", [-1, -23, -255])
def test_shiftgelu_saturating_rows(x0: int) -> None:
    # All-negative rows reach E(-max) saturation (docs: "only reachable for GELU").
    x = np.array([[-128] * 20, [-1] * 20, [127] * 20, list(range(-10, 10))], dtype=np.int8)
    got = run(f"shiftgelu_sat{x0}", lambda t: int_ops.shiftgelu(t, x0), x)
    np.testing.assert_array_equal(got.astype(np.int64), ops.shiftgelu(t64(x), x0).numpy())


@FAST
@given(branch=arrays(np.int16, (3, 6)), skip=arrays(np.int16, (3, 6)))
def test_residual_add_matches_spec(branch: np.ndarray, skip: np.ndarray) -> None:
    rb, rs = (2**30 + 77, 31), (-(2**29) - 5, 29)
    got = run("residual", lambda b, s: int_ops.residual_add(b, rb, s, rs), branch, skip)
    want = ops.residual_add(
        t64(branch), (t64([rb[0]]), t64([rb[1]])), t64(skip), (t64([rs[0]]), t64([rs[1]]))
    )
    np.testing.assert_array_equal(got.astype(np.int64), want.numpy())


# -- layout operators -----------------------------------------------------------------------------
def test_patch_tokens_matches_spec_im2col() -> None:
    image = np.random.default_rng(0).integers(-128, 128, (3, 21, 21)).astype(np.int8)
    got = run("patches", lambda t: int_ops.patch_tokens(t, 7), image)
    np.testing.assert_array_equal(got, spec_patch_tokens(torch.from_numpy(image), 7).numpy())


def test_split_and_merge_heads_follow_the_spec_layout() -> None:
    tokens, heads, d = 5, 3, 4
    qkv = np.arange(tokens * 3 * heads * d, dtype=np.int64).reshape(tokens, 3 * heads * d) % 251
    qkv = (qkv - 125).astype(np.int8)
    view = qkv.reshape(tokens, 3, heads, d).transpose(1, 2, 0, 3)  # the spec's (3, H, N, d)
    for which, transpose in ((0, False), (1, True), (2, False)):
        got = run(
            f"heads{which}",
            lambda t, w=which, tr=transpose: int_ops.split_heads(t, w, heads, tr),
            qkv,
        )
        want = view[which].transpose(0, 2, 1) if transpose else view[which]
        np.testing.assert_array_equal(got, want)
    ctx = np.random.default_rng(1).integers(-(2**20), 2**20, (heads, tokens, d)).astype(np.int32)
    got = run("merge", lambda t: int_ops.merge_heads_requant(t, 2**30, 31, 8), ctx)
    merged = t64(ctx.transpose(1, 0, 2).reshape(tokens, heads * d))
    np.testing.assert_array_equal(
        got.astype(np.int64), ops.requant_bits(merged, t64([2**30]), t64([31]), 8).numpy()
    )


# -- exponential tables (same integers as the formula) --------------------------------------------
@pytest.mark.parametrize(
    ("x0", "n", "high"),
    [(-1, 15, 0), (-37, 15, 0), (-(2**15), 15, 0), (-1, 23, 128), (-23, 23, 128), (-255, 23, 128)],
)
def test_exp_table_equals_spec_shift_exp_on_its_whole_domain(x0: int, n: int, high: int) -> None:
    domain = torch.arange(int_ops.LUT_LOW, high + 1, dtype=torch.int64)
    assert int_ops.exp_table(x0, n, high) == ops.shift_exp(domain, x0, n).tolist()


@pytest.mark.parametrize("x0", [-1, -37, -(2**15)])
@FAST
@given(x=arrays(np.int8, (2, 3, 17)))
def test_shiftmax_with_table_matches_spec(x0: int, x: np.ndarray) -> None:
    table = np.array(int_ops.exp_table(x0, int_ops.SOFTMAX_N, int_ops.SOFTMAX_LUT_HIGH), np.int32)
    got = run(f"shiftmax_lut{x0}", lambda t, tab: int_ops.shiftmax(t, x0, 16, tab), x, table)
    np.testing.assert_array_equal(got.astype(np.int64), ops.shiftmax(t64(x), x0, 16).numpy())


@pytest.mark.parametrize("x0", [-1, -23, -255])
@FAST
@given(x=arrays(np.int8, (3, 20)))
def test_shiftgelu_with_table_and_requant_matches_spec(x0: int, x: np.ndarray) -> None:
    table = np.array(int_ops.exp_table(x0, int_ops.GELU_N, int_ops.GELU_LUT_HIGH), np.int32)
    rq = (2**30 + 3, 36)
    got = run(f"gelu_lut{x0}", lambda t, tab: int_ops.shiftgelu(t, x0, tab, rq), x, table)
    want = ops.requant_bits(ops.shiftgelu(t64(x), x0), t64([rq[0]]), t64([rq[1]]), 8)
    assert got.dtype == np.int8
    np.testing.assert_array_equal(got.astype(np.int64), want.numpy())
