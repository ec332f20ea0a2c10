"""A real single-node SLURM for tests, and a helper that runs Snakemake through profiles/slurm.

Use the fixture in a test module with `slurm_cluster = slurm_helpers.slurm_cluster` (or list
"slurm_helpers" in `pytest_plugins` of tests/conftest.py). It starts the daemons with
scripts/slurm/start.sh once per session and stops them afterwards only if it started them.

    @pytest.mark.slurm
    def test_x(slurm_cluster: SlurmCluster, tmp_path: Path) -> None:
        proc = slurm_cluster.snakemake(workdir=tmp_path, snakefile=..., targets=["all"])
        assert proc.returncode == 0, proc.stdout
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
START = REPO / "scripts" / "slurm" / "start.sh"
STOP = REPO / "scripts" / "slurm" / "stop.sh"
PID_FILES = (Path("/run/munge/munged.pid"), Path("/run/slurmctld.pid"), Path("/run/slurmd.pid"))
_SUBMITTED = re.compile(r"submitted with SLURM jobid (\d+)")


def _alive(pid_file: Path) -> bool:
    try:
        os.kill(int(pid_file.read_text().strip()), 0)
    except (OSError, ValueError):
        return False
    return True


def _as_root(script: Path) -> list[str]:
    """Run `script` as root: directly when we are root, else through passwordless sudo."""
    if os.geteuid() == 0:
        return [str(script)]
    if shutil.which("sudo") is None:
        pytest.skip("starting SLURM needs root (or passwordless sudo)")
    return ["sudo", "-n", str(script)]


@dataclass(frozen=True)
class SlurmCluster:
    """The running test cluster."""

    node: str
    started_here: bool
    start_seconds: float

    def snakemake(
        self,
        *,
        workdir: Path,
        snakefile: Path,
        targets: Sequence[str] = (),
        extra_args: Sequence[str] = (),
        timeout_s: float = 600,
        env: dict[str, str] | None = None,
        first_poll_s: int = 5,
    ) -> subprocess.CompletedProcess[str]:
        """Run Snakemake with profiles/slurm (+ profiles/default) in `workdir`; never raises.

        The jobs inherit the environment (sbatch --export=ALL), so the venv's bin comes first
        on PATH; stdout and stderr are merged into `.stdout`.
        Status queries (squeue) run `first_poll_s` apart while no job is active; while jobs
        run, each query without a finished job adds 10 s to the gap (i, 2i+10, 3i+30, 4i+60
        ... after start-up), a finished job resets it to i, and Snakemake exits only after the
        pending gap: small values suit short jobs (profile: 20 s).
        """
        venv_bin = str(Path(sys.executable).parent)
        run_env = dict(os.environ if env is None else env)
        run_env["PATH"] = venv_bin + os.pathsep + run_env.get("PATH", "")
        cmd = [
            sys.executable,
            "-m",
            "snakemake",
            "--snakefile",
            str(snakefile),
            "--directory",
            str(workdir),
            "--profile",
            str(REPO / "profiles" / "slurm"),
            "--workflow-profile",
            str(REPO / "profiles" / "default"),
            "--slurm-init-seconds-before-status-checks",
            str(first_poll_s),
            *extra_args,
            *targets,
        ]
        try:
            return subprocess.run(
                cmd,
                cwd=workdir,
                env=run_env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            out = exc.output.decode() if isinstance(exc.output, bytes) else (exc.output or "")
            # Snakemake was killed: cancel its SLURM jobs so they do not outlive the test.
            for job_id in submitted_job_ids(out):
                subprocess.run(["scancel", str(job_id)], check=False)
            out += f"\n[slurm_helpers] snakemake killed after {timeout_s} s\n"
            return subprocess.CompletedProcess(cmd, -9, stdout=out)


def submitted_job_ids(snakemake_output: str) -> list[int]:
    """SLURM job ids that the plugin reported submitting, in order."""
    return [int(x) for x in _SUBMITTED.findall(snakemake_output)]


def job_state(job_id: int) -> str:
    """SLURM's state of a (recently) finished or running job, e.g. COMPLETED, TIMEOUT."""
    out = subprocess.run(
        ["squeue", "--states=all", "--noheader", "--format=%T", f"--jobs={job_id}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[SlurmCluster]:
    """Start the single-node SLURM (scripts/slurm/start.sh); stop it at the end if we started it."""
    already_running = all(_alive(p) for p in PID_FILES)
    t0 = time.monotonic()
    proc = subprocess.run(_as_root(START), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        pytest.fail(f"scripts/slurm/start.sh failed:\n{proc.stdout}\n{proc.stderr}")
    cluster = SlurmCluster(
        node=os.uname().nodename.split(".")[0],
        started_here=not already_running,
        start_seconds=time.monotonic() - t0,
    )
    yield cluster
    if cluster.started_here:
        subprocess.run(_as_root(STOP), capture_output=True, text=True, check=False)
        # A slurm.conf naming a stopped controller makes every later Snakemake start wait
        # ~9 s (its SLURM plugin runs `scontrol show config`): stop.sh must remove ours.
        assert not Path("/etc/slurm/slurm.conf").exists(), "stop.sh left /etc/slurm/slurm.conf"
