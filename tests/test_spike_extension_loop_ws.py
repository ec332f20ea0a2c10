"""LOOP_WS (the tiled matmul behind tiled_matmul_auto) on the Gemmini Spike model against
numpy: padding in I/J/K, bias (per row or repeated), int8 bias, scale, ReLU, full int32 output,
transposed A or B."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from spike_helpers import DIM, Program

pytestmark = pytest.mark.usefixtures("mesh_backend")  # spike and spike-rtl


def ceil_tiles(n: int) -> int:
    return -(-n // DIM)


CASES = [
    # M, K, N, bias, full_C, a_t, b_t, low_D, act, scale
    (16, 16, 16, "rows", False, False, False, False, 0, 1 / 64),
    (37, 50, 29, "rows", False, False, False, False, 1, 1 / 200),
    (40, 70, 33, "repeat", True, False, False, False, 0, 1.0),
    (23, 45, 31, None, False, True, False, False, 0, 1 / 100),
    (30, 33, 20, "rows", True, False, True, False, 0, 1.0),
    (17, 64, 48, "rows", False, False, False, True, 0, 1 / 300),
]


@pytest.mark.parametrize("M,Kd,N,bias,full_C,a_t,b_t,low_D,act,scale", CASES)
def test_loop_ws_matches_numpy(
    tmp_path: Path,
    M: int,
    Kd: int,
    N: int,
    bias: str | None,
    full_C: bool,
    a_t: bool,
    b_t: bool,
    low_D: bool,
    act: int,
    scale: float,
) -> None:
    rng = np.random.default_rng(M * 1000 + Kd * 10 + N)
    a = rng.integers(-128, 128, (M, Kd), dtype=np.int8)
    b = rng.integers(-128, 128, (Kd, N), dtype=np.int8)
    ni, nj, nk = ceil_tiles(M), ceil_tiles(N), ceil_tiles(Kd)
    pads = (ni * DIM - M, nj * DIM - N, nk * DIM - Kd)
    p = Program()
    pa = p.put(a.T.copy() if a_t else a)
    pb = p.put(b.T.copy() if b_t else b)
    a_stride, b_stride = (M if a_t else Kd), (Kd if b_t else N)
    d_rows = 1 if bias == "repeat" else M
    d_dtype = np.int8 if low_D else np.int32
    lo, hi = (-128, 128) if low_D else (-(10**5), 10**5)
    d = rng.integers(lo, hi, (d_rows, N)).astype(d_dtype)
    pd = p.put(d) if bias else None
    c_bytes = 4 if full_C else 1
    pc = p.out(M * N * c_bytes)

    p.config_ex(ws=True, a_t=a_t, b_t=b_t)
    p.config_ld(a_stride, unit=0)
    p.config_ld(b_stride, unit=1)
    d_elem = 1 if low_D else 4
    p.config_ld(0 if bias == "repeat" else N * d_elem, shrunk=low_D, unit=2)
    p.config_st(N * c_bytes, scale=scale, act=act)
    p.loop_ws(
        ni,
        nj,
        nk,
        pads,
        pa,
        pb,
        pd,
        pc,
        (a_stride, b_stride, 0 if bias == "repeat" else N, N),
        a_t=a_t,
        b_t=b_t,
        full_C=full_C,
        low_D=low_D,
        ex_accumulate=bias is not None,
    )
    run = p.run(tmp_path)

    acc = a.astype(np.int64) @ b.astype(np.int64)
    if bias:
        acc = acc + np.broadcast_to(d.astype(np.int64), (M, N))
    acc32 = acc.astype(np.int32)
    if full_C:
        np.testing.assert_array_equal(p.read(pc, np.int32, (M, N)), acc32)
    else:
        want = np.clip(np.rint(acc32.astype(np.float32) * np.float32(scale)), -128, 127)
        if act == 1:
            want = np.maximum(want, 0)
        np.testing.assert_array_equal(p.read(pc, np.int8, (M, N)), want.astype(np.int8))
    assert run.stats["commands"]["LOOP_WS"] == 1
    assert run.stats["macs_useful"] == M * N * Kd
    assert run.stats["ops"]["compute"] == ni * nj * nk
