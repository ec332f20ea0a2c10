"""The Verilator stage inside the workflow, with the TEST DOUBLE tests/doubles/fake-chipyard-
simulator in place of a Chipyard simulator (it runs the ELF on Spike: no RTL is simulated).

- start-up: a configured simulator that is missing stops the workflow with one line before any
  job runs (not executable, no dramsim folder, or the verilator backend without a simulator:
  the same check, tested without Snakemake); with no simulator and no verilator backend the
  stage is not part of the default target; SLURM time limits from the timeouts;
- the stage on the firmware stand-in model (a TEST DOUBLE of the compiler's model.tar): logits
  equal numpy's golden and Spike's, cycle count in the stats JSON, and a too small
  +max-cycles fails with the harness's timeout, the log kept and no logits;
- the whole chain on a TOY checkpoint: verilator == spike == torch-int logits;
- the localrules list names every rule except the shard jobs and the builds.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml
from firmware_helpers import (
    CLASSES,
    make_standin_archive,
    random_input,
    standin_golden,
    write_quantize_summary,
)
from verilator_helpers import REPO, base_config, make_double, snakemake, toy_chain_workdir
from workflow_helpers import run_workflow

from ivit_gemmini.errors import UserError
from ivit_gemmini.simulate.resources import slurm_runtime_minutes
from ivit_gemmini.simulate.verilator_stage import check_verilator_config

# Rules that become SLURM jobs with profiles/slurm: every shard job and every build.
CLUSTER_RULES = {"quantize_images", "run_torch_int", "run_torch_fakequant", "run_tvm_cpu",
                 "run_spike", "run_spike_rtl", "run_verilator", "export_params",
                 "write_relax_graph", "emit_model_library", "build_model_library",
                 "build_spike_extension", "build_spike_rtl_extension", "build_tvm_cpu_library"}
STANDIN_RULES = ["build_model_library", "run_spike", "build_spike_extension", "run_verilator",
                 "write_gemmini_params"]
CFG = "dim16_sp4x4096_acc1024"


def _summary(backend: str) -> str:
    return f"results/shards/{backend}/{CFG}/0of1.json"


# --- start-up checks (dry runs: no job may start) ----------------------------------------------


def _dry_run(tmp_path: Path, verilator: dict, backends: list[str]):
    config = base_config(backends=backends)
    config["verilator"].update(verilator)
    return run_workflow(tmp_path / "work", config, "--dry-run", timeout=300)


def test_missing_simulator_is_one_line_at_startup(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "simulator-chipyard.harness-GemminiRocketConfig"
    run = _dry_run(tmp_path, {"simulator": str(missing)}, ["torch-int", "verilator"])
    assert run.returncode != 0
    assert run.error_lines() == [
        f"error: Verilator simulator {missing} does not exist: set config verilator.simulator "
        "to a Chipyard sims/verilator/simulator-chipyard-* binary"
    ]
    assert "Building DAG" not in run.stderr and "rule " not in run.stdout + run.stderr


def test_not_executable_simulator_is_rejected(tmp_path: Path) -> None:
    sim = tmp_path / "simulator-chipyard.harness-GemminiRocketConfig"
    sim.write_text("#!/bin/sh\n")
    sim.chmod(0o644)
    # Checked whenever a simulator is configured, even with verilator not among the backends.
    with pytest.raises(UserError) as err:
        check_verilator_config({"simulator": str(sim)}, ["torch-int"])
    assert str(err.value) == f"Verilator simulator {sim} is not executable: run chmod +x {sim}"


def test_verilator_backend_without_simulator_is_rejected() -> None:
    with pytest.raises(UserError, match="^backend verilator needs a Chipyard simulator: set "
                                        "config verilator.simulator"):
        check_verilator_config({"simulator": None}, ["torch-int", "verilator"])
    assert check_verilator_config({"simulator": None}, ["torch-int"]) is None


def test_missing_dramsim_folder_is_rejected(tmp_path: Path) -> None:
    sim = tmp_path / "sim"
    sim.write_text("#!/bin/sh\n")
    sim.chmod(0o755)
    ini = tmp_path / "ini"
    with pytest.raises(UserError, match=f"^dramsim ini folder {re.escape(str(ini))} does not"):
        check_verilator_config({"simulator": str(sim), "dramsim_ini_dir": str(ini)}, [])
    ini.mkdir()
    assert check_verilator_config({"simulator": str(sim), "dramsim_ini_dir": str(ini)}, []) == sim


@pytest.mark.parametrize("timeout_s,minutes", [(1800, 35), (86400, 1445), (60, 6), (61, 7),
                                               (0.5, 6)])
def test_slurm_runtime_is_timeout_in_minutes_plus_margin(timeout_s: float, minutes: int) -> None:
    assert slurm_runtime_minutes(timeout_s) == minutes


def test_no_simulator_leaves_the_stage_out(tmp_path: Path) -> None:
    run = _dry_run(tmp_path, {"simulator": None}, ["torch-int"])
    assert run.returncode == 0, run.stderr[-3000:]
    out = run.stdout + run.stderr
    assert "rule run_torch_int" in out  # the dry run did list the jobs
    assert "run_verilator" not in out


# --- localrules ---------------------------------------------------------------------------------


def test_localrules_name_every_rule_but_the_cluster_jobs() -> None:
    # Each stage may declare its own `localrules:` block; together they must name every rule
    # except the shard jobs and builds, which profiles/slurm submits as SLURM jobs.
    sources = [REPO / "Snakefile", *sorted((REPO / "workflow" / "rules").glob("*.smk"))]
    texts = [p.read_text() for p in sources]
    rules = {m for t in texts for m in re.findall(r"^\s*rule (\w+):", t, re.M)}
    blocks = [b for t in texts
              for b in re.findall(r"^[ \t]*localrules:\n((?:[ \t]+\w+,?\n)+)", t, re.M)]
    assert blocks, "no localrules: declaration in the workflow"
    local = {name for b in blocks for name in re.findall(r"\w+", b)}
    assert rules >= CLUSTER_RULES
    assert local == rules - CLUSTER_RULES, (
        f"not local: {sorted(rules - CLUSTER_RULES - local)}, unknown: {sorted(local - rules)}")


# --- the stage on the firmware stand-in model ---------------------------------------------------


def _standin_workdir(work: Path, images: list[str], max_cycles: int) -> Path:
    """A results tree as the model and compile stages would leave it (stand-in archive)."""
    make_standin_archive(work / "results/build/dim16_sp4x4096_acc1024/model.tar")
    manifest = {"arch": {"num_classes": CLASSES, "in_chans": 3, "image_size": 8}}
    (work / "results/model").mkdir(parents=True, exist_ok=True)
    (work / "results/model/manifest.json").write_text(json.dumps(manifest))
    (work / "images").mkdir(parents=True, exist_ok=True)
    (work / "results/inputs").mkdir(parents=True, exist_ok=True)
    for seed, name in enumerate(images):
        (work / "images" / f"{name}.png").write_bytes(b"only its name is used by these rules")
        random_input(seed).tofile(work / "results/inputs" / f"{name}.bin")
    write_quantize_summary(work, images)
    sim = make_double(work / "chipyard")
    config = base_config(images=[str(work / "images" / f"{n}.png") for n in images],
                          backends=["spike", "verilator"])
    config["spike"]["timeout_s"] = 120
    config["verilator"].update(simulator=str(sim), dramsim_ini_dir=str(sim.parent / "dramsim2_ini"),
                               max_cycles=max_cycles, timeout_s=120)
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    return work


def _snakemake_standin(work: Path, *targets: str) -> subprocess.CompletedProcess[str]:
    # --allowed-rules: the model and compile stages' outputs are given, only these may run.
    return snakemake(work, "--allowed-rules", *STANDIN_RULES, "--", *targets, timeout=900)


@pytest.mark.slow
def test_standin_verilator_equals_golden_and_spike(tmp_path: Path) -> None:
    work = _standin_workdir(tmp_path, ["first"], max_cycles=50_000_000)
    run = _snakemake_standin(work, _summary("verilator"), _summary("spike"))
    assert run.returncode == 0, run.stderr[-3000:]
    verilator = np.load(work / f"results/logits/verilator/{CFG}/first.npy")
    assert verilator.dtype == np.int64
    assert verilator.tolist() == standin_golden(random_input(0)).tolist()
    assert verilator.tolist() == np.load(work / f"results/logits/spike/{CFG}/first.npy").tolist()

    log = (work / f"results/logs/verilator/{CFG}/first.log").read_text()
    passed = re.search(r"\*\*\* PASSED \*\*\* Completed after\s+(\d+) simulation cycles", log)
    assert passed is not None and "IVIT-DONE status=0" in log
    stats = json.loads((work / f"results/stats/verilator/{CFG}/first.json").read_text())
    assert stats["cycles"] == int(passed.group(1))
    # The program read its own instret before printing: the whole run is longer.
    assert 0 < stats["kernels"]["total"]["instret"] < stats["cycles"]
    assert stats["slurm_job_id"] is None
    # Chipyard's command line, with the (temporary) ELF given twice (loadmem and the target).
    assert re.search(r"\+max-cycles=50000000 \+loadmem=(\S+/first\.elf) \+verbose "
                     r"\+permissive-off \1$", (work / f"logs/run_verilator/{CFG}/0of1.log"
                                                 ).read_text(), re.M)


@pytest.mark.slow
def test_standin_max_cycles_too_small_is_a_failure_record(tmp_path: Path) -> None:
    work = _standin_workdir(tmp_path, ["short"], max_cycles=20_000)
    run = _snakemake_standin(work, _summary("verilator"))
    assert run.returncode == 0, run.stderr[-3000:]  # recorded, not a failed job
    entry = json.loads((work / _summary("verilator")).read_text())["images"]["short"]
    log_path = f"results/logs/verilator/{CFG}/short.log"
    assert entry["status"] == "failed" and entry["log"] == log_path
    assert entry["reason"].startswith(
        "Verilator simulation failed (timeout): raise config verilator.max_cycles "
        "(stopped after ")
    assert "(timeout) after" in (work / log_path).read_text()
    assert not (work / f"results/logits/verilator/{CFG}/short.npy").exists()
    assert not (work / f"results/stats/verilator/{CFG}/short.json").exists()


# --- the whole chain on a TOY checkpoint --------------------------------------------------------


@pytest.mark.slow
def test_toy_chain_verilator_equals_spike_and_torch_int(tmp_path: Path, toy_checkpoint) -> None:
    sim = make_double(tmp_path / "chipyard")
    config = base_config(backends=["torch-int", "spike", "verilator"])
    config["verilator"].update(simulator=str(sim), max_cycles=10_000_000_000, timeout_s=900)
    work = tmp_path / "work"
    images = toy_chain_workdir(work, toy_checkpoint, config)
    targets = ["results/shards/torch-int/0of1.json", _summary("spike"), _summary("verilator")]
    run = snakemake(work, "--", *targets)
    assert run.returncode == 0, run.stderr[-3000:]
    for image in images:
        want = np.load(work / "results/logits/torch-int" / f"{image}.npy").tolist()
        for backend in ("spike", "verilator"):
            assert np.load(work / f"results/logits/{backend}/{CFG}/{image}.npy").tolist() == want
        stats = json.loads((work / f"results/stats/verilator/{CFG}/{image}.json").read_text())
        assert stats["cycles"] > stats["kernels"]["total"]["instret"] > 0
