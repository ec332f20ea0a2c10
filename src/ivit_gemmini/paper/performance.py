"""The performance table: Spike instructions and estimated Gemmini cycles per image, and the
wall time of every stage per image, against the seed project's ~5 min / ~11 B cycles.

Inputs are files earlier rules already wrote: `results/stats/spike/{image}.json` (run_spike)
and Snakemake's benchmark TSVs (`results/benchmarks/<rule>/.../<name>.tsv`). Nothing is re-run.
"""

from __future__ import annotations

import csv
import io
import json
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ivit_gemmini.io import atomic_write_text

SEED_SPIKE_WALL_S = 5 * 60  # the seed README: "Spike (ISS) ~5 minutes, ~11B cycles" per image
SEED_CYCLES = 11e9
SEED_MODEL = "DeiT-tiny 224 px, from its README"
# Rules whose jobs each run a shard of images (benchmark folder = rule name).
SHARD_RULES = frozenset({"quantize_images", "run_torch_int", "run_torch_fakequant",
                         "run_tvm_cpu", "run_spike", "run_verilator"})


@dataclass(frozen=True)
class SpikeImage:
    """What one Spike run of one image cost (Spike retires one instruction a cycle)."""

    image: str
    instructions: int  # all retired instructions (core + Gemmini commands)
    gemmini_kernel_instructions: int  # retired inside the kernels that drive Gemmini
    core_kernel_instructions: int  # retired inside the kernels that run on the core
    gemmini_cycles: int  # modelled by the extension's timing model (gemmini_cycles_modelled)
    wall_s: float

    @property
    def estimated_cycles(self) -> int:
        """Core instructions at one cycle each, plus the accelerator's modelled cycles, with
        no overlap between them: a conservative (high) estimate."""
        return self.instructions + self.gemmini_cycles


@dataclass(frozen=True)
class StageTime:
    stage: str  # the rule name
    jobs: int
    mean_s: float
    max_s: float
    total_s: float
    cpu_s: float
    per_image: bool


def read_spike_stats(image: str, stats: Mapping[str, Any]) -> SpikeImage:
    kernels = stats.get("kernels", {})
    gem = stats.get("gemmini", {}) or {}
    return SpikeImage(
        image=image,
        instructions=int(kernels.get("total", {}).get("instret", 0)),
        gemmini_kernel_instructions=int(kernels.get("gemmini", {}).get("instret", 0)),
        core_kernel_instructions=int(kernels.get("core", {}).get("instret", 0)),
        gemmini_cycles=int(gem.get("gemmini_cycles_modelled", 0)),
        wall_s=float(stats.get("wall_s", 0.0)),
    )


def read_benchmark(path: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one Snakemake benchmark TSV (its last line)."""
    rows = list(csv.DictReader(path.read_text(encoding="utf-8").splitlines(), delimiter="\t"))
    if not rows:
        return 0.0, 0.0
    last = rows[-1]

    def num(key: str) -> float:
        try:
            return float(last.get(key, 0) or 0)
        except ValueError:  # "NA" when the job was too short to measure
            return 0.0

    return num("s"), num("cpu_time")


def stage_times(bench_root: Path, images: Sequence[str]) -> list[StageTime]:
    """Per rule: the benchmark TSVs named after one of `images` (per-image stages), or all of
    its TSVs when none is (stages that run once)."""
    wanted = set(images)
    out = []
    for rule_dir in sorted(p for p in bench_root.iterdir() if p.is_dir()):
        files = sorted(rule_dir.rglob("*.tsv"))
        batched = rule_dir.name in SHARD_RULES  # jobs of many images (shards)
        mine = [f for f in files if f.stem in wanted]
        per_image = bool(mine) or batched
        chosen = mine if mine else files
        if not chosen:
            continue
        times = [read_benchmark(f) for f in chosen]
        walls = [t[0] for t in times]
        # A batched stage's mean is per image: its jobs' total over the run's images.
        mean = sum(walls) / len(images) if batched and images else statistics.fmean(walls)
        out.append(StageTime(rule_dir.name, len(chosen), mean, max(walls), sum(walls),
                             sum(t[1] for t in times), per_image))
    return out


def performance_csv(spike: Sequence[SpikeImage], stages: Sequence[StageTime]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["kind", "name", "jobs", "wall_s", "max_wall_s", "total_wall_s", "cpu_s",
                "instructions", "gemmini_kernel_instructions", "core_kernel_instructions",
                "gemmini_cycles", "estimated_cycles"])
    for s in spike:
        w.writerow(["spike_image", s.image, 1, f"{s.wall_s:.3f}", "", "", "", s.instructions,
                    s.gemmini_kernel_instructions, s.core_kernel_instructions, s.gemmini_cycles,
                    s.estimated_cycles])
    for t in stages:
        w.writerow(["stage_per_image" if t.per_image else "stage_once", t.stage, t.jobs,
                    f"{t.mean_s:.3f}", f"{t.max_s:.3f}", f"{t.total_s:.3f}", f"{t.cpu_s:.3f}",
                    "", "", "", "", ""])
    w.writerow(["seed", SEED_MODEL, 1, SEED_SPIKE_WALL_S, "", "", "", "", "", "", "",
                int(SEED_CYCLES)])
    return buf.getvalue()


def _big(n: float) -> str:
    for div, unit in ((1e9, " B"), (1e6, " M"), (1e3, " k")):
        if abs(n) >= div:
            return f"{n / div:.2f}{unit}"
    return f"{n:.0f}"


def performance_markdown(spike: Sequence[SpikeImage], stages: Sequence[StageTime],
                         model: str) -> str:
    lines = ["# Performance", "", f"Model: {model}.", ""]
    if spike:
        mean = {k: statistics.fmean(getattr(s, k) for s in spike) for k in (
            "instructions", "gemmini_kernel_instructions", "core_kernel_instructions",
            "gemmini_cycles", "estimated_cycles", "wall_s")}
        lines += ["## Spike (Gemmini), per image", "",
                  "| | images | instructions | in Gemmini kernels | in core kernels | Gemmini "
                  "cycles (model) | estimated cycles | Spike wall time |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|",
                  f"| this run (mean) | {len(spike)} | {_big(mean['instructions'])} | "
                  f"{_big(mean['gemmini_kernel_instructions'])} | "
                  f"{_big(mean['core_kernel_instructions'])} | {_big(mean['gemmini_cycles'])} | "
                  f"{_big(mean['estimated_cycles'])} | {mean['wall_s']:.2f} s |",
                  f"| seed project ({SEED_MODEL}) | 1 | | | | | ~{_big(SEED_CYCLES)} | "
                  f"~{SEED_SPIKE_WALL_S // 60} min |", "",
                  "Spike retires one instruction per cycle. Estimated cycles = all retired "
                  "instructions + the Gemmini extension's modelled cycles (its timing model, "
                  "calibrated on published RTL measurements: docs/timing-model.md), with no "
                  "overlap between core and accelerator.", ""]
    else:
        lines += ["No Spike statistics: add `spike` to the config's backends for this table.", ""]
    if stages:
        lines += ["## Wall time per stage (Snakemake benchmarks)", "",
                  "| stage | runs | jobs | mean wall s per image or run | max wall s of a job | "
                  "total wall s | CPU s |",
                  "|---|---|---:|---:|---:|---:|---:|"]
        for t in stages:
            runs = ("per image, in shards" if t.stage in SHARD_RULES else "per image") \
                if t.per_image else "once"
            lines.append(f"| {t.stage} | {runs} | {t.jobs} | {t.mean_s:.2f} | {t.max_s:.2f} | "
                         f"{t.total_s:.1f} | {t.cpu_s:.1f} |")
        lines += ["", "Wall times include Python start-up and library imports of each job and "
                  "depend on the machine's load.", ""]
    return "\n".join(lines)


def tabulate_performance(stats_paths: Sequence[str | Path], bench_root: str | Path,
                         images: Sequence[str], manifest: str | Path, *, csv_out: str | Path,
                         md_out: str | Path) -> None:
    """The `tabulate_performance` rule."""
    from ivit_gemmini.paper.accuracy import describe_model

    spike = [read_spike_stats(Path(p).stem, json.loads(Path(p).read_text(encoding="utf-8")))
             for p in stats_paths]
    root = Path(bench_root)
    stages = stage_times(root, images) if root.is_dir() else []
    model = describe_model(json.loads(Path(manifest).read_text(encoding="utf-8")))
    atomic_write_text(csv_out, performance_csv(spike, stages))
    atomic_write_text(md_out, performance_markdown(spike, stages, model))
