"""Paper tables from hand-made logits, labels and stats: golden values computed by hand."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from ivit_gemmini.errors import UserError
from ivit_gemmini.paper import accuracy, performance, verification


def _onehot(cls: int, k: int = 10, value: int = 100) -> np.ndarray:
    v = np.arange(k, dtype=np.int64)[::-1].copy()  # a fixed ranking 0 > 1 > 2 ...
    v[cls] = value
    return v


def test_score_counts_top1_top5_and_reference():
    labels = {"a": 3, "b": 7, "c": 9, "d": 0}
    tops = {"a": [3, 0, 1, 2, 4], "b": [1, 7, 0, 2, 3], "c": [0, 1, 2, 3, 4], "d": [0, 1, 2, 3, 4]}
    ref = {"a": [3], "b": [2], "c": [0], "d": [0]}
    s = accuracy.score(tops, labels, "x", ref)
    assert (s.images, s.top1, s.top5, s.same_top1_as_reference) == (4, 50.0, 75.0, 3)


def test_score_rejects_missing_image():
    with pytest.raises(UserError, match="no result for 1 labelled"):
        accuracy.score({"a": [1]}, {"a": 1, "b": 2}, "spike")


def test_score_all_orders_columns_and_uses_logits_ranking():
    labels = {"i1": 2, "i2": 5}
    logits = {
        "torch-int": {"i1": _onehot(2), "i2": _onehot(4)},
        "torch-fakequant": {"i1": _onehot(2), "i2": _onehot(5)},
    }
    fp32 = {"i1": [2, 0, 1, 3, 4], "i2": [5, 0, 1, 2, 3], "other": [0, 1, 2, 3, 4]}
    scores = accuracy.score_all(logits, labels, fp32)
    assert [s.column for s in scores] == ["fp32", "torch-fakequant", "torch-int"]
    assert [s.top1 for s in scores] == [100.0, 100.0, 50.0]
    # torch-int's ranking for i2 is 4, 0, 1, 2, 3 (5 is sixth): top-5 misses the label.
    assert scores[2].top5 == 50.0
    assert scores[1].same_top1_as_reference == 1 and scores[0].same_top1_as_reference is None


def test_accuracy_tables_label_published_numbers_as_imagenet(tmp_path):
    scores = [accuracy.Score("fp32", 360, 96.39, 100.0, None),
              accuracy.Score("torch-int", 360, 96.94, 100.0, 360),
              accuracy.Score("spike", 360, 96.94, 100.0, 359)]
    md = accuracy.accuracy_markdown(scores, "tiny", "digits", [])
    assert "| top-1 (%) | 96.39 | 96.94 | 96.94 |" in md
    assert "disagree with torch-int: spike" in md
    assert "| DeiT-T | 72.21 | 72.24 | +0.03 |" in md and "not** results" in md
    rows = list(csv.DictReader(accuracy.accuracy_csv(scores, "tiny", "digits").splitlines()))
    ours = [r for r in rows if r["source"] == "ours"]
    assert [r["column"] for r in ours] == ["fp32", "torch-int", "spike"]
    published = [r for r in rows if r["source"] != "ours"]
    assert all(r["data"] == "ImageNet val" for r in published) and len(published) == 14


def test_verification_status():
    backends = ["torch-int", "torch-fakequant", "tvm-cpu"]
    base = _onehot(3)
    logits = {
        "torch-int": {"same": base, "fq": base, "bad": base},
        "torch-fakequant": {"same": base, "fq": _onehot(4), "bad": base},
        "tvm-cpu": {"same": base.copy(), "fq": base.copy(), "bad": base + 1},
    }
    rows = verification.verify(logits, backends, ["same", "fq", "bad"], {"same": 3})
    assert [r.status for r in rows] == [verification.PASS, verification.WARN, verification.FAIL]
    assert rows[0].correct is True and rows[1].label is None
    assert rows[2].identical == {"torch-int": True, "torch-fakequant": True, "tvm-cpu": False}
    md = verification.verification_markdown(rows, backends, [str(i) for i in range(10)])
    assert "3 (differs)" in md and "1/3 images" in md


def test_verification_names_each_images_source():
    base = _onehot(3)
    logits = {"torch-int": {"a": base}, "spike": {"a": base}}
    rows = verification.verify(logits, ["torch-int", "spike"], ["a"], {"a": 3},
                               {"a": "n01440764/x y.JPEG"})
    names = [str(i) for i in range(10)]
    table = list(csv.DictReader(verification.verification_csv(rows, ["torch-int", "spike"],
                                                              names).splitlines()))
    assert [r["source"] for r in table] == ["n01440764/x y.JPEG"] * 2
    md = verification.verification_markdown(rows, ["torch-int", "spike"], names)
    assert "| image | source | label |" in md and "| a | `n01440764/x y.JPEG` | 3 |" in md


def test_spike_stats_and_estimate():
    stats = {"wall_s": 2.5, "kernels": {"total": {"instret": 1000}, "gemmini": {"instret": 300},
                                        "core": {"instret": 600}},
             "gemmini": {"gemmini_cycles_modelled": 250, "cycles": {"load": 400}}}
    s = performance.read_spike_stats("img", stats)
    assert (s.instructions, s.gemmini_kernel_instructions, s.core_kernel_instructions,
            s.gemmini_cycles, s.estimated_cycles, s.wall_s) == (1000, 300, 600, 250, 1250, 2.5)


def test_stage_times_per_image_and_once(tmp_path):
    head = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
    jobs = [("run_torch_int", "0of2", 2.0, 1.0), ("run_torch_int", "1of2", 4.0, 3.0),
            ("export_params", "export_params", 7.0, 6.5)]
    for rule, name, wall, cpu in jobs:
        (tmp_path / rule).mkdir(exist_ok=True)
        (tmp_path / rule / f"{name}.tsv").write_text(
            head + f"{wall}\t0:00:02\t1\t1\t1\t1\t0\t0\t0\t{cpu}\n")
    # Two shard jobs over four images: the mean is per image (6 s / 4).
    times = {t.stage: t for t in performance.stage_times(tmp_path, ["a", "b", "c", "d"])}
    t = times["run_torch_int"]
    assert (t.jobs, t.mean_s, t.max_s, t.total_s, t.cpu_s, t.per_image) == (2, 1.5, 4.0, 6.0,
                                                                             4.0, True)
    assert times["export_params"].per_image is False and times["export_params"].total_s == 7.0
    md = performance.performance_markdown([], list(times.values()), "m")
    assert "| run_torch_int | per image, in shards | 2 | 1.50 | 4.00 | 6.0 | 4.0 |" in md
    assert "add `spike`" in md


def test_paper_targets_follow_config():
    from ivit_gemmini.paper import targets

    cfg = {"checkpoint": "digits", "backends": ["torch-int", "spike"],
           "dataset": {"source": "digits"}, "paper": {"verify_images": 2}}
    images = ["i1", "i2", "i3"]
    out = targets.paper_outputs(cfg, ["t.csv"])
    assert out[0] == "t.csv" and "results/paper/accuracy.md" in out
    assert "results/paper/layer_costs.png" in out
    assert targets.verify_images(cfg, images) == ["i1", "i2"]
    assert targets.fp32_predictions(cfg) == ["results/paper/digits/fp32_predictions.csv"]
    demo = {**cfg, "checkpoint": "demo", "backends": ["torch-int"], "dataset": {"source": None}}
    out = targets.paper_outputs(demo, [])
    assert "results/paper/accuracy.md" not in out and "results/paper/layer_costs.png" not in out
    assert targets.fp32_predictions(demo) == [] and targets.labels(demo) == []


