"""RTL unit tests: our SystemVerilog mesh (gemmini/rtl/), Verilated and driven through the
same backend the `spike-rtl` extension uses, against numpy. Geometries: a single PE (DIM 1),
one 2x2 tile inside a 4x4 mesh of two tile rows (DIM 4, TILE 2) and the whole mesh (DIM 4 and
DIM 8, one PE per tile as upstream's default). Golden values are numpy's."""

from __future__ import annotations

import numpy as np
import pytest
from rtl_helpers import MeshRun, round_shift_sat8, wrap32

# (dim, tile): a single PE; a mesh of 2x2 tiles (combinational inside a tile); full meshes
GEOMETRIES = [(1, 1), (4, 2), (8, 1)]


def i8(rng, *shape):
    return rng.integers(-128, 128, shape, dtype=np.int64)


@pytest.mark.parametrize(("dim", "tile"), GEOMETRIES)
def test_ws_back_to_back_double_buffering(dim, tile):
    """Weight tiles follow each other without draining: the next weights shift in while the
    current ones compute (accumulate computes reuse them; partial A rows and columns)."""
    rng = np.random.default_rng(dim * 10 + tile)
    run = MeshRun(dim)
    for t in range(4):
        B = i8(rng, dim, dim)
        D = i8(rng, dim, dim)
        A = i8(rng, dim, dim)
        run.job(ws=True, new_weights=True, a=A, preload=B, bd=D, expect=wrap32(D + A @ B))
        rows, cols = int(rng.integers(1, dim + 1)), int(rng.integers(1, dim + 1))
        A2 = i8(rng, rows, cols)  # a partial tile: zeros beyond
        run.job(ws=True, new_weights=False, a=A2, expect=wrap32(A2 @ B[:cols]))
        if t == 2:
            run.job(ws=True, new_weights=False, a=A, expect=None)  # results not wanted
    stats = run.check(tile)
    assert stats["drains"] == 1  # only the final drain: the computes streamed


@pytest.mark.parametrize(("dim", "tile"), GEOMETRIES)
def test_ws_signed_extremes_and_wraparound(dim, tile):
    run = MeshRun(dim)
    lo = np.full((dim, dim), -128)
    run.job(ws=True, new_weights=True, a=lo, preload=lo, expect=np.full((dim, dim), 16384 * dim))
    hi = np.full((dim, dim), 2**31 - 1)  # the partial sum to start from wraps past 2^31 - 1
    ones = np.ones((dim, dim), dtype=np.int64)
    run.job(ws=True, new_weights=True, a=ones, preload=ones, bd=hi, expect=wrap32(hi + dim))
    run.job(ws=True, new_weights=True, a=lo, preload=np.full((dim, dim), 127),
            expect=np.full((dim, dim), -128 * 127 * dim))
    run.check(tile)


@pytest.mark.parametrize(("dim", "tile"), GEOMETRIES)
def test_os_sums_stay_in_the_pes(dim, tile):
    """Output-stationary: D preloaded, A x B accumulated over several computes, the sums
    leave once per tile (raw to the accumulator, rounded + saturated to the scratchpad)."""
    rng = np.random.default_rng(100 + dim * 10 + tile)
    run = MeshRun(dim)
    for t in range(3):
        D = rng.integers(-(2**20), 2**20, (dim, dim))
        A1, B1 = i8(rng, dim, dim), i8(rng, dim, dim)
        k = int(rng.integers(1, dim + 1))
        A2, B2 = i8(rng, dim, k), i8(rng, k, dim)
        total = wrap32(D + A1 @ B1 + A2 @ B2)
        run.job(ws=False, new_weights=True, a=A1, preload=D, bd=B1)
        shift = [0, 3, 7][t]
        if t == 0:  # to the accumulator: full 32 bits, no shift
            run.job(ws=False, new_weights=False, a=A2, bd=B2, expect=total)
        else:
            run.job(ws=False, new_weights=False, a=A2, bd=B2, shift=shift, sat=True,
                    expect=round_shift_sat8(total, shift))
    stats = run.check(tile)
    assert stats["drains"] == 1


@pytest.mark.parametrize(("dim", "tile"), GEOMETRIES)
def test_os_saturation_and_rounding_extremes(dim, tile):
    run = MeshRun(dim)
    lo = np.full((dim, dim), -128)
    run.job(ws=False, new_weights=True, a=lo, bd=lo, sat=True, expect=np.full((dim, dim), 127))
    run.job(ws=False, new_weights=True, a=lo, bd=np.full((dim, dim), 127),
            preload=np.full((dim, dim), -(2**30)), sat=True, expect=np.full((dim, dim), -128))
    # ties round to even: 5/2 -> 2, 7/2 -> 4, -5/2 -> -2, -7/2 -> -4 (shift 1)
    vals = np.resize(np.array([5, 7, -5, -7]), (dim, dim))
    run.job(ws=False, new_weights=True, a=np.zeros((dim, dim), dtype=np.int64), preload=vals,
            shift=1, sat=True, expect=round_shift_sat8(vals, 1))
    run.check(tile)


@pytest.mark.parametrize(("dim", "tile"), GEOMETRIES)
def test_drain_then_continue(dim, tile):
    """A drain between computes (as before an mvout) keeps WS weights and OS raw sums."""
    rng = np.random.default_rng(7 + dim)
    run = MeshRun(dim)
    B, A1, A2 = i8(rng, dim, dim), i8(rng, dim, dim), i8(rng, dim, dim)
    run.job(ws=True, new_weights=True, a=A1, preload=B, expect=wrap32(A1 @ B))
    run.drain()
    run.job(ws=True, new_weights=False, a=A2, expect=wrap32(A2 @ B))
    run.drain()
    s1 = wrap32(A1 @ B)
    run.job(ws=False, new_weights=True, a=A1, bd=B, expect=s1)
    run.drain()
    run.job(ws=False, new_weights=False, a=A2, bd=B, expect=wrap32(s1 + A2 @ B))
    run.check(tile)


def test_ws_cycles_follow_the_streaming_formula():
    """Q weight tiles of M rows back to back: M + (Q-1)*max(M, DIM) + 3*DIM - 2 cycles, the
    execute-stage formula measured on Gemmini's RTL (counted by our RTL's clock), plus one:
    our mesh registers its inputs."""
    rng = np.random.default_rng(3)
    dim = 8
    for m, q in [(8, 1), (8, 3), (4, 3), (8, 5)]:
        run = MeshRun(dim)
        for _ in range(q):
            B, A = i8(rng, dim, dim), i8(rng, m, dim)
            run.job(ws=True, new_weights=True, a=A, preload=B, expect=wrap32(A @ B))
        stats = run.check()
        assert stats["rtl_cycles"] == m + (q - 1) * max(m, dim) + 3 * dim - 2 + 1, (m, q, stats)
