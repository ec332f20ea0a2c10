"""Running the real workflow (Snakemake in a subprocess) on a small config in a temp folder."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    workdir: Path

    def error_lines(self) -> list[str]:
        """The distinct lines our code printed for the user (`error: ...`); the workflow
        profile's show-failed-logs may repeat them from the log."""
        lines = [ln for ln in self.stderr.splitlines() if ln.startswith("error: ")]
        return list(dict.fromkeys(lines))


def run_workflow(workdir: Path, config: dict[str, Any] | None, *args: str,
                 timeout: float = 900) -> Run:
    """`snakemake` on the repository's Snakefile with `config` written to workdir/config.yaml
    (None: reuse the config of an earlier run in `workdir`)."""
    workdir.mkdir(parents=True, exist_ok=True)
    config_file = workdir / "config.yaml"
    if config is not None:
        config_file.write_text(yaml.safe_dump(config))
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
           "--directory", str(workdir), "--configfile", str(config_file), "--cores", "2",
           *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=workdir)
    return Run(proc.returncode, proc.stdout, proc.stderr, workdir)


def leftovers(workdir: Path) -> list[Path]:
    """Temporary files that a failed write would leave behind (atomic_path names)."""
    return sorted(p for p in (workdir / "results").rglob(".*.tmp")) if (
        workdir / "results").exists() else []
