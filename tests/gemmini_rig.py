"""Shared fixture and numpy golden models for the Gemmini ISA tests (test_gemmini_*.py).

The goldens implement Gemmini's documented arithmetic from scratch in numpy (fp32 scale, round
half to even, saturate to int8, ReLU after the scale, int32 accumulation) and never call the code
under test.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from ivit_gemmini.gemmini.case_blob import CaseBuilder, CaseResult, build_runner, run_case
from ivit_gemmini.simulate.spike import build_extension

# Builds are keyed by a hash of their sources, so a cache shared across sessions is safe.
CACHE = Path(tempfile.gettempdir()) / "ivit-gemmini-cache"
RELU = 1


@dataclass
class Rig:
    extension: Path
    runner: Path
    workdir: Path

    def run(self, case: CaseBuilder, name: str = "case") -> CaseResult:
        """Run a case; CPU cases run WITHOUT the extension (so any Gemmini instruction traps)."""
        extension = None if case.dataflow == "CPU" else self.extension
        result, _ = run_case(self.runner, case, self.workdir, extension=extension, name=name)
        return result


# Every ISA test runs on both builds of the extension: the functional mesh (`spike`) and our
# RTL mesh simulated by Verilator (`spike-rtl`).
@pytest.fixture(scope="session", params=["functional", "rtl"], ids=["spike", "spike-rtl"])
def rig(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Rig:
    return Rig(
        build_extension(CACHE / "spike-ext", mesh=request.param),
        build_runner(CACHE / "case-runner"),
        tmp_path_factory.mktemp("gemmini_cases"),
    )


def to_int8_scaled(x: np.ndarray, scale: float) -> np.ndarray:
    """fp32(x) * fp32(scale), rounded half to even, saturated to int8 (infinities by sign). A NaN
    product (NaN scale, or 0 x inf) gives 127: the RTL's hardfloat RecFNToIN treats NaN as a
    positive overflow."""
    with np.errstate(invalid="ignore", over="ignore"):
        y = x.astype(np.float32) * np.float32(scale)
    y = np.where(np.isnan(y), np.float32(127), y)
    return np.clip(np.rint(y), -128, 127).astype(np.int8)


def golden_matmul(
    A: np.ndarray,
    B: np.ndarray,
    D: np.ndarray | None = None,
    *,
    A_scale: float = 1.0,
    B_scale: float = 1.0,
    act: int = 0,
    scale: float = 1.0,
    repeating_bias: bool = False,
    transpose_A: bool = False,
    transpose_B: bool = False,
    full_C: bool = False,
) -> np.ndarray:
    a = to_int8_scaled(A.T if transpose_A else A, A_scale).astype(np.int64)
    b = to_int8_scaled(B.T if transpose_B else B, B_scale).astype(np.int64)
    acc = a @ b
    if D is not None:
        acc = acc + (D[:1] if repeating_bias else D).astype(np.int64)
    acc32 = acc.astype(np.int32)  # wraps like the int32 accumulator
    if full_C:
        return acc32
    out = to_int8_scaled(acc32, scale)
    return np.maximum(out, 0) if act == RELU else out


def golden_conv(
    x: np.ndarray,
    w: np.ndarray,
    bias: np.ndarray | None,
    *,
    stride: int,
    padding: int,
    act: int = 0,
    scale: float = 1.0,
    pool_size: int = 0,
    pool_stride: int = 0,
    pool_padding: int = 0,
) -> np.ndarray:
    """NHWC input, HWIO weights; max pooling whose padding counts as 0 (Gemmini's rule)."""
    k = w.shape[0]
    xp = np.pad(x.astype(np.int64), ((0, 0), (padding,) * 2, (padding,) * 2, (0, 0)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(1, 2))[:, ::stride, ::stride]
    acc = np.einsum("nhwcyx,yxco->nhwo", win, w.astype(np.int64))
    if bias is not None:
        acc = acc + bias.astype(np.int64)
    out = to_int8_scaled(acc.astype(np.int32), scale)
    if act == RELU:
        out = np.maximum(out, 0)
    if pool_stride:
        p = pool_padding
        op = np.pad(out.astype(np.int16), ((0, 0), (p, p), (p, p), (0, 0)))
        pw = np.lib.stride_tricks.sliding_window_view(op, (pool_size, pool_size), axis=(1, 2))
        out = pw[:, ::pool_stride, ::pool_stride].max(axis=(-2, -1)).astype(np.int8)
    return out


def first_mismatch(got: np.ndarray, want: np.ndarray) -> str:
    """A one-line description of where two arrays differ (for assertion messages)."""
    if got.shape != want.shape:
        return f"shape {got.shape} != {want.shape}"
    bad = np.argwhere(got != want)
    if len(bad) == 0:
        return "equal"
    at = tuple(int(i) for i in bad[0])
    return f"{len(bad)} of {got.size} differ; first at {at}: got {got[at]}, want {want[at]}"
