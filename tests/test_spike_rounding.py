"""The model's integer conversions (gemmini/spike/rounding.h) against numpy, by property:
host-compiled for many examples, and through a real scaled MVOUT on Spike for a few."""

from __future__ import annotations

import ctypes
import functools
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spike_helpers import ACC, DIM, REPO, Program

WRAPPER = r"""
#include "rounding.h"
extern "C" int acc_scale_c(int x, float s) { return gemmini::acc_scale(x, s); }
extern "C" int shift_c(int x, unsigned s) { return gemmini::rounding_shift_to_elem(x, s); }
"""


@functools.cache
def rounding_lib() -> ctypes.CDLL:
    tmp = Path(tempfile.mkdtemp(prefix="ivit-rounding-"))
    (tmp / "w.cc").write_text(WRAPPER)
    lib = tmp / "librounding.so"
    subprocess.run(
        [
            "g++",
            "-std=c++20",
            "-O2",
            "-fPIC",
            "-shared",
            "-fwrapv",
            f"-I{REPO / 'gemmini' / 'spike'}",
            str(tmp / "w.cc"),
            "-o",
            str(lib),
        ],
        check=True,
    )
    dll = ctypes.CDLL(str(lib))
    dll.acc_scale_c.argtypes = [ctypes.c_int, ctypes.c_float]
    dll.shift_c.argtypes = [ctypes.c_int, ctypes.c_uint]
    return dll


def numpy_scale(x: int, s: float) -> int:
    """fp32 product, round half to even, saturate; NaN -> 127 (the RTL's RecFNToIN rule)."""
    with np.errstate(invalid="ignore", over="ignore"):
        prod = np.float32(x) * np.float32(s)
    return 127 if np.isnan(prod) else int(np.clip(np.rint(prod), -128, 127))


int32s = st.integers(-(2**31), 2**31 - 1)
scales = st.floats(width=32, allow_nan=False, allow_infinity=False)
any_scales = st.floats(width=32)  # with NaN, infinities, subnormals and both zeros

SPECIAL_SCALES = [0.0, -0.0, 2.0**-149, 2.0**-126 - 2.0**-149, 1e38, np.inf, -np.inf, np.nan]


@pytest.mark.parametrize("scale", SPECIAL_SCALES)
@pytest.mark.parametrize("x", [0, 1, -1, 127, -128, 2**31 - 1, -(2**31)])
def test_acc_scale_special_scales(x: int, scale: float) -> None:
    assert rounding_lib().acc_scale_c(x, scale) == numpy_scale(x, scale)


@settings(max_examples=500, deadline=None)
@given(int32s, any_scales)
def test_acc_scale_any_fp32_scale(x: int, s: float) -> None:
    assert rounding_lib().acc_scale_c(x, s) == numpy_scale(x, s)


@settings(max_examples=1500, deadline=None)
@given(int32s, scales)
def test_acc_scale_is_fp32_round_half_even_then_clip(x: int, s: float) -> None:
    with np.errstate(over="ignore"):
        assert rounding_lib().acc_scale_c(x, s) == numpy_scale(x, s)


@settings(max_examples=500, deadline=None)
@given(st.integers(-(2**24), 2**24), st.sampled_from([0.5, 0.25, 1.5, -0.5, 2.0**-10]))
def test_acc_scale_exact_halves(n: int, s: float) -> None:
    assert rounding_lib().acc_scale_c(n, s) == numpy_scale(n, s)


@settings(max_examples=800, deadline=None)
@given(int32s, st.integers(0, 31))
def test_rounding_shift_half_even(x: int, shift: int) -> None:
    if shift == 0:
        want = x
    else:
        q, r = divmod(x, 2**shift)  # floor division, as an arithmetic shift
        half = 2 ** (shift - 1)
        want = q + (1 if r > half or (r == half and q % 2) else 0)
    assert rounding_lib().shift_c(x, shift) == max(-128, min(127, want))


@settings(max_examples=4, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(2.0**-20, 4.0, width=32))
def test_scaled_mvout_on_spike(seed: int, scale: float) -> None:
    rng = np.random.default_rng(seed)
    x = rng.integers(-(2**31), 2**31, (4, DIM, DIM), dtype=np.int64).astype(np.int32)
    x[0] = rng.integers(-1000, 1000, (DIM, DIM))  # small values: the rounding region
    p = Program()
    px = p.put(x)
    out = p.out(x.size)
    p.config_ld(DIM * 4)
    p.config_st(DIM, scale=scale)
    for t in range(4):
        p.mvin(px + t * DIM * DIM * 4, ACC | (t * DIM))
        p.mvout(out + t * DIM * DIM, ACC | (t * DIM))
    with tempfile.TemporaryDirectory() as tmp:
        p.run(Path(tmp))
    want = np.clip(np.rint(x.astype(np.float32) * np.float32(scale)), -128, 127)
    np.testing.assert_array_equal(p.read(out, np.int8, x.shape), want.astype(np.int8))
