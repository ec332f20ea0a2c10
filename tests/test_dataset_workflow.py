"""The bring-your-own data set through the real workflow: labels checked at start-up, and an
edited labels file rewrites labels.csv (issue 15 item 9)."""

from __future__ import annotations

import csv
import json

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


@pytest.mark.slow
def test_changing_num_samples_or_seed_computes_only_new_images(tmp_path, toy_checkpoint):
    """Issue 15 item 8: a larger subset, or another seed, computes only the images that no
    earlier run computed; the logits of the others are not rewritten."""
    for i in range(8):
        path = tmp_path / "val" / str(i % 2) / f"img{i}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (40, 40), (30 * i, 200 - 20 * i, 90)).save(path)
    config = {"checkpoint": str(toy_checkpoint), "backends": ["torch-int"],
              "dataset": {"source": "folder", "folder": str(tmp_path / "val"),
                          "num_samples": 3, "seed": 0}}
    work = tmp_path / "w"
    logits = work / "results" / "logits" / "torch-int"

    def run_and_stamp(cfg) -> dict[str, int]:
        run = run_workflow(work, cfg, "backend_outputs")
        assert run.returncode == 0, run.stderr[-3000:]
        return {p.stem: p.stat().st_mtime_ns for p in logits.glob("*.npy")}

    first = run_and_stamp(config)
    assert len(first) == 3
    config["dataset"]["num_samples"] = 5
    second = run_and_stamp(config)
    assert len(second) == 5
    assert {i: second[i] for i in first} == first  # computed once, never again
    config["dataset"]["seed"] = 1
    third = run_and_stamp(config)
    new = set(third) - set(second)
    assert new and len(set(third)) < 8  # seed 1 picks some of the 5 and some others
    assert {i: third[i] for i in second} == second
    (summary,) = (work / "results" / "shards" / "torch-int").glob("*.json")  # one shard
    assert json.loads(summary.read_text())["resources"]["computed"] == len(new)
