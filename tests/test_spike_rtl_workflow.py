"""The `spike-rtl` backend in the workflow: Spike with our RTL mesh (Verilated) computes the
same logits as torch-int and spike on the TOY checkpoint, its stats carry the RTL's clock
count, and a build with one broken PE (a wrong sign extension) makes the agreement check
fail: the RTL really computes the logits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from workflow_helpers import run_workflow

TABLE = "results/tables/agreement.md"


def _one(res: Path, kind: str, backend: str, name: str) -> Path:
    """results/<kind>/<backend>/[<config>/]<name> (simulators keep one folder per config)."""
    found = sorted((res / kind / backend).rglob(name))
    assert len(found) == 1, found
    return found[0]


def _photo(toy_checkpoint: Path) -> Path:
    return sorted((toy_checkpoint.parent / "demo").glob("*.png"))[0]


def test_spike_rtl_logits_equal_torch_int_and_spike(tmp_path: Path, toy_checkpoint: Path) -> None:
    photo = _photo(toy_checkpoint)
    backends = ["torch-int", "spike", "spike-rtl"]
    config = {"checkpoint": str(toy_checkpoint), "images": [str(photo)], "backends": backends}
    run = run_workflow(tmp_path, config, "--", TABLE)
    assert run.returncode == 0, run.stderr[-3000:]
    res = tmp_path / "results"
    logits = {b: np.load(_one(res, "logits", b, f"{photo.stem}.npy")) for b in backends}
    assert logits["spike-rtl"].dtype == np.int64
    assert logits["spike-rtl"].tolist() == logits["torch-int"].tolist() == logits["spike"].tolist()
    assert "spike-rtl" in (res / "tables/agreement.md").read_text()

    stats = json.loads(_one(res, "stats", "spike-rtl", f"{photo.stem}.json").read_text())
    rtl, gemmini = stats["rtl"], stats["gemmini"]
    assert rtl["dim"] == 16 and rtl["latency"] == 31
    # every compute streams at least one row through the mesh: the clock ran at least that long
    assert rtl["rtl_cycles"] >= rtl["mac_row_cycles"] >= gemmini["ops"]["compute"] > 0
    assert 0 < rtl["utilization"] <= 1
    assert rtl["streaming_cycles"] + rtl["stall_cycles"] == rtl["rtl_cycles"]
    assert rtl["cycles_per_s"] > 0
    assert "rtl" not in json.loads(_one(res, "stats", "spike", f"{photo.stem}.json").read_text())
    assert "IVIT-DONE status=0" in _one(res, "logs", "spike-rtl", f"{photo.stem}.log").read_text()


def test_broken_pe_fails_the_agreement_check(tmp_path: Path, toy_checkpoint: Path) -> None:
    """PE (0,0) zero-extends its A input in this build; the logits must no longer agree.
    DIM 4 keeps the extra Verilator build small."""
    photo = _photo(toy_checkpoint)
    config = {"checkpoint": str(toy_checkpoint), "images": [str(photo)],
              "backends": ["torch-int", "spike-rtl"], "spike_rtl": {"broken_pe": True},
              "gemmini": {"dim": 4, "bank_num": 4, "bank_rows": 4096, "acc_rows": 1024}}
    run = run_workflow(tmp_path, config, "--", TABLE)
    assert run.returncode != 0
    assert any("spike-rtl" in line for line in run.error_lines()), run.stderr[-3000:]
    res = tmp_path / "results"
    broken = np.load(_one(res, "logits", "spike-rtl", f"{photo.stem}.npy"))
    reference = np.load(_one(res, "logits", "torch-int", f"{photo.stem}.npy"))
    assert broken.tolist() != reference.tolist()
    stats = json.loads(_one(res, "stats", "spike-rtl", f"{photo.stem}.json").read_text())
    assert stats["rtl"]["broken_sign"] is True and stats["rtl"]["dim"] == 4
