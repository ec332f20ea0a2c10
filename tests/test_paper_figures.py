"""The paper's figures are real PNGs drawn from their tables (checked by size and pixels)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from ivit_gemmini.paper import figures

PNG = b"\x89PNG\r\n\x1a\n"


def _image(path) -> np.ndarray:
    assert path.read_bytes()[:8] == PNG
    return np.asarray(Image.open(path).convert("RGB"))


def test_layer_costs_groups_kernels_by_block_and_kind(tmp_path):
    # Two blocks (two LayerNorms each) after an embedding, then the head's LayerNorm.
    block = ["layernorm_requant8", "gemmini_matmul_bias_4x8x2", "shiftmax", "requant8_channel",
             "layernorm_requant8", "shiftgelu", "gemmini_matmul_b2x3_4x4x4", "heads_q"]
    names = ["patch_tokens", *block, *block, "layernorm_requant81", "gemmini_matmul_1x10x2"]
    assert figures.step_blocks(names)[:2] == ["embedding", "block 0"]
    assert figures.step_blocks(names)[9] == "block 1" and figures.step_blocks(names)[-1] == "head"
    assert [figures.kernel_group(n) for n in block] == [
        "LayerNorm", "matmul on Gemmini", "Shiftmax", "requantization", "LayerNorm", "ShiftGELU",
        "matmul on Gemmini", "data movement"]
    steps = [{"name": n, "kind": "gemmini" if n.startswith("gemmini") else "core",
              "cycles": 10, "instret": 10} for n in names]
    stats = {"steps": steps, "kernels": {}, "gemmini": {"gemmini_cycles_modelled": 1000}}
    profile = {"kernel_cpi": {"shiftmax": 3.0}, "glue_cpi": 2.0}
    costs, unit = figures.block_costs(stats, profile)
    assert unit == "modelled cycles"
    assert costs["block 0"]["Shiftmax"] == 30.0 and costs["block 0"]["LayerNorm"] == 40.0
    # Gemmini's 1000 cycles split by MACs: 64, 2*3*64 = 384 per block and 20 in the head.
    wait = figures.GEMMINI_WAIT[0]
    assert costs["block 0"][wait] == pytest.approx(1000 * 448 / 916)
    assert costs["head"][wait] == pytest.approx(1000 * 20 / 916)
    path = tmp_path / "img.json"
    path.write_text(json.dumps(stats))
    prof = tmp_path / "profile.json"
    prof.write_text(json.dumps(profile))
    figures.layer_costs(path, tmp_path / "a.png", prof)
    pixels = _image(tmp_path / "a.png")
    for colour in ((0x2C, 0xA0, 0x2C), (0x94, 0x67, 0xBD), (0x17, 0xBE, 0xCF)):
        assert np.any(np.all(pixels == colour, axis=-1)), colour
    # Without per-step counters the figure falls back to the Gemmini/core totals.
    path.write_text(json.dumps({"kernels": {"gemmini": {"cycles": 5, "instret": 5},
                                            "core": {"cycles": 9, "instret": 9},
                                            "total": {"cycles": 14, "instret": 14}}}))
    assert [s["name"] for s in figures.read_steps(path)] == ["all gemmini kernels",
                                                             "all core kernels"]
    figures.layer_costs(path, tmp_path / "b.png")
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
