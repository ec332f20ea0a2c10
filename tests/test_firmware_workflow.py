"""The firmware and Spike rules inside Snakemake, on the stand-in model archive (a TEST DOUBLE
of the compile stage's model.tar): logits equal numpy's, a second image only runs that image
(the library is not rebuilt, the first image is reused), no ELF is left on disk, and a timeout
is a failure record (Spike log kept, no logits) instead of a failed job; a shard with a corrupt
image and a simulation timeout writes the tables for the rest and ends non-zero listing both."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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

REPO = Path(__file__).resolve().parents[1]
RULES = ["build_model_library", "run_spike", "build_spike_extension", "write_gemmini_params"]
CFG = "dim16_sp4x4096_acc1024"
SUMMARY = f"results/shards/spike/{CFG}/0of1.json"

pytestmark = pytest.mark.slow


def _add_image(work: Path, name: str, seed: int) -> None:
    (work / "images").mkdir(parents=True, exist_ok=True)
    (work / "images" / f"{name}.png").write_bytes(b"only its name is used by these rules")
    inputs = work / "results" / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    random_input(seed).tofile(inputs / f"{name}.bin")
    write_quantize_summary(work, sorted(p.stem for p in inputs.glob("*.bin")))


def _workdir(work: Path, images: list[str], timeout_s: float = 120,
             archive_defines: str = "") -> Path:
    """A results tree as the model and compile stages would leave it, and a config for it."""
    make_standin_archive(work / "results/build/dim16_sp4x4096_acc1024/model.tar",
                         extra_config=archive_defines)
    manifest = {"arch": {"num_classes": CLASSES, "in_chans": 3, "image_size": 8}}
    (work / "results/model").mkdir(parents=True, exist_ok=True)
    (work / "results/model/manifest.json").write_text(json.dumps(manifest))
    for seed, name in enumerate(images):
        _add_image(work, name, seed)
    _write_config(work, images, timeout_s)
    return work


def _write_config(work: Path, images: list[str], timeout_s: float) -> None:
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    config.update(images=[str(work / "images" / f"{n}.png") for n in images], backends=["spike"])
    config["spike"]["timeout_s"] = timeout_s
    (work / "config.yaml").write_text(yaml.safe_dump(config))


def _snakemake(work: Path, *targets: str) -> subprocess.CompletedProcess[str]:
    # --allowed-rules: the model and compile stages' outputs are given, only ours may run.
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory",
           str(work), "--configfile", str(work / "config.yaml"), "--cores", "2",
           "--allowed-rules", *RULES, "--", *targets]
    return subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=900)


def test_spike_rules_produce_exact_logits_and_relink_only(tmp_path: Path) -> None:
    work = _workdir(tmp_path, ["first"])
    run = _snakemake(work, SUMMARY)
    assert run.returncode == 0, run.stderr[-3000:]
    first = work / f"results/logits/spike/{CFG}/first.npy"
    assert np.load(first).tolist() == standin_golden(random_input(0)).tolist()
    assert "IVIT-DONE status=0" in (work / f"results/logs/spike/{CFG}/first.log").read_text()
    stats = json.loads((work / f"results/stats/spike/{CFG}/first.json").read_text())
    assert stats["kernels"]["total"]["instret"] > 0
    assert not list(work.rglob("*.elf"))  # ELFs are temporary: params once per config on disk

    library = work / f"results/build/{CFG}/libmodel.a"
    built_at, first_at = library.stat().st_mtime_ns, first.stat().st_mtime_ns
    _add_image(work, "second", 1)
    _write_config(work, ["first", "second"], 120)
    run = _snakemake(work, SUMMARY)
    assert run.returncode == 0, run.stderr[-3000:]
    assert library.stat().st_mtime_ns == built_at
    assert "rule build_model_library" not in run.stderr
    assert first.stat().st_mtime_ns == first_at  # reused, not simulated again
    assert "1 computed, 1 reused, 0 failed" in (work / "logs/run_spike" / CFG / "0of1.log"
                                                ).read_text()
    second = np.load(work / f"results/logits/spike/{CFG}/second.npy")
    assert second.tolist() == standin_golden(random_input(1)).tolist()


def test_timeout_is_recorded_keeps_log_and_writes_no_logits(tmp_path: Path) -> None:
    work = _workdir(tmp_path, ["stuck"], timeout_s=1, archive_defines="#define STANDIN_HANG 1\n")
    run = _snakemake(work, SUMMARY)
    assert run.returncode == 0, run.stderr[-3000:]  # a failure record, not a failed job
    entry = json.loads((work / SUMMARY).read_text())["images"]["stuck"]
    assert entry["status"] == "failed"
    assert entry["reason"].startswith("spike timed out after 1 s on stuck.elf")
    assert entry["log"] == f"results/logs/spike/{CFG}/stuck.log"
    assert not (work / f"results/logits/spike/{CFG}/stuck.npy").exists()
    assert "TIMEOUT" in (work / entry["log"]).read_text()
    assert os.path.getsize(work / f"logs/run_spike/{CFG}/0of1.log") > 0


def test_corrupt_image_and_timeout_in_one_shard_leave_tables_for_the_rest(tmp_path: Path) -> None:
    from PIL import Image
    from skimage import data

    work = _workdir(tmp_path, [], timeout_s=2, archive_defines="#define STANDIN_HANG_ON_FLAT 1\n")
    manifest = json.loads((work / "results/model/manifest.json").read_text())
    (work / "results/model/manifest.json").write_text(json.dumps({**manifest,
                                                                  "input_scale": 0.02,
                                                                  "logit_scale": 1.0}))
    photos = work / "photos"
    photos.mkdir()
    Image.fromarray(data.chelsea()).save(photos / "cat.png")
    Image.fromarray(data.astronaut()).save(photos / "astronaut.png")
    Image.new("RGB", (16, 16), (90, 120, 200)).save(photos / "flat.png")  # hangs the stand-in
    (photos / "corrupt.jpg").write_bytes(b"not a jpeg at all")
    config = yaml.safe_load((work / "config.yaml").read_text())
    config.update(images=str(photos), backends=["spike"])
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory",
           str(work), "--configfile", str(work / "config.yaml"), "--cores", "2",
           "--allowed-rules", *RULES, "quantize_images", "tabulate_predictions",
           "compute_agreement", "collect_failures", "check_failures",
           "--", "results/tables/complete.txt"]
    run = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=900)

    assert run.returncode != 0
    assert "error: 2 image(s) failed" in run.stderr, run.stderr[-3000:]
    assert "results/tables/failures.md" in run.stderr
    tables = work / "results/tables"
    failures = {r["image"]: r for r in _csv(tables / "failures.csv")}
    assert sorted(failures) == ["corrupt", "flat"]
    assert failures["corrupt"]["stage"] == "quantize"
    assert "not an image file" in failures["corrupt"]["reason"]
    assert failures["flat"]["stage"] == "spike"
    assert failures["flat"]["reason"].startswith("spike timed out after 2 s on flat.elf")
    assert "TIMEOUT" in (work / failures["flat"]["log"]).read_text()
    predictions = _csv(tables / "predictions.csv")
    assert sorted({r["image"] for r in predictions}) == ["astronaut", "cat"]
    for image in ("astronaut", "cat"):  # exact logits of the images that ran
        inp = np.fromfile(work / f"results/inputs/{image}.bin", dtype=np.int8)
        logits = np.load(work / f"results/logits/spike/{CFG}/{image}.npy")
        assert logits.tolist() == standin_golden(inp).tolist()


def _csv(path: Path) -> list[dict[str, str]]:
    import csv

    return list(csv.DictReader(path.read_text().splitlines()))
