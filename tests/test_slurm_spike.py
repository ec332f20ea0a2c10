"""The workflow's Spike stage through profiles/slurm on a real single-node SLURM.

One workflow folder (the whole chain on a TOY checkpoint, 2 demo photos), two runs: first
locally (profiles/default), then the Spike outputs are deleted and the same workflow runs again
with profiles/slurm, where only `run_spike` may run. Those must be real SLURM jobs (one job id
per image, COMPLETED, with the time limit and memory the config asks for, a SLURM log each)
and give the same logits as the local run, which equal torch-int's.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import slurm_helpers
from slurm_helpers import SlurmCluster, job_state, submitted_job_ids
from verilator_helpers import SNAKEFILE, base_config, snakemake, toy_chain_workdir

slurm_cluster = slurm_helpers.slurm_cluster  # the session fixture that starts SLURM

SPIKE_OUTPUTS = ("results/logits/spike", "results/stats/spike", "results/logs/spike")

pytestmark = [pytest.mark.slurm, pytest.mark.slow]


def _squeue(job_id: int, fmt: str) -> str:
    """A (recently finished) job's fields as SLURM itself reports them."""
    out = subprocess.run(["squeue", "--states=all", "--noheader", f"--format={fmt}",
                          f"--jobs={job_id}"], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_spike_stage_through_slurm_equals_local_run(
    slurm_cluster: SlurmCluster, tmp_path: Path, toy_checkpoint: Path
) -> None:
    config = base_config(backends=["torch-int", "spike"])
    config["spike"].update(timeout_s=120, mem_mb=1500)  # SLURM: 2 + 5 minutes, 1500 MB
    work = tmp_path / "work"
    images = toy_chain_workdir(work, toy_checkpoint, config)
    targets = [f"results/logits/{b}/{i}.npy" for b in ("torch-int", "spike") for i in images]
    run = snakemake(work, "--", *targets)
    assert run.returncode == 0, run.stderr[-3000:]
    local = {i: np.load(work / f"results/logits/spike/{i}.npy") for i in images}
    for image in images:
        torch_int = np.load(work / f"results/logits/torch-int/{image}.npy")
        assert local[image].tolist() == torch_int.tolist(), image

    for folder in SPIKE_OUTPUTS:
        shutil.rmtree(work / folder)
    proc = slurm_cluster.snakemake(
        workdir=work, snakefile=SNAKEFILE, first_poll_s=3,
        extra_args=["--configfile", str(work / "config.yaml"), "--allowed-rules", "run_spike",
                    "--slurm-keep-successful-logs"],
        targets=["--", *[f"results/logits/spike/{i}.npy" for i in images]],
    )
    assert proc.returncode == 0, proc.stdout[-4000:]

    ids = submitted_job_ids(proc.stdout)
    assert len(ids) == len(images), proc.stdout[-4000:]  # one SLURM job per image, nothing else
    # Each job's SLURM log: the job ran this rule for one image, and Snakemake in it finished.
    slurm_logs = {int(p.stem): p.read_text() for p in
                  (work / ".snakemake" / "slurm_logs" / "rule_run_spike").rglob("*.log")}
    assert sorted(slurm_logs) == sorted(ids)
    assert sorted(next(ln.split("=")[1] for ln in text.splitlines()
                       if ln.strip().startswith("wildcards: image="))
                  for text in slurm_logs.values()) == sorted(images)
    for job_id, text in slurm_logs.items():
        assert job_state(job_id) == "COMPLETED"
        assert "Finished jobid: 0 (Rule: run_spike)" in text
        # The per-rule resources from config spike.*: time limit and memory.
        assert _squeue(job_id, "%l %m") == "7:00 1500M"
    for image in images:
        got = np.load(work / f"results/logits/spike/{image}.npy")
        assert got.dtype == np.int64
        assert got.tolist() == local[image].tolist(), image
        assert "IVIT-DONE status=0" in (work / f"results/logs/spike/{image}.log").read_text()
