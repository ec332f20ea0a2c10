"""Snakemake through profiles/slurm on a real single-node SLURM (started by the fixture).

The workflow is tests/data/slurm_workflow/Snakefile: `record_job_id` runs as a SLURM job and
writes the $SLURM_JOB_ID it saw; `summarize` is a local rule; `sleep_past_limit` outlives its
1-minute limit so SLURM kills it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import slurm_helpers
from slurm_helpers import SlurmCluster, job_state, submitted_job_ids

slurm_cluster = slurm_helpers.slurm_cluster  # the session fixture that starts SLURM

WORKFLOW = Path(__file__).parent / "data" / "slurm_workflow" / "Snakefile"

pytestmark = pytest.mark.slurm


def _copy_workflow(tmp_path: Path) -> Path:
    snakefile = tmp_path / "Snakefile"
    shutil.copy(WORKFLOW, snakefile)
    return snakefile


@pytest.mark.slow
def test_job_runs_through_slurm(slurm_cluster: SlurmCluster, tmp_path: Path) -> None:
    proc = slurm_cluster.snakemake(workdir=tmp_path, snakefile=_copy_workflow(tmp_path))
    assert proc.returncode == 0, proc.stdout
    ids = submitted_job_ids(proc.stdout)
    assert len(ids) == 1, proc.stdout  # only record_job_id is submitted; the rest is local
    # The job itself saw SLURM's job id: it ran under sbatch, not locally.
    assert (tmp_path / "results" / "job_id.txt").read_text().strip() == str(ids[0])
    assert (tmp_path / "results" / "summary.txt").read_text().strip() == f"job {ids[0]}"
    assert job_state(ids[0]) == "COMPLETED"


@pytest.mark.slow
def test_time_limit_kill_is_reported(slurm_cluster: SlurmCluster, tmp_path: Path) -> None:
    # SLURM's smallest limit is 1 minute and slurmctld checks limits every 30 s, so the job dies
    # 61-92 s after submission. Status queries at 8, 26, 54, 92, 140 s (see SlurmCluster.snakemake)
    # see it at 92 s; Snakemake exits at the next query time, 140 s.
    proc = slurm_cluster.snakemake(
        workdir=tmp_path,
        snakefile=_copy_workflow(tmp_path),
        targets=["results/slept.txt"],
        timeout_s=400,
        first_poll_s=8,
    )
    assert proc.returncode != 0, proc.stdout
    ids = submitted_job_ids(proc.stdout)
    assert len(ids) == 1, proc.stdout
    assert job_state(ids[0]) == "TIMEOUT"
    assert f"SLURM-job '{ids[0]}' failed, SLURM status is: 'TIMEOUT'" in proc.stdout
    assert "Error in rule sleep_past_limit" in proc.stdout
    slurm_log = tmp_path / ".snakemake" / "slurm_logs" / "rule_sleep_past_limit" / f"{ids[0]}.log"
    assert "DUE TO TIME LIMIT" in slurm_log.read_text()
    assert not (tmp_path / "results" / "slept.txt").exists()
