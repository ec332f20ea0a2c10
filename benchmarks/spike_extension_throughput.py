"""Throughput of the Gemmini Spike extension on all DeiT-tiny matmul shapes (1.25 G MAC).

Each matmul is issued as LOOP_WS tiles sized the way tiled_matmul_auto sizes them (largest tile
within half the scratchpad and half the accumulator), through the raw-instruction test driver.
Prints wall time and Spike's CPU time (the latter is what a busy 2-core machine does not
inflate); `--json PATH` also writes them.

    python benchmarks/spike_extension_throughput.py [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from spike_helpers import DIM, Program, extension  # noqa: E402

from ivit_gemmini.simulate.spike import run_spike  # noqa: E402

DEIT_TINY_BLOCK = (
    [(197, 192, 576)]
    + [(197, 64, 197)] * 3
    + [(197, 197, 64)] * 3
    + [(197, 192, 192), (197, 192, 768), (197, 768, 192)]
)
SHAPES = DEIT_TINY_BLOCK * 12 + [(196, 768, 192)]  # 12 blocks + patch embedding


def tiles(n: int) -> int:
    return -(-n // DIM)


def pick_tiles(ni: int, nj: int, nk: int) -> tuple[int, int, int]:
    """Largest (ti, tj, tk) with (ti*tk + tk*tj)*DIM <= half the scratchpad, ti*tj*DIM <= half
    the accumulator."""
    best: tuple[tuple[int, int], tuple[int, int, int]] | None = None
    for ti in range(1, ni + 1):
        for tj in range(1, min(nj, 32 // ti) + 1):
            tk = min(nk, 8192 // DIM // (ti + tj))
            if tk and (best is None or (ti * tj * tk, tk) > best[0]):
                best = ((ti * tj * tk, tk), (ti, tj, tk))
    assert best is not None
    return best[1]


def program() -> tuple[Program, int]:
    rng = np.random.default_rng(0)
    p = Program()
    pa = p.put(rng.integers(-128, 128, max(m * k for m, k, _ in SHAPES), dtype=np.int8))
    pb = p.put(rng.integers(-128, 128, max(k * n for _, k, n in SHAPES), dtype=np.int8))
    pd = p.put(rng.integers(-1000, 1000, 1024, dtype=np.int32))
    pc = p.alloc(max(m * n for m, _, n in SHAPES))
    p.config_ex(ws=True)
    macs = 0
    for M, Kd, N in SHAPES:
        ni, nj, nk = tiles(M), tiles(N), tiles(Kd)
        ti, tj, tk = pick_tiles(ni, nj, nk)
        p.config_ld(Kd, unit=0)
        p.config_ld(N, unit=1)
        p.config_ld(0, unit=2)  # one bias row repeated
        p.config_st(N, scale=1 / 256)
        for i0 in range(0, ni, ti):
            for j0 in range(0, nj, tj):
                for k0 in range(0, nk, tk):
                    ci, cj, ck = min(ti, ni - i0), min(tj, nj - j0), min(tk, nk - k0)
                    pads = (
                        ci * DIM - (min(M, (i0 + ci) * DIM) - i0 * DIM),
                        cj * DIM - (min(N, (j0 + cj) * DIM) - j0 * DIM),
                        ck * DIM - (min(Kd, (k0 + ck) * DIM) - k0 * DIM),
                    )
                    p.loop_ws(
                        ci,
                        cj,
                        ck,
                        pads,
                        pa + i0 * DIM * Kd + k0 * DIM,
                        pb + k0 * DIM * N + j0 * DIM,
                        pd + j0 * DIM * 4 if k0 == 0 else None,
                        pc + i0 * DIM * N + j0 * DIM if k0 + ck >= nk else None,
                        (Kd, N, 0, N),
                        ex_accumulate=True,
                    )
        macs += M * Kd * N
    return p, macs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    p, macs = program()
    with tempfile.TemporaryDirectory() as tmp:
        elf = p.build(Path(tmp))
        lib = extension()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.monotonic()
        run = run_spike(elf, extension=lib, timeout_s=600, stats_json=Path(tmp) / "stats.json")
        wall = time.monotonic() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    figures = {
        "gmac": macs / 1e9,
        "wall_s": wall,
        "cpu_s": cpu,
        "gmac_per_s_wall": macs / wall / 1e9,
        "gmac_per_s_cpu": macs / cpu / 1e9,
        "loop_ws": run.stats["commands"]["LOOP_WS"],
        "computes": run.stats["ops"]["compute"],
        "gemmini_cycles_modelled": run.stats["gemmini_cycles_modelled"],
    }
    assert run.stats["macs_useful"] == macs
    for key, value in figures.items():
        print(f"{key:18} {value:.3f}" if isinstance(value, float) else f"{key:18} {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
