"""Benchmark: CPU seconds per image of every shard stage, and the digits set through four backends.

    python benchmarks/bench_dataset.py [--images N] [--no-digits] [--json FILE] [--workdir DIR]

Part 1 (DeiT-tiny demo checkpoint): N images (the four demo photographs under N names) in one
shard per backend (`shards.size` = N). The model is built first and not timed (params, tvm-cpu
library, libmodel.a, Spike extension); then the shard jobs run. Each shard job measures its own
CPU seconds with getrusage (user + system of the job process and its finished children, from
interpreter start-up, so imports and model loading are included) and writes them to its shard
summary; this divides them by N. Snakemake's `benchmark:` files are not used: they sample every
30 s after a job's first 15 s and miss the end of longer jobs. For spike, the job's CPU is split
into Spike's own (getrusage around each Spike process, in the stats JSON) and the rest: the
job's overhead per image (start-up, ELF link, log parsing), whose goal is 0.1 s.

Part 2: all 1,797 scikit-learn digits (`dataset.split: all`) through torch-int, torch-fakequant,
tvm-cpu and spike with `make paper`'s model (trained and built first, not timed): wall seconds of
the run of every shard job (measured).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
STAGES = ["quantize", "torch-int", "torch-fakequant", "tvm-cpu", "spike"]  # shard summary folders
BACKENDS = ["torch-int", "torch-fakequant", "tvm-cpu", "spike"]
GOALS = {"quantize": 0.05, "torch-int": 0.5, "torch-fakequant": 0.5, "tvm-cpu": 1.0,
         "spike overhead": 0.1}
DIGITS_GOAL_S = 300.0


def snakemake(work: Path, *args: str) -> float:
    start = time.monotonic()
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory",
           str(work), "--configfile", str(work / "config.yaml"), "--cores", "2", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"snakemake {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return time.monotonic() - start


def job_cpu_seconds(work: Path, stage: str) -> float:
    """CPU seconds of every shard job of `stage` (job + children), from the shard summaries."""
    total = 0.0
    for summary in (work / "results/shards" / stage).rglob("*.json"):
        res = json.loads(summary.read_text())["resources"]
        if res["reused"]:
            sys.exit(f"{summary} reused {res['reused']} image(s): use a fresh --workdir")
        total += res["cpu_s"] + res["children_cpu_s"]
    return total


def build_targets(config: dict) -> list[str]:
    from ivit_gemmini.sweep.configs import build_name

    name = build_name(config["gemmini"])
    return ["results/model/manifest.json", "results/build/tvm-cpu/model.so",
            f"results/build/{name}/libmodel.a", f"results/build/{name}/libgemmini.so"]


def per_image(work: Path, count: int) -> tuple[dict[str, float], float]:
    base = yaml.safe_load((REPO / "config/config.yaml").read_text())
    photos = work / "photos"
    photos.mkdir(parents=True, exist_ok=True)
    demo = work / "demo"
    from ivit_gemmini.model.images import export_demo_images

    sources = export_demo_images(demo)
    for i in range(count):
        dest = photos / f"img{i:05d}.png"
        if not dest.exists():
            shutil.copyfile(sources[i % len(sources)], dest)
    config = {**base, "images": str(photos), "backends": BACKENDS,
              "shards": {**base["shards"], "size": count}}
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    snakemake(work, "--", *build_targets(config))
    snakemake(work, "backend_outputs")
    out = {stage: job_cpu_seconds(work, stage) / count for stage in STAGES}
    stats = [json.loads(p.read_text()) for p in (work / "results/stats/spike").rglob("*.json")]
    if len(stats) != count:
        sys.exit(f"expected {count} spike stats files, found {len(stats)}")
    sim = {"cpu": sum(s["cpu_s"] for s in stats) / count,
           "wall": sum(s["wall_s"] for s in stats) / count}
    out["spike overhead"] = out["spike"] - sim["cpu"]
    return out, sim


def digits_wall(work: Path) -> float:
    base = yaml.safe_load((REPO / "config/config.yaml").read_text())
    paper = yaml.safe_load((REPO / "config/paper.yaml").read_text())
    config = {**base, **paper, "backends": BACKENDS,
              "dataset": {**paper["dataset"], "split": "all", "num_samples": None}}
    work.mkdir(parents=True, exist_ok=True)
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    snakemake(work, "--", *build_targets(config))
    wall = snakemake(work, "backend_outputs")
    logits = len(list((work / "results/logits").rglob("digits_*.npy")))
    if logits != 4 * 1797:
        sys.exit(f"digits run wrote {logits} logit files, expected {4 * 1797}")
    return wall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=100,
                        help="DeiT-tiny images for the per-image figures (0: skip them)")
    parser.add_argument("--no-digits", action="store_true")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--workdir", type=Path, default=None,
                        help="keep the runs here (default: a temporary folder)")
    args = parser.parse_args(argv)
    root = args.workdir or Path(tempfile.mkdtemp(prefix="bench-dataset-"))
    digits = None if args.no_digits else digits_wall(root / "digits")
    cpu: dict[str, float] = {}
    sim: dict[str, float] = {}
    if args.images > 0:
        cpu, sim = per_image(root / "deit", args.images)
        print_per_image(args.images, cpu, sim)
    if digits is not None:
        print(f"all 1,797 digits, 4 backends, from a built model: {digits:.1f} s wall "
              f"(goal <= {DIGITS_GOAL_S:g})")
    if args.json:
        args.json.write_text(json.dumps({"per_image_cpu_s": cpu, "spike_simulation_s": sim,
                                         "digits_wall_s": digits, "images": args.images},
                                        indent=2) + "\n")
    return 0


def print_per_image(count: int, cpu: dict[str, float], sim: dict[str, float]) -> None:
    print(f"DeiT-tiny demo checkpoint, {count} images in one shard per stage "
          "(CPU s per image, measured with getrusage: shard job CPU / images)")
    print(f"{'stage':<16} {'CPU s/image':>12} {'goal':>8}")
    for stage, value in cpu.items():
        goal = GOALS.get(stage)
        goal_text = f"<= {goal:g}" if goal is not None else "-"
        print(f"{stage:<16} {value:>12.3f} {goal_text:>8}")
    print(f"  of spike: Spike itself {sim['cpu']:.3f} CPU s / {sim['wall']:.3f} wall s per "
          "image (measured around each Spike process)")


if __name__ == "__main__":
    raise SystemExit(main())
