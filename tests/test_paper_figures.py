"""The paper's figures are real PNGs drawn from their tables (checked by size and pixels)."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from ivit_gemmini.paper import figures

PNG = b"\x89PNG\r\n\x1a\n"


def _image(path) -> np.ndarray:
    assert path.read_bytes()[:8] == PNG
    return np.asarray(Image.open(path).convert("RGB"))


def test_layer_costs_per_kernel_and_fallback(tmp_path):
    steps = [{"name": f"k{i % 5}", "kind": "gemmini" if i % 2 else "core", "cycles": 100 + i,
              "instret": 100 + i} for i in range(40)]
    stats = tmp_path / "img.json"
    stats.write_text(json.dumps({"steps": steps, "kernels": {}}))
    figures.layer_costs(stats, tmp_path / "a.png")
    pixels = _image(tmp_path / "a.png")
    # Both kind colours are drawn (Gemmini blue, core orange).
    for colour in ((0x1F, 0x77, 0xB4), (0xFF, 0x7F, 0x0E)):
        assert np.any(np.all(pixels == colour, axis=-1)), colour
    # Without per-step counters the figure falls back to the Gemmini/core totals.
    stats.write_text(json.dumps({"kernels": {"gemmini": {"cycles": 5, "instret": 5},
                                             "core": {"cycles": 9, "instret": 9},
                                             "total": {"cycles": 14, "instret": 14}}}))
    assert [s["name"] for s in figures.read_steps(stats)] == ["all gemmini kernels",
                                                              "all core kernels"]
    figures.layer_costs(stats, tmp_path / "b.png")
    assert _image(tmp_path / "b.png").shape[0] > 100


def test_accuracy_bars_and_heatmap(tmp_path):
    acc = tmp_path / "accuracy.csv"
    acc.write_text("source,model,data,column,images,top1,top5,same_top1_as_torch_int\n"
                   "ours,m,d,fp32,10,90.00,100.00,\nours,m,d,torch-int,10,80.00,100.00,10\n"
                   "paper,DeiT-T,ImageNet val,fp32,50000,72.21,,\n")
    figures.accuracy_bars(acc, tmp_path / "acc.png")
    assert _image(tmp_path / "acc.png").shape[1] > 200
    agree = tmp_path / "agreement.csv"
    agree.write_text("backend_a,backend_b,image,images,top1_agreement,top5_overlap,"
                     "logits_identical,max_abs_logit_diff\n"
                     "torch-int,spike,(all),4,1.0,1.0,4,0\ntorch-int,spike,x,1,1.0,1.0,1,0\n")
    figures.agreement_heatmap(agree, ["torch-int", "spike"], tmp_path / "heat.png")
    assert _image(tmp_path / "heat.png").shape[0] > 100
