"""Benchmark: wall time of every workflow stage, from Snakemake's `benchmark:` files.

Either runs the workflow on a config in a fresh folder (default: the demo config) and reads
`results/benchmarks/<rule>/*.tsv` afterwards, or only reads them from a finished run:

    python benchmarks/bench_stages.py [--config config/config.yaml] [--workdir DIR] [--cores N]
    python benchmarks/bench_stages.py --existing .           # the folder holding results/
    ... [--json out.json]

Prints one row per rule (its stage is the .smk file that defines it): jobs, total, mean and max
seconds, CPU seconds, peak memory; the total wall time of the run when this script ran it.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RULE_LINE = re.compile(r"^rule (\w+):", re.MULTILINE)
INCLUDE_LINE = re.compile(r'^include:\s*"([^"]+)"', re.MULTILINE)


@dataclass
class RuleTime:
    stage: str
    rule: str
    jobs: int
    total_s: float
    mean_s: float
    max_s: float
    cpu_s: float | None  # CPU time of all jobs: what the stage costs on a busy machine
    max_rss_mb: float | None


def rule_stages(snakefile: Path = REPO / "Snakefile") -> dict[str, str]:
    """{rule: stage} in workflow order (the Snakefile's includes, then each file's rules); the
    stage is the name of the .smk file that defines the rule."""
    stages = {}
    for include in INCLUDE_LINE.findall(snakefile.read_text(encoding="utf-8")):
        smk = snakefile.parent / include
        for rule in RULE_LINE.findall(smk.read_text(encoding="utf-8")):
            stages[rule] = smk.stem
    return stages


def _float(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:  # Snakemake writes "NA" when it could not measure
        return None


def collect(workdir: Path) -> list[RuleTime]:
    """Aggregate `workdir/results/benchmarks/<rule>/*.tsv` per rule, in workflow order."""
    root = workdir / "results" / "benchmarks"
    if not root.is_dir():
        raise SystemExit(f"error: {root} does not exist: run the workflow first (or drop "
                         "--existing)")
    stages = rule_stages()
    order = {rule: i for i, rule in enumerate(stages)}
    rows = []
    for rule_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        seconds, rss, cpu = [], [], []
        for tsv in sorted(rule_dir.glob("*.tsv")):
            with open(tsv, encoding="utf-8") as fh:
                for rec in csv.DictReader(fh, delimiter="\t"):
                    if (s := _float(rec.get("s", "NA"))) is not None:
                        seconds.append(s)
                    if (m := _float(rec.get("max_rss", "NA"))) is not None:
                        rss.append(m)
                    if (c := _float(rec.get("cpu_time", "NA"))) is not None:
                        cpu.append(c)
        if seconds:
            rows.append(RuleTime(stages.get(rule_dir.name, "?"), rule_dir.name, len(seconds),
                                 sum(seconds), sum(seconds) / len(seconds), max(seconds),
                                 sum(cpu) if cpu else None, max(rss) if rss else None))
    rows.sort(key=lambda r: order.get(r.rule, len(order)))
    return rows


def run_workflow(config: Path, workdir: Path, cores: str) -> float:
    """Run Snakemake on `config` in `workdir` from scratch; return the wall time in seconds."""
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
           "--directory", str(workdir), "--configfile", str(config.resolve()), "--cores", cores,
           "--forceall", "--quiet", "rules"]
    start = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - start


def table(rows: list[RuleTime], wall_s: float | None) -> str:
    lines = [f"{'stage':<10} {'rule':<24} {'jobs':>4} {'total s':>9} {'mean s':>8} "
             f"{'max s':>8} {'CPU s':>8} {'peak MB':>8}"]
    for r in rows:
        rss = f"{r.max_rss_mb:8.0f}" if r.max_rss_mb is not None else f"{'NA':>8}"
        cpu = f"{r.cpu_s:8.2f}" if r.cpu_s is not None else f"{'NA':>8}"
        lines.append(f"{r.stage:<10} {r.rule:<24} {r.jobs:>4} {r.total_s:9.2f} {r.mean_s:8.2f} "
                     f"{r.max_s:8.2f} {cpu} {rss}")
    lines.append(f"{'':<10} {'sum of job times':<24} {sum(r.jobs for r in rows):>4} "
                 f"{sum(r.total_s for r in rows):9.2f}")
    if wall_s is not None:
        lines.append(f"{'':<10} {'wall time of the run':<24} {'':>4} {wall_s:9.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", type=Path, default=REPO / "config" / "config.yaml")
    ap.add_argument("--workdir", type=Path, help="run here (default: a temporary folder)")
    ap.add_argument("--cores", default="all")
    ap.add_argument("--existing", type=Path, help="only read the benchmarks of a finished run")
    ap.add_argument("--json", type=Path, help="also write the rows as JSON")
    args = ap.parse_args(argv)

    wall = None
    if args.existing:
        workdir = args.existing
        rows = collect(workdir)
    else:
        with tempfile.TemporaryDirectory(prefix="bench-stages-") as tmp:
            workdir = args.workdir or Path(tmp)
            wall = run_workflow(args.config, workdir, args.cores)
            rows = collect(workdir)
    print(table(rows, wall))
    if args.json:
        args.json.write_text(json.dumps({"config": str(args.config), "wall_s": wall,
                                         "rules": [asdict(r) for r in rows]}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
