"""gemmini_configs in the workflow: two configurations in one run are two builds with identical
logits and a sweep table; two entries with the same values are one build; a configuration the
header cannot tile the model on stops the run at start-up with one line."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
from workflow_helpers import run_workflow

from ivit_gemmini.model.architecture import DEIT_SMALL, TOY, Architecture
from ivit_gemmini.sweep.configs import model_matmuls

SMALL = {"dim": 8, "bank_num": 4, "bank_rows": 1024, "acc_rows": 256}


def toy_config(checkpoint: Path, configs: dict) -> dict:
    return {"checkpoint": str(checkpoint),
            "images": [str(checkpoint.parent / "demo" / "chelsea.png")],
            "class_names": [str(i) for i in range(10)], "backends": ["torch-int", "spike"],
            "gemmini_configs": configs}


def job_counts(stdout: str) -> dict[str, int]:
    """Snakemake's dry-run 'Job stats' table as {rule: count}."""
    block = stdout.split("Job stats:", 1)[1]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", block, re.M)
            if m[1] != "total"}


def test_two_configurations_two_builds_identical_logits(tmp_path: Path, toy_checkpoint: Path
                                                        ) -> None:
    run = run_workflow(tmp_path, toy_config(toy_checkpoint, {"d16": {}, "d8": SMALL}), "sweep")
    assert run.returncode == 0, run.stderr[-3000:]
    res = tmp_path / "results"
    builds = ["dim16_sp4x4096_acc1024", "dim8_sp4x1024_acc256"]
    for build in builds:
        assert (res / "build" / build / "libmodel.a").is_file()
        assert (res / "build" / build / "libgemmini.so").is_file()
    reference = np.load(res / "logits/torch-int/chelsea.npy")
    for build in builds:
        assert np.load(res / "logits/spike" / build / "chelsea.npy").tolist() == \
            reference.tolist()
    rows = list(csv.DictReader((res / "sweep/sweep.csv").read_text().splitlines()))
    assert sorted(r["config"] for r in rows) == sorted(builds)
    assert all(r["exact"] == "true" for r in rows)
    assert {r["dim"] for r in rows} == {"8", "16"}
    # The shapes the start-up check tiles are the ones the compiler offloaded (the workflow's
    # TOY has one head: the checkpoint does not record heads, num_heads null is dim / 64).
    meta = json.loads((res / "build" / builds[0] / "metadata.json").read_text())
    compiled = {tuple(int(x) for x in s["kernel"].rsplit("_", 1)[1].split("x"))
                for s in meta["steps"] if s["kind"] == "gemmini"}
    arch = Architecture(**json.loads((res / "model/manifest.json").read_text())["arch"])
    assert arch.depth == TOY.depth and arch.num_heads == 1
    assert compiled == {(m.i, m.j, m.k) for m in model_matmuls(arch)}


def test_same_values_are_one_build(tmp_path: Path, toy_checkpoint: Path) -> None:
    configs = {"a": {"dim": 16}, "b": {"bank_rows": 4096, "max_bytes": 64}, "c": SMALL}
    run = run_workflow(tmp_path, toy_config(toy_checkpoint, configs), "sweep", "--dry-run")
    assert run.returncode == 0, run.stderr[-3000:]
    jobs = job_counts(run.stdout)
    for rule in ("write_gemmini_params", "emit_model_library", "build_model_library",
                 "build_spike_extension", "run_spike"):
        assert jobs[rule] == 2, (rule, jobs)  # a and b are one build, c the other


def test_a_configuration_the_header_cannot_tile_stops_at_start_up(tmp_path: Path) -> None:
    configs = {"ok": {}, "cramped": {"bank_num": 1, "bank_rows": 64}}
    run = run_workflow(tmp_path, {"checkpoint": "demo-small", "gemmini_configs": configs},
                       "sweep", "--dry-run")
    assert run.returncode != 0
    assert run.error_lines() == [
        "error: Gemmini configuration cramped (dim16_sp1x64_acc1024) cannot run checkpoint "
        "demo-small's patch_embed 196x384x768: the header's K tile is 0 blocks: a quarter of "
        "the scratchpad (16 rows) is less than dim x side = 16 x 5 rows, side = isqrt(acc_rows "
        "/ 2 / dim): need bank_num x bank_rows >= 320 (or fewer acc_rows)"]
    assert not (tmp_path / "results").exists()


@pytest.mark.slow
def test_demo_small_through_spike_equals_torch_int(tmp_path: Path) -> None:
    # checkpoint demo-small: DeiT-small made here (seeded, calibrated, random weights), one
    # photograph, the default Gemmini configuration; the sweep point must be bit-exact.
    config = {"checkpoint": "demo-small", "demo_images": ["chelsea"],
              "backends": ["torch-int", "spike"]}
    run = run_workflow(tmp_path, config, "sweep")
    assert run.returncode == 0, run.stderr[-3000:]
    res = tmp_path / "results"
    manifest = json.loads((res / "model/manifest.json").read_text())
    assert Architecture(**manifest["arch"]) == DEIT_SMALL
    [row] = list(csv.DictReader((res / "sweep/sweep.csv").read_text().splitlines()))
    assert (row["model"], row["config"], row["exact"]) == ("deit-small",
                                                           "dim16_sp4x4096_acc1024", "true")
    assert np.load(res / "logits/spike/dim16_sp4x4096_acc1024/chelsea.npy").tolist() == \
        np.load(res / "logits/torch-int/chelsea.npy").tolist()
