"""Benchmark: CPU seconds per image of every shard stage, and the digits set through four backends.

    python benchmarks/bench_dataset.py [--images N] [--no-digits] [--json FILE] [--workdir DIR]

Part 1 (DeiT-tiny demo checkpoint): N images (the four demo photographs under N names) in one
shard per backend (`shards.size` = N). The model is built first and not timed (params, tvm-cpu
library, libmodel.a, Spike extension); then the shard jobs run and each one's CPU seconds (from
Snakemake's `benchmark:` file: measured, process CPU time including Python start-up and model
loading) are divided by N. For spike it also prints the mean simulation wall time per image
(measured by the job around the Spike process), so the per-image overhead can be read off.

Part 2: the scikit-learn digits test split through torch-int, torch-fakequant, tvm-cpu and spike
(`make paper`'s model) from a built model: wall seconds of that run (measured).
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
STAGES = {"quantize": "quantize_images", "torch-int": "run_torch_int",
          "torch-fakequant": "run_torch_fakequant", "tvm-cpu": "run_tvm_cpu",
          "spike": "run_spike"}
BACKENDS = ["torch-int", "torch-fakequant", "tvm-cpu", "spike"]
GOALS = {"quantize": 0.05, "torch-int": 0.5, "torch-fakequant": 0.5, "tvm-cpu": 1.0}


def snakemake(work: Path, *args: str) -> float:
    start = time.monotonic()
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory",
           str(work), "--configfile", str(work / "config.yaml"), "--cores", "2", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"snakemake {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return time.monotonic() - start


def cpu_seconds(tsv: Path) -> float:
    with open(tsv, encoding="utf-8") as fh:
        row = next(csv.DictReader(fh, delimiter="\t"))
    return float(row["cpu_time"])


def build_targets(config: dict) -> list[str]:
    cfg = config["gemmini"]
    name = f"dim{cfg['dim']}_sp{cfg['bank_num']}x{cfg['bank_rows']}_acc{cfg['acc_rows']}"
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
    out = {}
    for stage, rule in STAGES.items():
        tsvs = list((work / "results/benchmarks" / rule).rglob("*.tsv"))
        out[stage] = sum(cpu_seconds(t) for t in tsvs) / count
    stats = list((work / "results/stats/spike").rglob("*.json"))
    sim = sum(json.loads(p.read_text())["wall_s"] for p in stats) / max(1, len(stats))
    return out, sim


def digits_wall(work: Path) -> float:
    base = yaml.safe_load((REPO / "config/config.yaml").read_text())
    paper = yaml.safe_load((REPO / "config/paper.yaml").read_text())
    config = {**base, **paper, "backends": BACKENDS}
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    snakemake(work, "--", *build_targets(config))
    return snakemake(work, "backend_outputs")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--no-digits", action="store_true")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--workdir", type=Path, default=None,
                        help="keep the runs here (default: a temporary folder)")
    args = parser.parse_args(argv)
    root = args.workdir or Path(tempfile.mkdtemp(prefix="bench-dataset-"))
    cpu, sim = per_image(root / "deit", args.images)
    digits = None if args.no_digits else digits_wall(root / "digits")
    print(f"DeiT-tiny demo checkpoint, {args.images} images in one shard per stage "
          "(CPU s per image, measured: job CPU time / images)")
    print(f"{'stage':<16} {'CPU s/image':>12} {'goal':>8}")
    for stage, value in cpu.items():
        goal = GOALS.get(stage)
        goal_text = f"{goal:g}" if goal is not None else f"{sim + 0.1:.2f}"
        print(f"{stage:<16} {value:>12.3f} {goal_text:>8}")
    print(f"spike simulation wall per image (measured around Spike): {sim:.3f} s")
    if digits is not None:
        print(f"digits test split, 4 backends, from a built model: {digits:.1f} s wall")
    if args.json:
        args.json.write_text(json.dumps({"per_image_cpu_s": cpu, "spike_simulation_s": sim,
                                         "digits_wall_s": digits, "images": args.images},
                                        indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
