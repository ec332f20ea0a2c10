"""MVIN / MVOUT on the Gemmini Spike model against numpy: partial tiles, strides, blocks, the
fp32 mvin scale, int32 accumulator loads, accumulate, full-width and scaled read-out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from spike_helpers import ACC, ACCUMULATE, DIM, FULL, Program

pytestmark = pytest.mark.usefixtures("mesh_backend")  # spike and spike-rtl


def scale_to_int8(x: np.ndarray, scale: float) -> np.ndarray:
    prod = x.astype(np.float32) * np.float32(scale)  # fp32 product
    return np.clip(np.rint(prod), -128, 127).astype(np.int8)  # rint: half to even


def test_partial_tile_with_strides_keeps_rest_zero(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    src = rng.integers(-128, 128, (5, 40), dtype=np.int8)  # DRAM rows of 40 bytes
    p = Program()
    a = p.put(src)
    out = p.out(DIM * 24)
    p.config_ld(40)
    p.config_st(24)  # DRAM output row stride 24 bytes
    p.mvin(a, 100, cols=11, rows=5)
    p.mvout(out, 100, cols=16, rows=16)
    p.run(tmp_path)
    got = p.read(out, np.int8, (DIM, 24))[:, :DIM]
    want = np.zeros((DIM, DIM), np.int8)
    want[:5, :11] = src[:, :11]
    np.testing.assert_array_equal(got, want)


def test_multi_block_mvin_uses_block_stride(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    src = rng.integers(-128, 128, (DIM, 40), dtype=np.int8)
    p = Program()
    a = p.put(src)
    out = p.out(DIM * DIM * 3)
    p.config_ld(40, block_stride=DIM)
    p.config_st(DIM)
    p.mvin(a, 64, cols=40, rows=DIM)  # three blocks at rows 64, 80, 96
    for blk in range(3):
        p.mvout(out + blk * DIM * DIM, 64 + blk * DIM)
    p.run(tmp_path)
    got = p.read(out, np.int8, (3, DIM, DIM))
    for blk in range(3):
        want = np.zeros((DIM, DIM), np.int8)
        part = src[:, blk * DIM : (blk + 1) * DIM]
        want[:, : part.shape[1]] = part
        np.testing.assert_array_equal(got[blk], want)


def test_mvin_scale_rounds_half_even_and_saturates(tmp_path: Path) -> None:
    src = np.arange(-128, 128, dtype=np.int8).reshape(DIM, DIM)
    p = Program()
    a = p.put(src)
    outs = []
    for scale in (0.5, 1.5, 0.37, -2.0):
        out = p.out(DIM * DIM)
        outs.append((scale, out))
        p.config_ld(DIM, scale=scale)
        p.mvin(a, 0)
        p.config_st(DIM)
        p.mvout(out, 0)
    p.run(tmp_path)
    for scale, out in outs:
        np.testing.assert_array_equal(p.read(out, np.int8, (DIM, DIM)), scale_to_int8(src, scale))


def test_accumulator_int32_load_accumulate_and_full_readout(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    x = rng.integers(-(2**31), 2**31, (DIM, DIM), dtype=np.int64).astype(np.int32)
    y = rng.integers(-(2**31), 2**31, (DIM, DIM), dtype=np.int64).astype(np.int32)
    p = Program()
    ax, ay = p.put(x), p.put(y)
    full = p.out(DIM * DIM * 4)
    summed = p.out(DIM * DIM * 4)
    p.config_ld(DIM * 4)
    p.config_st(DIM * 4)
    p.mvin(ax, ACC | 0)
    p.mvout(full, ACC | FULL | 0)
    p.mvin(ay, ACC | ACCUMULATE | 0)
    p.mvout(summed, ACC | FULL | 0)
    p.run(tmp_path)
    np.testing.assert_array_equal(p.read(full, np.int32, (DIM, DIM)), x)
    wrapped = (x.astype(np.int64) + y).astype(np.int32)  # 32-bit wrap-around
    np.testing.assert_array_equal(p.read(summed, np.int32, (DIM, DIM)), wrapped)


def test_scaled_mvout_with_relu(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    x = rng.integers(-20000, 20000, (DIM, DIM), dtype=np.int32)
    x[0, :4] = [64, 192, -64, -192]  # exact halves at scale 1/128: 0.5, 1.5, -0.5, -1.5
    p = Program()
    ax = p.put(x)
    plain, relu = p.out(DIM * DIM), p.out(DIM * DIM)
    p.config_ld(DIM * 4)
    p.mvin(ax, ACC | 8)
    p.config_st(DIM, scale=1 / 128)
    p.mvout(plain, ACC | 8)
    p.config_st(DIM, scale=1 / 128, act=1)
    p.mvout(relu, ACC | 8)
    p.run(tmp_path)
    want = scale_to_int8(x, 1 / 128)
    assert list(want[0, :4]) == [0, 2, 0, -2]
    np.testing.assert_array_equal(p.read(plain, np.int8, (DIM, DIM)), want)
    np.testing.assert_array_equal(p.read(relu, np.int8, (DIM, DIM)), np.maximum(want, 0))


def test_shrunk_accumulator_load_and_zero_source(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    src = rng.integers(-128, 128, (DIM, DIM), dtype=np.int8)
    p = Program()
    a = p.put(src)
    out = p.out(DIM * DIM * 4)
    zeros = p.out(DIM * DIM)
    p.config_ld(DIM, scale=2.5, shrunk=True, unit=1)
    p.mvin(a, ACC | 32, unit=1)  # int8 into the accumulator, scaled and saturated
    p.config_st(DIM * 4)
    p.mvout(out, ACC | FULL | 32)
    p.config_ld(DIM)
    p.mvin(a, 200)
    p.mvin(0, 200, rel=False)  # DRAM address 0 loads zeros
    p.config_st(DIM)
    p.mvout(zeros, 200)
    p.run(tmp_path)
    np.testing.assert_array_equal(p.read(out, np.int32, (DIM, DIM)), scale_to_int8(src, 2.5))
    assert not p.read(zeros, np.int8, (DIM, DIM)).any()
