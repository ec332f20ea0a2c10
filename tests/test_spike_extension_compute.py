"""PRELOAD + COMPUTE on the Gemmini Spike model against numpy: weight-stationary with bias,
reuse of weights, partial tiles (zero padding), transposes; output-stationary with the
rounding shift to the scratchpad."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from spike_helpers import ACC, ACCUMULATE, DIM, FULL, GARBAGE, Program

pytestmark = pytest.mark.usefixtures("mesh_backend")  # spike and spike-rtl

RNG = np.random.default_rng(10)


def rand8(shape: tuple[int, ...]) -> np.ndarray:
    return RNG.integers(-128, 128, shape, dtype=np.int8)


def mm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a.astype(np.int64) @ b.astype(np.int64)


def test_ws_bias_and_weight_reuse(tmp_path: Path) -> None:
    a, a2, b = rand8((DIM, DIM)), rand8((DIM, DIM)), rand8((DIM, DIM))
    d = RNG.integers(-(10**6), 10**6, (DIM, DIM), dtype=np.int32)
    p = Program()
    pa, pa2, pb, pd = p.put(a), p.put(a2), p.put(b), p.put(d)
    c1, c2 = p.out(DIM * DIM * 4), p.out(DIM * DIM * 4)
    p.config_ex(ws=True)
    p.config_ld(DIM)
    p.mvin(pa, 0)
    p.mvin(pa2, 16)
    p.mvin(pb, 32)
    p.config_ld(DIM * 4)
    p.mvin(pd, ACC | 0)
    p.preload(32, ACC | ACCUMULATE | 0)  # C = D + A @ B
    p.compute(0, GARBAGE, preloaded=True)
    p.preload(GARBAGE, ACC | 16)  # overwrite: C2 = A2 @ B with the same weights
    p.compute(16, GARBAGE, preloaded=False)
    p.config_st(DIM * 4)
    p.mvout(c1, ACC | FULL | 0)
    p.mvout(c2, ACC | FULL | 16)
    run = p.run(tmp_path)
    np.testing.assert_array_equal(p.read(c1, np.int32, (DIM, DIM)), d + mm(a, b))
    np.testing.assert_array_equal(p.read(c2, np.int32, (DIM, DIM)), mm(a2, b))
    assert run.stats["macs_array"] == 2 * DIM**3
    assert run.stats["commands"]["COMPUTE_ACCUMULATE"] == 1


def test_ws_partial_tiles_are_zero_padded(tmp_path: Path) -> None:
    a, b = rand8((DIM, DIM)), rand8((DIM, DIM))
    rows, inner, cols = 10, 7, 12
    p = Program()
    pa, pb = p.put(a), p.put(b)
    c = p.out(DIM * DIM * 4)
    p.config_ex(ws=True)
    p.config_ld(DIM)
    p.mvin(pa, 0)
    p.mvin(pb, 16)
    p.preload(16, ACC | 0, bd_cols=cols, bd_rows=inner, c_cols=DIM, c_rows=DIM)
    p.compute(0, GARBAGE, a_cols=inner, a_rows=rows)
    p.config_st(DIM * 4)
    p.mvout(c, ACC | FULL | 0)
    p.run(tmp_path)
    want = np.zeros((DIM, DIM), np.int64)
    want[:rows, :cols] = mm(a[:rows, :inner], b[:inner, :cols])
    np.testing.assert_array_equal(p.read(c, np.int32, (DIM, DIM)), want)


@pytest.mark.parametrize("a_t,b_t", [(False, True), (True, False)])
def test_ws_transposes(tmp_path: Path, a_t: bool, b_t: bool) -> None:
    a, b = rand8((DIM, DIM)), rand8((DIM, DIM))
    p = Program()
    pa, pb = p.put(a.T if a_t else a), p.put(b.T if b_t else b)
    c = p.out(DIM * DIM * 4)
    p.config_ex(ws=True, a_t=a_t, b_t=b_t)
    p.config_ld(DIM)
    p.mvin(pa, 0)
    p.mvin(pb, 16)
    p.preload(16, ACC | 0)
    p.compute(0, GARBAGE)
    p.config_st(DIM * 4)
    p.mvout(c, ACC | FULL | 0)
    p.run(tmp_path)
    np.testing.assert_array_equal(p.read(c, np.int32, (DIM, DIM)), mm(a, b))


def test_os_shift_saturate_relu_to_scratchpad(tmp_path: Path) -> None:
    a, b, d = rand8((DIM, DIM)), rand8((DIM, DIM)), rand8((DIM, DIM))
    shift = 7
    p = Program()
    pa, pb, pd = p.put(a), p.put(b), p.put(d)
    out = p.out(DIM * DIM)
    p.config_ex(ws=False, act=1, shift=shift)
    p.config_ld(DIM)
    p.mvin(pa, 0)
    p.mvin(pb, 16)
    p.mvin(pd, 32)
    p.preload(32, 48)  # OS: D preloads the sums, C goes to scratchpad row 48
    p.compute(0, 16)
    p.config_st(DIM)
    p.mvout(out, 48)
    p.run(tmp_path)
    total = d.astype(np.int64) + mm(a, b)
    q, r = np.divmod(total, 2**shift)
    half = 2 ** (shift - 1)
    rounded = q + ((r > half) | ((r == half) & (q % 2 == 1)))  # half to even
    want = np.maximum(np.clip(rounded, -128, 127), 0)
    np.testing.assert_array_equal(p.read(out, np.int8, (DIM, DIM)), want)
