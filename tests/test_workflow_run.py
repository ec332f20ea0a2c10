"""The real workflow on a tiny checkpoint: files, tables and their wiring, idempotence."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest
from PIL import Image
from workflow_helpers import leftovers, run_workflow

# Each Snakemake job starts Python and imports torch: seconds per job, so the module is slow.
pytestmark = pytest.mark.slow

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def _expected_input(path, size: int, scale: float) -> np.ndarray:
    """DeiT preprocessing + I-ViT input quantization, with PIL and numpy only."""
    img = Image.open(path).convert("RGB")
    w, h = img.size
    short = int(size / 0.875)
    nw, nh = (short, int(short * h / w)) if w <= h else (int(short * w / h), short)
    img = img.resize((nw, nh), Image.BICUBIC)
    top, left = int(round((nh - size) / 2.0)), int(round((nw - size) / 2.0))
    x = np.asarray(img, dtype=np.float32)[top : top + size, left : left + size] / np.float32(255)
    x = ((x - IMAGENET_MEAN) / IMAGENET_STD).transpose(2, 0, 1)
    q = np.rint(x * (np.float32(1) / np.float32(scale)))  # float32, half to even, as I-ViT
    return np.clip(q, -128, 127).astype(np.int8)


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory, toy_checkpoint):
    work = tmp_path_factory.mktemp("toy_run")
    photos = work / "photos"
    photos.mkdir()
    (photos / "sub").mkdir()
    from skimage import data

    Image.fromarray(data.chelsea()).save(photos / "my cat.jpg", quality=92)
    Image.fromarray(data.coffee()).save(photos / "sub" / "my cat.png")
    config = {"checkpoint": str(toy_checkpoint), "backends": ["torch-int", "torch-fakequant"],
              "images": [str(photos / "my cat.jpg"), str(photos / "sub" / "my cat.png")]}
    run = run_workflow(work, config)
    assert run.returncode == 0, run.stderr[-3000:]
    return run


def test_outputs_and_ids(toy_run):
    res = toy_run.workdir / "results"
    assert sorted(p.name for p in (res / "inputs").iterdir()) == ["my_cat.bin", "my_cat_2.bin"]
    for backend in ["torch-int", "torch-fakequant"]:
        for image in ["my_cat", "my_cat_2"]:
            logits = np.load(res / "logits" / backend / f"{image}.npy")
            assert logits.dtype == np.int64 and logits.shape == (10,)
    assert not (res / "model" / "demo_checkpoint.pth").exists()
    assert leftovers(toy_run.workdir) == []
    for rule in ["export_params", "quantize_images", "run_torch_int", "tabulate_predictions"]:
        assert (toy_run.workdir / "logs" / rule).is_dir()
        assert (res / "benchmarks" / rule).is_dir()


def test_input_file_is_deit_preprocessing_quantized(toy_run):
    res = toy_run.workdir / "results"
    manifest = json.loads((res / "model" / "manifest.json").read_text())
    scale = manifest["input_scale"]
    got = np.fromfile(res / "inputs" / "my_cat_2.bin", dtype=np.int8).reshape(3, 32, 32)
    want = _expected_input(toy_run.workdir / "photos" / "sub" / "my cat.png", 32, scale)
    assert np.count_nonzero(got != want) == 0


def test_prediction_table_follows_logits(toy_run):
    res = toy_run.workdir / "results"
    rows = list(csv.DictReader((res / "tables" / "predictions.csv").read_text().splitlines()))
    assert len(rows) == 2 * 2 * 5
    manifest = json.loads((res / "model" / "manifest.json").read_text())
    for backend in ["torch-int", "torch-fakequant"]:
        for image in ["my_cat", "my_cat_2"]:
            logits = np.load(res / "logits" / backend / f"{image}.npy")
            mine = [r for r in rows if r["backend"] == backend and r["image"] == image]
            order = np.lexsort((np.arange(10), -logits))[:5]
            assert [int(r["class_index"]) for r in mine] == order.tolist()
            assert [int(r["logit_int"]) for r in mine] == logits[order].tolist()
            assert mine[0]["class_name"] == f"class {order[0]}"
            assert float(mine[0]["logit_float"]) == pytest.approx(
                logits[order[0]] * manifest["logit_scale"], rel=1e-5)
    md = (res / "tables" / "predictions.md").read_text()
    assert md.count("Top-5 Predictions:") == 4 and "mean nothing" not in md
    # Each row names the image's file (issue 15 item 7), relative to the working folder.
    assert {r["image"]: r["source"] for r in rows} == {"my_cat": "photos/my cat.jpg",
                                                       "my_cat_2": "photos/sub/my cat.png"}
    assert "## my_cat_2 (torch-int): `photos/sub/my cat.png`" in md


def test_agreement_table(toy_run):
    res = toy_run.workdir / "results"
    rows = list(csv.DictReader((res / "tables" / "agreement.csv").read_text().splitlines()))
    assert [(r["backend_a"], r["backend_b"], r["image"]) for r in rows] == [
        ("torch-int", "torch-fakequant", "(all)"), ("torch-int", "torch-fakequant", "my_cat"),
        ("torch-int", "torch-fakequant", "my_cat_2")]
    a = np.load(res / "logits" / "torch-int" / "my_cat.npy")
    b = np.load(res / "logits" / "torch-fakequant" / "my_cat.npy")
    assert int(rows[1]["max_abs_logit_diff"]) == int(np.abs(a - b).max())
    assert int(rows[1]["logits_identical"]) == int(np.array_equal(a, b))


def test_second_run_does_nothing(toy_run):
    run = run_workflow(toy_run.workdir, None, "--dry-run")
    assert run.returncode == 0
    assert "Nothing to be done" in run.stdout + run.stderr


def test_torch_int_only_and_warn(tmp_path, toy_checkpoint, toy_run):
    """One backend: nothing to compare; images given as a folder."""
    shutil.copytree(toy_run.workdir / "photos" / "sub", tmp_path / "imgs")
    run = run_workflow(tmp_path / "w", {"checkpoint": str(toy_checkpoint),
                                        "images": str(tmp_path / "imgs"),
                                        "backends": ["torch-int"],
                                        "class_names": [f"c{i}" for i in range(10)]})
    assert run.returncode == 0, run.stderr[-3000:]
    res = tmp_path / "w" / "results"
    assert "nothing to compare" in (res / "tables" / "agreement.md").read_text()
    assert not (res / "logits" / "torch-fakequant").exists()
    rows = list(csv.DictReader((res / "tables" / "predictions.csv").read_text().splitlines()))
    assert {r["class_name"] for r in rows} <= {f"c{i}" for i in range(10)}


def test_bench_stages_reads_the_run(toy_run, tmp_path, repo):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, str(repo / "benchmarks" / "bench_stages.py"),
                           "--existing", str(toy_run.workdir), "--json", str(tmp_path / "b.json")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    rows = {r["rule"]: r for r in json.loads((tmp_path / "b.json").read_text())["rules"]}
    assert rows["quantize_images"]["jobs"] == 1 and rows["quantize_images"]["stage"] == "model"
    assert rows["compute_agreement"]["stage"] == "evaluate"
    assert list(rows)[0] == "export_params"  # workflow order, not alphabetical
    assert "run_torch_int" in proc.stdout
