"""The demo checkpoint: valid, deterministic, self-consistent; and the fake-quant backend."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ivit_gemmini.errors import UserError
from ivit_gemmini.model.architecture import DEIT_TINY, TOY
from ivit_gemmini.model.checkpoint import load_checkpoint
from ivit_gemmini.model.checkpoint_keys import integer_graph_specs
from ivit_gemmini.model.demo import make_demo_checkpoint
from ivit_gemmini.model.fakequant import fakequant_model, forward_fakequant, quantize_input
from ivit_gemmini.model.vit import VisionTransformer, load_state, set_running_stat

TOY_KEYS = 1 + 5 + 1 + 2 + 2 + 44 * TOY.depth + 4 + 1 + 5 + 1  # I-ViT's layout, 44 a block


def _images(n: int, size: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, 3, size, size, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def toy_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "toy.pth"
    make_demo_checkpoint(_images(6, 32), path, seed=3, arch=TOY)
    return path


def test_demo_is_valid_with_ivits_keys(toy_ckpt: Path) -> None:
    ck = load_checkpoint(toy_ckpt, num_heads=TOY.num_heads)
    assert ck.arch == TOY
    assert len(ck.state) == TOY_KEYS
    assert set(integer_graph_specs(TOY)) <= set(ck.state)
    assert float(ck.state["blocks.0.attn.int_softmax.act_scaling_factor"]) == 2.0**-15
    # QuantAct scales are 0-d after calibration, as in I-ViT's checkpoints
    assert ck.state["blocks.0.qact1.act_scaling_factor"].dim() == 0
    # the unused QuantActs stay uncalibrated, as in I-ViT
    assert float(ck.state["act_out.act_scaling_factor"]) == 0.0


def test_demo_is_deterministic(toy_ckpt: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.pth"
    make_demo_checkpoint(_images(6, 32), again, seed=3, arch=TOY)
    assert again.read_bytes() == toy_ckpt.read_bytes()
    other = tmp_path / "other.pth"
    make_demo_checkpoint(_images(6, 32), other, seed=4, arch=TOY)
    a = torch.load(toy_ckpt, weights_only=True)
    b = torch.load(other, weights_only=True)
    assert not torch.equal(a["head.weight_integer"], b["head.weight_integer"])


def test_demo_buffers_match_the_final_scales(toy_ckpt: Path) -> None:
    """Stored integers == integers recomputed from the float weights at the fixed scales."""
    ck = load_checkpoint(toy_ckpt, num_heads=TOY.num_heads)
    recompute = VisionTransformer(TOY)
    load_state(recompute, ck.state)
    set_running_stat(recompute, False)
    s_in = ck.state["qact_input.act_scaling_factor"]
    for x in _images(2, 32, seed=9):
        q = quantize_input(x, s_in)
        with torch.no_grad():  # one image a batch: float GEMMs may round differently per batch
            want = recompute(torch.from_numpy(q.astype(np.float32))[None] * s_in)[0]
        got = forward_fakequant(ck, q)
        assert got.dtype == np.float64 and got.shape == (TOY.num_classes,)
        np.testing.assert_array_equal(got, want.double().numpy())
    for key, value in recompute.state_dict().items():
        assert torch.equal(value, ck.state[key]), key


def test_demo_logits_differ_between_images(toy_ckpt: Path) -> None:
    ck = load_checkpoint(toy_ckpt, num_heads=TOY.num_heads)
    s_in = ck.state["qact_input.act_scaling_factor"]
    logits = [forward_fakequant(ck, quantize_input(x, s_in)) for x in _images(4, 32, seed=5)]
    assert len({int(np.argmax(v)) for v in logits}) > 1 or np.ptp(logits, axis=0).max() > 0


def test_model_is_cached_per_checkpoint(toy_ckpt: Path) -> None:
    ck = load_checkpoint(toy_ckpt, num_heads=TOY.num_heads)
    assert fakequant_model(ck) is fakequant_model(load_checkpoint(toy_ckpt, num_heads=2))


@pytest.mark.parametrize("scale", [0.0395, 1 / 127, 2.0**-5, 0.0173])
def test_quantize_input_golden_and_round_trip(scale: float) -> None:
    s = np.float32(scale)
    x = torch.randn(3, 8, 8, generator=torch.Generator().manual_seed(1)) * 2
    want = np.clip(np.round(np.float32(1) / s * x.numpy()), -128, 127).astype(np.int8)
    np.testing.assert_array_equal(quantize_input(x, scale), want)
    # every int8 code survives dequantization (q * s in float32) and re-quantization
    codes = np.arange(-128, 128, dtype=np.int8).reshape(1, 16, 16)
    back = quantize_input(torch.from_numpy(codes.astype(np.float32)) * torch.tensor(s), scale)
    np.testing.assert_array_equal(back, codes)


def test_quantize_input_rounds_half_to_even() -> None:
    q = quantize_input(torch.tensor([0.5, 1.5, 2.5, -0.5, -2.5, 300.0, -300.0]), 1.0)
    assert q.tolist() == [0, 2, 2, 0, -2, 127, -128]


def test_forward_rejects_bad_input(toy_ckpt: Path) -> None:
    ck = load_checkpoint(toy_ckpt, num_heads=TOY.num_heads)
    with pytest.raises(UserError, match="expected int8"):
        forward_fakequant(ck, np.zeros((3, 32, 32), dtype=np.float32))
    with pytest.raises(UserError, match="expected int8"):
        forward_fakequant(ck, np.zeros((3, 16, 16), dtype=np.int8))


def test_calibration_shape_is_checked(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="calibration images have shape"):
        make_demo_checkpoint(_images(2, 16), tmp_path / "x.pth", arch=TOY)
    assert not (tmp_path / "x.pth").exists()


@pytest.mark.slow
def test_deit_tiny_demo(tmp_path: Path) -> None:
    """The real-size demo, the workflow's default checkpoint: 5-15 s on 2 idle cores."""
    path = tmp_path / "deit_tiny.pth"
    make_demo_checkpoint(_images(4, 224), path)
    ck = load_checkpoint(path)
    assert ck.arch == DEIT_TINY and len(ck.state) == 550
    s_in = ck.state["qact_input.act_scaling_factor"]
    logits = forward_fakequant(ck, quantize_input(_images(1, 224, seed=7)[0], s_in))
    assert logits.shape == (1000,) and np.isfinite(logits).all()
