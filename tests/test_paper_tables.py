"""Paper tables from hand-made logits, labels and stats: golden values computed by hand."""

from __future__ import annotations

import csv
import json

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


def test_spike_stats_and_modelled_cycles():
    stats = {"wall_s": 2.5, "kernels": {"total": {"instret": 1000}, "gemmini": {"instret": 300},
                                        "core": {"instret": 600}},
             "steps": [{"name": "k", "instret": 900, "kind": "core"}],
             "gemmini": {"gemmini_cycles_modelled": 250, "cycles": {"load": 400}}}
    s = performance.read_spike_stats("img", stats)
    assert (s.instructions, s.gemmini_kernel_instructions, s.core_kernel_instructions,
            s.gemmini_cycles, s.core_cycles, s.total_cycles, s.wall_s) == (
        1000, 300, 600, 250, None, None, 2.5)
    # With a profile: 900 * 2.0 in kernel k + 100 outside the steps * 1.5 = 1950 core cycles;
    # the total adds the Gemmini cycles the core waits for (all 250 without the wait key).
    s = performance.read_spike_stats("img", stats, {"kernel_cpi": {"k": 2.0}, "glue_cpi": 1.5})
    assert (s.core_cycles, s.gemmini_wait_cycles, s.total_cycles) == (1950, 250, 2200)
    stats["gemmini"]["gemmini_wait_cycles_modelled"] = 240
    s = performance.read_spike_stats("img", stats, {"kernel_cpi": {"k": 2.0}, "glue_cpi": 1.5})
    assert (s.gemmini_cycles, s.gemmini_wait_cycles, s.total_cycles) == (250, 240, 2190)


BENCH_HEAD = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def _bench(path, wall: float, cpu: float):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(BENCH_HEAD + f"{wall}\t0:00:02\t1\t1\t1\t1\t0\t0\t0\t{cpu}\n")
    return path


def test_stage_times_per_image_and_once(tmp_path):
    files = [_bench(tmp_path / "benchmarks/run_torch_int/0of2.tsv", 2.0, 1.0),
             _bench(tmp_path / "benchmarks/run_torch_int/1of2.tsv", 4.0, 3.0),
             _bench(tmp_path / "benchmarks/export_params/export_params.tsv", 7.0, 6.5)]
    # Two shard jobs over four images: the mean is per image (6 s / 4).
    times = {t.stage: t for t in performance.stage_times(files, ["a", "b", "c", "d"])}
    t = times["run_torch_int"]
    assert (t.jobs, t.mean_s, t.max_s, t.total_s, t.cpu_s, t.per_image) == (2, 1.5, 4.0, 6.0,
                                                                             4.0, True)
    assert times["export_params"].per_image is False and times["export_params"].total_s == 7.0
    md = performance.performance_markdown([], list(times.values()), "m")
    assert "| run_torch_int | per image, in shards | 2 | 1.50 | 4.00 | 6.0 | 4.0 |" in md
    assert "add `spike`" in md


def test_performance_table_reads_only_this_runs_files(tmp_path, monkeypatch):
    """Issue 14 item 11: benchmark files of earlier configurations and shard plans stay out
    of the table, and the seed's DeiT-tiny figures are not set beside another model."""
    from ivit_gemmini.paper import targets

    monkeypatch.chdir(tmp_path)
    cfg = {"checkpoint": "digits", "images": "demo", "backends": ["torch-int", "spike"],
           "dataset": {"source": "digits"}, "paper": {"verify_images": 2}}
    images = ["i1", "i2", "i3", "i4"]
    declared = targets.stage_benchmarks(cfg, ["0of2", "1of2"], "dim16")
    assert "results/benchmarks/run_spike/dim16/1of2.tsv" in declared
    assert "results/benchmarks/quantize_images/0of2.tsv" in declared
    rtl = targets.stage_benchmarks({**cfg, "backends": ["spike-rtl"]}, ["0of1"], "dim16")
    assert {"results/benchmarks/run_spike_rtl/dim16/0of1.tsv",
            "results/benchmarks/build_spike_rtl_extension/dim16.tsv"} <= set(rtl)
    for f in declared:
        _bench(tmp_path / f, 1.0, 1.0)
    # Stale files of an earlier run: another Gemmini configuration, a shard of an earlier plan
    # (fewer shards), and a per-image job of the layout before shards.
    _bench(tmp_path / "results/benchmarks/run_spike/dim8/0of2.tsv", 500.0, 500.0)
    _bench(tmp_path / "results/benchmarks/run_spike/dim16/0of1.tsv", 500.0, 500.0)
    _bench(tmp_path / "results/benchmarks/build_firmware_elf/dim16/i1.tsv", 500.0, 500.0)
    _bench(tmp_path / "results/benchmarks/build_model_library/dim8.tsv", 500.0, 500.0)
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"arch": {"depth": 4, "dim": 64, "num_heads": 4,
                                             "image_size": 8, "patch_size": 2,
                                             "num_classes": 10}}))
    stats = tmp_path / "i1.json"
    stats.write_text(json.dumps({"kernels": {"total": {"instret": 10}}, "wall_s": 1.0}))
    performance.tabulate_performance([stats], declared, images, manifest,
                                     csv_out=tmp_path / "p.csv", md_out=tmp_path / "p.md")
    md = (tmp_path / "p.md").read_text()
    assert "500" not in md and "build_firmware_elf" not in md
    # Two shard jobs over four images: 2 s in all, 0.5 s per image.
    assert "| run_spike | per image, in shards | 2 | 0.50 | 1.00 | 2.0 | 2.0 |" in md
    assert "| build_model_library | once | 1 |" in md
    assert "| seed project" not in md and "not shown beside another model" in md
    rows = list(csv.DictReader((tmp_path / "p.csv").read_text().splitlines()))
    assert not [r for r in rows if r["kind"] == "seed"]
    # DeiT-tiny at 224 px is compared with the seed project.
    manifest.write_text(json.dumps({"arch": {"depth": 12, "dim": 192, "num_heads": 3,
                                             "image_size": 224, "patch_size": 16,
                                             "num_classes": 1000}}))
    performance.tabulate_performance([stats], declared, images, manifest,
                                     csv_out=tmp_path / "p.csv", md_out=tmp_path / "p.md")
    assert "| seed project (DeiT-tiny 224 px" in (tmp_path / "p.md").read_text()


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


