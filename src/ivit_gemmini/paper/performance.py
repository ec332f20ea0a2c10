"""The performance table: per image, Spike's counted instructions and the modelled core, Gemmini
and total cycles; the wall time of every stage; the seed project's figures only beside the same
model (DeiT-tiny at 224 px).

Inputs are files the current run's rules declared: the Spike stats listed in the spike shard
summaries (`shards.collect.spike_stats_files`), the core-cycle profile (profile_core_cycles)
and the benchmark TSVs of the jobs upstream of the run's logits
(`paper.targets.stage_benchmarks`). Nothing is globbed, so files of earlier configurations,
images or shards never reach the table; nothing is re-run.
"""

from __future__ import annotations

import csv
import io
import json
import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ivit_gemmini.io import atomic_write_text
from ivit_gemmini.simulate.core_cycles import GEMMINI_WAIT_KEYS, gemmini_cycles, image_cycles

SEED_SPIKE_WALL_S = 5 * 60  # the seed README: "Spike (ISS) ~5 minutes, ~11B cycles" per image
SEED_CYCLES = 11e9
SEED_MODEL = "DeiT-tiny 224 px, from its README"
# Rules whose jobs each run a shard of images (benchmark folder = rule name).
SHARD_RULES = frozenset({"quantize_images", "run_torch_int", "run_torch_fakequant",
                         "run_tvm_cpu", "run_spike", "run_spike_rtl", "run_verilator"})
SEED_ARCH = {"depth": 12, "dim": 192, "image_size": 224, "patch_size": 16}  # what it ran


def comparable_to_seed(arch: Mapping[str, Any]) -> bool:
    """The seed project's figures are DeiT-tiny's: only that model is compared with them."""
    return all(arch.get(k) == v for k, v in SEED_ARCH.items())


@dataclass(frozen=True)
class SpikeImage:
    """What one Spike run of one image cost: counted instructions, modelled cycles."""

    image: str
    instructions: int  # all retired instructions of the inference (counted: minstret)
    gemmini_kernel_instructions: int  # retired inside the kernels that drive Gemmini
    core_kernel_instructions: int  # retired inside the kernels that run on the core
    gemmini_cycles: int  # modelled: the extension's timing model
    wall_s: float  # measured: Spike's wall time
    core_cycles: int | None = None  # modelled: Rocket pipeline model (None without a profile)
    gemmini_wait_cycles: int = 0  # modelled: the part of gemmini_cycles the core waits for

    @property
    def total_cycles(self) -> int | None:
        """Modelled: core cycles plus the Gemmini cycles the core waits for at its fences."""
        return None if self.core_cycles is None else self.core_cycles + self.gemmini_wait_cycles


@dataclass(frozen=True)
class StageTime:
    stage: str  # the rule name
    jobs: int
    mean_s: float
    max_s: float
    total_s: float
    cpu_s: float
    per_image: bool


def read_spike_stats(image: str, stats: Mapping[str, Any],
                     profile: Mapping[str, Any] | None = None) -> SpikeImage:
    kernels = stats.get("kernels", {})
    core = image_cycles(stats, profile)["core_cycles"] if profile is not None else None
    return SpikeImage(
        image=image,
        instructions=int(kernels.get("total", {}).get("instret", 0)),
        gemmini_kernel_instructions=int(kernels.get("gemmini", {}).get("instret", 0)),
        core_kernel_instructions=int(kernels.get("core", {}).get("instret", 0)),
        gemmini_cycles=gemmini_cycles(stats),
        wall_s=float(stats.get("wall_s", 0.0)),
        core_cycles=core,
        gemmini_wait_cycles=gemmini_cycles(stats, GEMMINI_WAIT_KEYS),
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


def rule_of(path: str | Path) -> str:
    """The rule a benchmark TSV belongs to: its folder right under `benchmarks/`."""
    parts = Path(path).parts
    return parts[parts.index("benchmarks") + 1] if "benchmarks" in parts else Path(path).parent.name


def stage_times(bench_files: Sequence[str | Path], images: Sequence[str]) -> list[StageTime]:
    """Per rule, from exactly the given benchmark TSVs: per-image stages (shard jobs, or files
    named after one of `images`) and stages that ran once."""
    wanted = set(images)
    by_rule: dict[str, list[Path]] = defaultdict(list)
    for f in bench_files:
        if Path(f).is_file():
            by_rule[rule_of(f)].append(Path(f))
    out = []
    for rule, files in sorted(by_rule.items()):
        batched = rule in SHARD_RULES  # jobs of many images (shards)
        per_image = batched or any(f.stem in wanted for f in files)
        times = [read_benchmark(f) for f in sorted(files)]
        walls = [t[0] for t in times]
        # A batched stage's mean is per image: its jobs' total over the run's images.
        mean = sum(walls) / len(images) if batched and images else statistics.fmean(walls)
        out.append(StageTime(rule, len(files), mean, max(walls), sum(walls),
                             sum(t[1] for t in times), per_image))
    return out


def _opt(v: int | None) -> str:
    return "" if v is None else str(v)


def performance_csv(spike: Sequence[SpikeImage], stages: Sequence[StageTime],
                    seed: bool = True) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["kind", "name", "jobs", "wall_s", "max_wall_s", "total_wall_s", "cpu_s",
                "instructions", "gemmini_kernel_instructions", "core_kernel_instructions",
                "core_cycles_modelled", "gemmini_cycles_modelled",
                "gemmini_wait_cycles_modelled", "total_cycles_modelled"])
    for s in spike:
        w.writerow(["spike_image", s.image, 1, f"{s.wall_s:.3f}", "", "", "", s.instructions,
                    s.gemmini_kernel_instructions, s.core_kernel_instructions,
                    _opt(s.core_cycles), s.gemmini_cycles, s.gemmini_wait_cycles,
                    _opt(s.total_cycles)])
    for t in stages:
        w.writerow(["stage_per_image" if t.per_image else "stage_once", t.stage, t.jobs,
                    f"{t.mean_s:.3f}", f"{t.max_s:.3f}", f"{t.total_s:.3f}", f"{t.cpu_s:.3f}",
                    "", "", "", "", "", "", ""])
    if seed:
        w.writerow(["seed", SEED_MODEL, 1, SEED_SPIKE_WALL_S, "", "", "", int(SEED_CYCLES), "",
                    "", "", "", "", ""])
    return buf.getvalue()


def _big(n: float) -> str:
    for div, unit in ((1e9, " B"), (1e6, " M"), (1e3, " k")):
        if abs(n) >= div:
            return f"{n / div:.2f}{unit}"
    return f"{n:.0f}"


def performance_markdown(spike: Sequence[SpikeImage], stages: Sequence[StageTime],
                         model: str, seed: bool = True) -> str:
    lines = ["# Performance", "", f"Model: {model}.", ""]
    if spike:
        def mean(key: str) -> float | None:
            values = [getattr(s, key) for s in spike]
            return None if None in values else statistics.fmean(values)

        def big(key: str) -> str:
            v = mean(key)
            return "n/a" if v is None else _big(v)

        lines += ["## Spike (Gemmini), per image", "",
                  "| | images | instructions (counted) | in Gemmini kernels | in core kernels | "
                  "core cycles (modelled) | Gemmini cycles (modelled) | core waits for Gemmini "
                  "(modelled) | total cycles (modelled) | Spike wall time (measured) |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
                  f"| this run (mean) | {len(spike)} | {big('instructions')} | "
                  f"{big('gemmini_kernel_instructions')} | {big('core_kernel_instructions')} | "
                  f"{big('core_cycles')} | {big('gemmini_cycles')} | "
                  f"{big('gemmini_wait_cycles')} | {big('total_cycles')} | "
                  f"{mean('wall_s') or 0.0:.2f} s |"]
        if seed:
            # Spike counts one cycle per instruction: the seed's "~11 B cycles" are a count.
            lines.append(f"| seed project ({SEED_MODEL}) | 1 | ~{_big(SEED_CYCLES)} | | | | | | "
                         f"| ~{SEED_SPIKE_WALL_S // 60} min |")
        lines += ["", "Instructions are counted by Spike (minstret around the inference). Core "
                  "cycles are modelled: each kernel's counted instructions times its cycles per "
                  "instruction on an in-order Rocket pipeline (mul/div latencies, load-use "
                  "stalls, branches, L1/L2 misses), from one PC-histogram run per model and "
                  "configuration (docs/core-cycle-model.md). Gemmini cycles are the extension's "
                  "timing model, calibrated on published RTL measurements "
                  "(docs/timing-model.md). The total is the core's cycles plus the part of "
                  "Gemmini's the core waits for (at its fences, or for a full reservation "
                  "station)."]
        if not seed:
            lines.append("The seed project's figures (~11 B cycles, ~5 min per image) are for "
                         "DeiT-tiny at 224 px and are not shown beside another model.")
        lines.append("")
    else:
        lines += ["No Spike statistics: add `spike` to the config's backends for this table.", ""]
    if stages:
        lines += ["## Wall time per stage (Snakemake benchmarks, measured)", "",
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


def tabulate_performance(stats_paths: Sequence[str | Path], bench_files: Sequence[str | Path],
                         images: Sequence[str], manifest: str | Path, *,
                         profile: Sequence[str | Path] = (), csv_out: str | Path,
                         md_out: str | Path) -> None:
    """The `tabulate_performance` rule: only the files its rule declared as inputs."""
    from ivit_gemmini.paper.accuracy import describe_model
    from ivit_gemmini.simulate.core_cycles import read_profile

    prof = read_profile(profile[0]) if profile else None
    spike = [read_spike_stats(Path(p).stem, json.loads(Path(p).read_text(encoding="utf-8")),
                              prof) for p in stats_paths]
    stages = stage_times(bench_files, images)
    info = json.loads(Path(manifest).read_text(encoding="utf-8"))
    seed = comparable_to_seed(info["arch"])
    atomic_write_text(csv_out, performance_csv(spike, stages, seed))
    atomic_write_text(md_out, performance_markdown(spike, stages, describe_model(info), seed))
