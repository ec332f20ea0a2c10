"""Benchmark: the core-cycle profiling run (spike -g + cache models) against the plain Spike run,
and how much two images' instruction mixes differ (one profile serves every image).

From a results tree the workflow has built (two images' inputs, libmodel.a and the Gemmini
extension; each image's ELF is linked in a temporary folder as the spike shard job links it):
  - CPU seconds of the plain Spike run and of the histogram run of the same ELF, and their ratio,
  - the relative L1 distance of the two images' instruction mixes (per function and kind),
  - both images' modelled core cycles per retired instruction (CPI).

    python benchmarks/bench_core_profile.py [--results results] [--config NAME]
        [--images chelsea coffee] [--memory-mb 256] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from ivit_gemmini.firmware.toolchain import DEFAULT_MEMORY_MB, DEFAULT_STACK_KB
from ivit_gemmini.shards.stages import temporary_elf
from ivit_gemmini.simulate.core_cycles import (
    disassemble,
    mix_distance,
    model_cycles,
    parse_cache_stats,
    parse_histogram,
    profile_command,
)
from ivit_gemmini.simulate.spike import spike_command


def _cpu_run(cmd: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    """CPU seconds (user + system) of a child process: comparable under load, unlike wall time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, proc


def measure(results: Path, config: str, images: list[str], memory_mb: int) -> dict[str, Any]:
    with ExitStack() as stack:
        elfs = [stack.enter_context(temporary_elf(
            i, results / "build" / config / "libmodel.a", results / "model" / "manifest.json",
            memory_mb=memory_mb, stack_kb=DEFAULT_STACK_KB, inputs=results / "inputs"))
            for i in images]
        return _measure(results / "build" / config / "libgemmini.so", elfs, images, memory_mb)


def _measure(ext: Path, elfs: list[Path], images: list[str], memory_mb: int) -> dict[str, Any]:
    plain_s, _ = _cpu_run(spike_command(elfs[0], ext, memory_mb=memory_mb))
    out: dict[str, Any] = {"images": images, "plain_cpu_s": round(plain_s, 2)}
    mixes = []
    for k, elf in enumerate(elfs):
        cpu, proc = _cpu_run(profile_command(elf, ext, memory_mb))
        if k == 0:
            out["profile_cpu_s"] = round(cpu, 2)
            out["slowdown"] = round(cpu / plain_s, 1)
        mix = model_cycles(disassemble(elf), parse_histogram(proc.stderr),
                           parse_cache_stats(proc.stdout))
        mixes.append(mix)
        n = sum(m.instructions for m in mix.values())
        out[f"cpi_{images[k]}"] = round(sum(m.cycles for m in mix.values()) / n, 4)
    out["mix_distance"] = mix_distance(mixes[0], mixes[1])
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", type=Path, default=Path("results"))
    ap.add_argument("--config", default="dim16_sp4x4096_acc1024")
    ap.add_argument("--images", nargs=2, default=["chelsea", "coffee"])
    ap.add_argument("--memory-mb", type=int, default=DEFAULT_MEMORY_MB,
                    help="the config's firmware.memory_mb (Spike -m)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    r = measure(args.results, args.config, args.images, args.memory_mb)
    print("| plain Spike CPU s | histogram run CPU s | slowdown | mix distance of "
          f"{' vs '.join(args.images)} | CPI (modelled, whole run) |")
    print("|---:|---:|---:|---:|---|")
    cpis = ", ".join(f"{i} {r[f'cpi_{i}']}" for i in args.images)
    print(f"| {r['plain_cpu_s']} | {r['profile_cpu_s']} | {r['slowdown']}x | "
          f"{r['mix_distance']:.2e} | {cpis} |")
    if args.json:
        args.json.write_text(json.dumps(r, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
