"""The bring-your-own data set through the real workflow: labels checked at start-up, and an
edited labels file rewrites labels.csv (issue 15 item 9)."""

from __future__ import annotations

import csv

import pytest
from PIL import Image
from workflow_helpers import run_workflow


def _png(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (40, 40), (200, 30, 30)).save(path)


def test_synset_folders_against_a_10_class_checkpoint_stop_at_startup(tmp_path,
                                                                      toy_checkpoint):
    _png(tmp_path / "val" / "n01440764" / "a.JPEG")  # tench: class 0, below 10
    (tmp_path / "val" / "n01440764" / "._a.JPEG").write_bytes(b"\x00\x05\x16\x07")
    run = run_workflow(tmp_path / "w", {
        "checkpoint": str(toy_checkpoint), "backends": ["torch-int"],
        "dataset": {"source": "folder", "folder": str(tmp_path / "val")}}, "-n", "paper")
    assert run.returncode != 0
    assert run.error_lines() == [
        "error: the data set's classes are ImageNet synsets (1000 classes) but the checkpoint "
        "has 10 classes: use a checkpoint trained on ImageNet, or label the images with the "
        "checkpoint's class indices"]
    assert "Traceback" not in run.stderr and not (tmp_path / "w" / "results").exists()


@pytest.mark.slow
def test_editing_the_labels_file_rewrites_labels(tmp_path, toy_checkpoint):
    for name in ("a.png", "b c.png"):
        _png(tmp_path / "flat" / name)
    labels = tmp_path / "labels.txt"
    labels.write_text("a.png 1\nb c.png 2\n")
    config = {"checkpoint": str(toy_checkpoint), "backends": ["torch-int"],
              "dataset": {"source": "folder", "folder": str(tmp_path / "flat"),
                          "labels": str(labels)}}
    out = tmp_path / "w" / "results" / "paper" / "labels.csv"
    run = run_workflow(tmp_path / "w", config, "results/paper/labels.csv")
    assert run.returncode == 0, run.stderr[-3000:]
    assert list(csv.reader(out.read_text().splitlines())) == [
        ["image", "label"], ["a", "1"], ["b_c", "2"]]
    labels.write_text("a.png 1\nb c.png 5\n")
    run = run_workflow(tmp_path / "w", None, "results/paper/labels.csv")
    assert run.returncode == 0, run.stderr[-3000:]
    assert ["b_c", "5"] in list(csv.reader(out.read_text().splitlines()))
