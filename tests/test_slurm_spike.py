"""A host backend (torch-int) and a simulation backend (spike) through profiles/slurm on a real
single-node SLURM.

One workflow folder (the whole chain on a TOY checkpoint, 2 demo photos), two runs: first
locally (profiles/default), then the torch-int and Spike outputs are deleted and the same
workflow runs again with profiles/slurm, where only their shard jobs may run. Those must be real
SLURM jobs (one job id per shard and backend, COMPLETED, with the time limit and memory the
config asks for: shard size x per-image timeout, a SLURM log each) and give the same logits as
the local run, where spike equals torch-int.
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

CFG = "dim16_sp4x4096_acc1024"
OUTPUTS = ("results/logits/spike", "results/stats/spike", "results/logs/spike",
           "results/shards/spike", "results/logits/torch-int", "results/shards/torch-int")
SUMMARIES = {"run_spike": f"results/shards/spike/{CFG}/0of1.json",
             "run_torch_int": "results/shards/torch-int/0of1.json"}

pytestmark = [pytest.mark.slurm, pytest.mark.slow]


def _squeue(job_id: int, fmt: str) -> str:
    """A (recently finished) job's fields as SLURM itself reports them."""
    out = subprocess.run(["squeue", "--states=all", "--noheader", f"--format={fmt}",
                          f"--jobs={job_id}"], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_shard_jobs_through_slurm_equal_local_run(
    slurm_cluster: SlurmCluster, tmp_path: Path, toy_checkpoint: Path
) -> None:
    config = base_config(backends=["torch-int", "spike"])
    config["spike"].update(timeout_s=120, mem_mb=1500)  # 2 images x 2 min + 5 = 9 min, 1500 MB
    config["shards"] = {"size": 64, "host_timeout_s": 60, "threads": 1, "mem_mb": 1200}
    work = tmp_path / "work"
    images = toy_chain_workdir(work, toy_checkpoint, config)
    run = snakemake(work, "--", *SUMMARIES.values())
    assert run.returncode == 0, run.stderr[-3000:]
    local = {i: np.load(work / f"results/logits/spike/{CFG}/{i}.npy") for i in images}
    for image in images:
        torch_int = np.load(work / f"results/logits/torch-int/{image}.npy")
        assert local[image].tolist() == torch_int.tolist(), image

    for folder in OUTPUTS:
        shutil.rmtree(work / folder)
    proc = slurm_cluster.snakemake(
        workdir=work, snakefile=SNAKEFILE, first_poll_s=3,
        extra_args=["--configfile", str(work / "config.yaml"), "--allowed-rules", *SUMMARIES,
                    "--slurm-keep-successful-logs"],
        targets=["--", *SUMMARIES.values()],
    )
    assert proc.returncode == 0, proc.stdout[-4000:]

    ids = submitted_job_ids(proc.stdout)
    assert len(ids) == len(SUMMARIES), proc.stdout[-4000:]  # one SLURM job per shard job
    limits = {"run_spike": "9:00 1500M", "run_torch_int": "7:00 1200M"}
    seen = []
    for rule, limit in limits.items():
        logs = {int(p.stem): p.read_text() for p in
                (work / ".snakemake" / "slurm_logs" / f"rule_{rule}").rglob("*.log")}
        assert len(logs) == 1, rule
        for job_id, text in logs.items():
            seen.append(job_id)
            assert job_state(job_id) == "COMPLETED"
            assert f"Finished jobid: 0 (Rule: {rule})" in text
            # The per-rule resources from the config: time limit and memory.
            assert _squeue(job_id, "%l %m") == limit, rule
    assert sorted(seen) == sorted(ids)
    for image in images:
        got = np.load(work / f"results/logits/spike/{CFG}/{image}.npy")
        assert got.dtype == np.int64
        assert got.tolist() == local[image].tolist(), image
        assert np.load(work / f"results/logits/torch-int/{image}.npy").tolist() == got.tolist()
        assert "IVIT-DONE status=0" in (work / f"results/logs/spike/{CFG}/{image}.log"
                                        ).read_text()
