"""Bad input through the real workflow: one clear line, non-zero exit, nothing half-written."""

from __future__ import annotations

import pytest
import torch
from workflow_helpers import leftovers, run_workflow


class NotAWeight:
    """Pickled by reference: loading it would need this module's code."""

    def __init__(self) -> None:
        self.payload = [1, 2, 3]


def _assert_clean_failure(run, expected: str) -> None:
    assert run.returncode != 0
    lines = run.error_lines()
    assert len(lines) == 1, run.stderr[-3000:]
    assert expected in lines[0], lines[0]
    assert "Traceback" not in run.stderr
    assert leftovers(run.workdir) == []
    assert not (run.workdir / "results" / "tables").exists()


@pytest.fixture()
def photo(tmp_path):
    from PIL import Image
    from skimage import data

    path = tmp_path / "cat.png"
    Image.fromarray(data.chelsea()).save(path)
    return path


# --- caught at start-up (no job runs) ------------------------------------------------------

@pytest.mark.parametrize("config,expected", [
    ({"num_heads": "three"}, "error: config 'num_heads': 'three' has the wrong type"),
    ({"image": "demo"}, "error: config: unknown key 'image' in top level"),
    ({"agreement": {"on_mismatch": 1}}, "error: config 'agreement.on_mismatch': 1 "),
    ({"images": ["no/such/photo.jpg"]}, "error: image not found: no/such/photo.jpg"),
    ({"checkpoint": "no/such.pth"}, "error: checkpoint not found: no/such.pth"),
])
def test_startup_errors(tmp_path, config, expected):
    run = run_workflow(tmp_path / "w", config)
    _assert_clean_failure(run, expected)
    assert not (tmp_path / "w" / "results").exists()


# --- caught by a job (slow: the job starts Python and imports torch) -------------------------

@pytest.mark.slow
def test_corrupt_image(tmp_path, toy_checkpoint, photo):
    """A corrupt image is a failure record: the other image's tables are written, the run ends
    non-zero with one line naming the failure list (tests/test_workflow_shards.py: the rerun)."""
    bad = tmp_path / "broken.jpg"
    bad.write_text("a text file renamed to .jpg")
    run = run_workflow(tmp_path / "w", {"checkpoint": str(toy_checkpoint),
                                        "images": [str(photo), str(bad)]})
    assert run.returncode != 0
    assert run.error_lines() == ["error: 1 image(s) failed (1 failure(s)); the tables hold the "
                                 "rest; list: results/tables/failures.md"], run.stderr[-3000:]
    assert "Traceback" not in run.stderr and leftovers(run.workdir) == []
    res = tmp_path / "w" / "results"
    assert not (res / "inputs" / "broken.bin").exists()
    assert f"not an image file: {bad}" in (res / "tables" / "failures.csv").read_text()
    assert "| cat |" in (res / "tables" / "agreement.md").read_text()
    assert "not an image file" in (tmp_path / "w" / "logs" / "quantize_images" /
                                   "0of1.log").read_text()


@pytest.mark.slow
def test_truncated_image(tmp_path, toy_checkpoint, photo):
    cut = tmp_path / "cut.png"
    cut.write_bytes(photo.read_bytes()[:5000])
    run = run_workflow(tmp_path / "w", {"checkpoint": str(toy_checkpoint), "images": str(cut)})
    assert run.returncode != 0
    assert any("no image succeeded" in ln for ln in run.error_lines()), run.stderr[-3000:]
    failures = (tmp_path / "w" / "results" / "tables" / "failures.csv").read_text()
    assert f"image {cut} is truncated or corrupt" in failures


@pytest.mark.slow
def test_non_ivit_checkpoint(tmp_path, photo):
    ckpt = tmp_path / "resnet.pth"
    torch.save({"conv1.weight": torch.zeros(8, 3, 3, 3), "fc.bias": torch.zeros(10)}, ckpt)
    run = run_workflow(tmp_path / "w", {"checkpoint": str(ckpt), "images": str(photo)})
    _assert_clean_failure(run, "error: ")
    assert str(ckpt) in run.error_lines()[0]
    assert not (tmp_path / "w" / "results" / "model" / "params.npz").exists()


@pytest.mark.slow
def test_pickle_that_needs_code(tmp_path, photo):
    ckpt = tmp_path / "evil.pth"
    torch.save({"model": NotAWeight()}, ckpt)
    run = run_workflow(tmp_path / "w", {"checkpoint": str(ckpt), "images": str(photo)})
    _assert_clean_failure(run, "error: ")
    assert str(ckpt) in run.error_lines()[0]
    assert not (tmp_path / "w" / "results" / "model").exists() or not any(
        (tmp_path / "w" / "results" / "model").iterdir())
