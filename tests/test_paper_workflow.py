"""The paper target through Snakemake: digits QAT to tables, tables rebuilt from cached
intermediates only, the HTML report, and the bring-your-own ImageNet-folder path."""

from __future__ import annotations

import csv
import re
import shutil

import numpy as np
import pytest
from PIL import Image
from workflow_helpers import run_workflow

# Each Snakemake job starts Python and imports torch: seconds per job.
pytestmark = pytest.mark.slow

BACKENDS = ["torch-int", "torch-fakequant"]
# The digits run uses every backend this machine has (Spike through the real ELF path).
ALL_BACKENDS = ["torch-int", "torch-fakequant", "tvm-cpu", "spike"]
EXACT = ["torch-int", "tvm-cpu", "spike"]
SIMULATING_RULES = {"run_torch_int", "run_torch_fakequant", "run_tvm_cpu", "run_spike",
                    "run_verilator", "train_digits_qat", "export_params",
                    "quantize_images", "build_tvm_cpu_library",
                    "emit_model_library", "build_model_library", "build_spike_extension"}
CFG = "dim16_sp4x4096_acc1024"
PAPER_FILES = ["accuracy.md", "accuracy.csv", "accuracy.png", "verification.md",
               "verification.csv", "performance.md", "performance.csv", "agreement.png"]


def _scheduled(stdout: str) -> dict[str, int]:
    """Job counts from a dry run's "Job stats" table."""
    table = stdout.split("Job stats:", 1)[1] if "Job stats:" in stdout else ""
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r"^([a-z_]+)\s+(\d+)$", table, re.MULTILINE)}


def _rows(path):
    return list(csv.DictReader(path.read_text().splitlines()))


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("paper_digits")
    config = {"checkpoint": "digits", "num_heads": 4, "backends": ALL_BACKENDS,
              "class_names": [str(i) for i in range(10)],
              "dataset": {"source": "digits", "num_samples": 6},
              "digits_qat": {"float_epochs": 3, "qat_epochs": 1},
              "paper": {"verify_images": 4}, "shards": {"size": 4}}
    run = run_workflow(work, config, "paper")
    assert run.returncode == 0, run.stderr[-3000:]
    return work


def test_paper_files_and_inputs(digits_run):
    res = digits_run / "results"
    # Every backend ran on 2 shards of at most 4 images, one logit file per image.
    from ivit_gemmini.paper.digits import test_ids
    from ivit_gemmini.shards.plan import plan_shards

    shards = sorted(f"{s}.tsv" for s in plan_shards(test_ids(6), 4))
    assert sorted(p.name for p in (res / "benchmarks" / "run_torch_int").iterdir()) == shards
    assert len(list((res / "logits" / "torch-int").glob("*.npy"))) == 6
    assert sorted(p.name for p in (res / "benchmarks" / "run_spike" / CFG).iterdir()) == shards
    assert len(list((res / "stats" / "spike" / CFG).glob("*.json"))) == 6
    assert not list(res.rglob("*.elf"))
    assert (res / "paper" / "layer_costs.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for name in PAPER_FILES:
        assert (res / "paper" / name).stat().st_size > 0, name
    for name in ["accuracy.png", "agreement.png"]:
        assert (res / "paper" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    inputs = sorted(p.name for p in (res / "inputs").iterdir())
    assert inputs == [f"digits_test_{i:04d}.bin" for i in range(1, 7)]
    assert all((res / "inputs" / n).stat().st_size == 64 for n in inputs)  # int8 1x8x8


def test_accuracy_table_recomputed_from_logits(digits_run):
    res = digits_run / "results"
    labels = {r["image"]: int(r["label"]) for r in _rows(res / "paper" / "labels.csv")}
    assert len(labels) == 6
    from sklearn.datasets import load_digits

    from ivit_gemmini.paper.digits import load_split

    split = load_split()
    assert list(labels.values()) == load_digits().target[split.test_index[:6]].tolist()
    ours = {r["column"]: r for r in _rows(res / "paper" / "accuracy.csv") if r["source"] == "ours"}
    assert list(ours) == ["fp32", "torch-fakequant", "torch-int", "tvm-cpu", "spike"]
    for backend in ALL_BACKENDS:
        hits = 0
        for image, label in labels.items():
            sub = f"{backend}/{CFG}" if backend == "spike" else backend
            logits = np.load(res / "logits" / sub / f"{image}.npy")
            hits += int(np.argmax(logits) == label)  # argmax: first index wins ties, as topk
        assert float(ours[backend]["top1"]) == pytest.approx(100.0 * hits / 6, abs=0.005)
    assert ours["torch-int"]["same_top1_as_torch_int"] == "6"


def test_exact_backends_identical_on_every_image(digits_run):
    """tvm-cpu and spike (Gemmini through the ELF) give torch-int's logits bit for bit."""
    res = digits_run / "results" / "logits"
    for image in [f"digits_test_{i:04d}" for i in range(1, 7)]:
        reference = np.load(res / "torch-int" / f"{image}.npy")
        for backend in EXACT[1:]:
            sub = f"{backend}/{CFG}" if backend == "spike" else backend
            np.testing.assert_array_equal(np.load(res / sub / f"{image}.npy"), reference)
    perf = _rows(digits_run / "results" / "paper" / "performance.csv")
    spike = [r for r in perf if r["kind"] == "spike_image"]
    assert len(spike) == 6 and all(int(r["instructions"]) > 0 for r in spike)


def test_verification_rows(digits_run):
    rows = _rows(digits_run / "results" / "paper" / "verification.csv")
    assert len(rows) == 4 * len(ALL_BACKENDS)
    assert [r["image"] for r in rows[::4]] == [f"digits_test_{i:04d}" for i in range(1, 5)]
    assert all(r["identical_to_ref"] == "1" for r in rows if r["backend"] in EXACT)
    assert all(r["status"] in ("✅", "⚠️") for r in rows)


def test_tables_rebuild_from_cache_without_simulation(digits_run):
    res = digits_run / "results" / "paper"
    before = (res / "accuracy.csv").read_text()
    dry = run_workflow(digits_run, None, "paper", "--dry-run")
    assert dry.returncode == 0 and "Nothing to be done" in dry.stdout + dry.stderr
    for name in PAPER_FILES:
        (res / name).unlink()
    dry = run_workflow(digits_run, None, "paper", "--dry-run")
    jobs = _scheduled(dry.stdout + dry.stderr)
    assert jobs and not (set(jobs) & SIMULATING_RULES), jobs
    assert not [j for j in jobs if j.startswith("run_")], jobs
    assert {"tabulate_accuracy", "tabulate_verification", "tabulate_performance"} <= set(jobs)
    again = run_workflow(digits_run, None, "paper")
    assert again.returncode == 0, again.stderr[-2000:]
    assert (res / "accuracy.csv").read_text() == before


def test_html_report(digits_run):
    run = run_workflow(digits_run, None, "paper", "--report", "report.html")
    assert run.returncode == 0, run.stderr[-2000:]
    html = (digits_run / "report.html").read_text(errors="replace")
    assert "accuracy.csv" in html and "agreement.png" in html


def test_bring_your_own_imagenet_folder(tmp_path, toy_checkpoint):
    """A real-layout folder (class folders by index) with the toy checkpoint (10 classes: synset
    folders, which mean ImageNet's 1000 classes, are refused at start-up)."""
    from skimage import data

    val = tmp_path / "val"
    for rel, photo in [("0/fish.jpg", data.chelsea), ("3/coffee.png", data.coffee),
                       ("3/astro.png", data.astronaut), ("7/rocket.png", data.rocket)]:
        (val / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(photo()).save(val / rel)
    config = {"checkpoint": str(toy_checkpoint), "backends": BACKENDS,
              "dataset": {"source": "folder", "folder": str(val), "num_samples": 3, "seed": 1},
              "shards": {"size": 1}}  # several shards
    run = run_workflow(tmp_path / "work", config, "paper")
    assert run.returncode == 0, run.stderr[-3000:]
    res = tmp_path / "work" / "results"
    labels = {r["image"]: int(r["label"]) for r in _rows(res / "paper" / "labels.csv")}
    assert len(labels) == 3 and set(labels.values()) <= {0, 3, 7}
    ours = {r["column"]: r for r in _rows(res / "paper" / "accuracy.csv") if r["source"] == "ours"}
    assert list(ours) == ["torch-fakequant", "torch-int"]  # no FP32 model for a user checkpoint
    for backend in BACKENDS:
        top5_hits = sum(
            label in np.argsort(-np.load(res / "logits" / backend / f"{image}.npy"),
                                kind="stable")[:5]
            for image, label in labels.items())
        assert float(ours[backend]["top5"]) == pytest.approx(100.0 * top5_hits / 3, abs=0.005)
    shutil.rmtree(tmp_path / "work" / ".snakemake", ignore_errors=True)
