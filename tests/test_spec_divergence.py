"""The fake-quant model vs the specification, operator by operator, on a toy network."""

from __future__ import annotations

import torch

from ivit_gemmini.model.architecture import TOY
from ivit_gemmini.model.checkpoint import load_checkpoint
from ivit_gemmini.model.demo import make_demo_checkpoint
from ivit_gemmini.model.fakequant import quantize_input
from ivit_gemmini.spec.divergence import measure_divergence


def test_requantization_agrees_exactly_and_nonlinear_ops_are_measured(tmp_path) -> None:
    images = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(5))
    make_demo_checkpoint(images, tmp_path / "ck.pth", seed=2, arch=TOY)
    ckpt = load_checkpoint(tmp_path / "ck.pth", num_heads=TOY.num_heads)
    s_in = float(ckpt.state["qact_input.act_scaling_factor"])
    table = {d.operator: d for d in measure_divergence(
        ckpt, [quantize_input(img, s_in) for img in images])}
    assert set(table) == {"I-LayerNorm", "Shiftmax", "ShiftGELU", "requantize to int8",
                          "requantize to int16"}
    # Same input codes and the same (m, e): the dyadic requantization must agree bit for bit,
    # which it only does if the params stage reproduces I-ViT's batch_frexp exactly.
    for bits in (8, 16):
        assert table[f"requantize to int{bits}"].codes > 0
        assert table[f"requantize to int{bits}"].differing == 0
    # LayerNorm codes (~2^30) carry float32 noise only: tiny relative differences.
    assert table["I-LayerNorm"].max_relative_difference < 1e-3
