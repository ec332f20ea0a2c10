"""Benchmark: how long and how much memory Snakemake needs to build the DAG of a large run.

    python benchmarks/bench_dag.py [--images 50000] [--shard-size 64] [--json FILE]

Makes an ImageNet-layout folder of N tiny files (hard links to one small JPEG, spread over 10
synset folders), configures `dataset: {source: folder}` with the demo checkpoint and all four
backends, and times `snakemake --dry-run` of `paper` (wall seconds and the peak resident memory
of the Snakemake process: measured with getrusage). That changing `num_samples` or `seed`
computes only images not computed before is a workflow test
(tests/test_dataset_workflow.py), not a timing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml
from PIL import Image

from ivit_gemmini.evaluate.class_names import imagenet_synsets

REPO = Path(__file__).resolve().parents[1]
# Ten real ImageNet synsets (classes 0, 100, ..., 900): labels are checked at start-up.
SYNSETS = imagenet_synsets()[::100]


def make_folder(root: Path, count: int) -> Path:
    val = root / "val"
    if val.is_dir():
        return val
    one = root / "one.jpg"
    Image.fromarray(np.full((8, 8, 3), 128, np.uint8)).save(one)
    for s in SYNSETS:
        (val / s).mkdir(parents=True)
    for i in range(count):
        os.link(one, val / SYNSETS[i % len(SYNSETS)] / f"ILSVRC2012_val_{i:08d}.JPEG")
    return val


def dry_run(work: Path) -> tuple[float, float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"),
                           "--directory", str(work), "--configfile", str(work / "config.yaml"),
                           "--cores", "2", "--dry-run", "--quiet", "rules", "--", "paper"],
                          capture_output=True, text=True, check=False)
    wall = time.monotonic() - start
    peak_mb = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    if proc.returncode != 0:
        sys.exit(f"dry run failed:\n{proc.stderr[-3000:]}")
    return wall, peak_mb, proc.stdout + proc.stderr


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=50_000)
    parser.add_argument("--shard-size", type=int, default=64)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-dag-") as tmp:
        return measure(Path(tmp), args)


def measure(root: Path, args: argparse.Namespace) -> int:
    val = make_folder(root, args.images)
    work = root / "work"
    work.mkdir()
    base = yaml.safe_load((REPO / "config/config.yaml").read_text())
    config = {**base, "dataset": {**base["dataset"], "source": "folder", "folder": str(val)},
              "shards": {**base["shards"], "size": args.shard_size}}
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    wall, peak, out = dry_run(work)
    jobs = sum(1 for ln in out.splitlines() if ln.strip().startswith(("run_", "quantize_")))
    print(f"{args.images} images, shard size {args.shard_size}, 4 backends: dry run "
          f"{wall:.1f} s wall, peak RSS {peak:.0f} MB (measured)")
    print(out[-1500:])
    if args.json:
        args.json.write_text(json.dumps({"images": args.images, "dry_run_s": wall,
                                         "peak_rss_mb": peak, "rule_lines": jobs}) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
