"""QAT on digits: the checkpoint is a real I-ViT checkpoint, INT8 stays within a point of FP32,
and the integer backends predict exactly what torch-int predicts on the whole test set."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch

from ivit_gemmini.paper.digits import load_split
from ivit_gemmini.paper.train import DIGITS_ARCH, TrainConfig, train_digits

# A short training (12 float epochs, 1 QAT epoch: ~87% top-1); the paper run trains longer.
SHORT = TrainConfig(float_epochs=12, qat_epochs=1)


def _train(folder: Path, cfg: TrainConfig) -> dict[str, Path]:
    paths = {k: folder / f"{k}" for k in ("checkpoint.pth", "fp32.pth", "fp32.csv", "m.json")}
    train_digits(*paths.values(), cfg)
    return paths


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The short model, its params, and torch-int logits of all 360 test images."""
    from ivit_gemmini.model.checkpoint import load_checkpoint
    from ivit_gemmini.model.fakequant import quantize_input
    from ivit_gemmini.model.params import export_params, load_params
    from ivit_gemmini.spec.network import forward_int

    folder = tmp_path_factory.mktemp("digits_qat")
    paths = _train(folder, SHORT)
    ckpt = load_checkpoint(paths["checkpoint.pth"], num_heads=DIGITS_ARCH.num_heads)
    export_params(ckpt, folder / "params.npz", folder / "manifest.json")
    params = load_params(folder / "params.npz", folder / "manifest.json")
    split = load_split()
    inputs = [np.asarray(quantize_input(torch.from_numpy(x), params.input_scale), np.int8)
              for x in split.test_x]
    logits = np.stack([np.asarray(forward_int(params, q)) for q in inputs])
    return {"paths": paths, "ckpt": ckpt, "params": params, "split": split, "inputs": inputs,
            "torch_int": logits}


@pytest.mark.slow
def test_checkpoint_is_an_ivit_state_dict(trained):
    from ivit_gemmini.model.vit import VisionTransformer

    raw = torch.load(trained["paths"]["checkpoint.pth"], weights_only=True, map_location="cpu")
    assert isinstance(raw, dict) and all(isinstance(v, torch.Tensor) for v in raw.values())
    assert set(raw) == set(VisionTransformer(DIGITS_ARCH).state_dict())
    assert trained["ckpt"].arch == DIGITS_ARCH
    w = raw["blocks.0.attn.qkv.weight_integer"]
    assert torch.equal(w, w.round()) and w.abs().max() <= 127


@pytest.mark.slow
def test_int8_within_one_point_of_fp32(trained):
    """FP32 recomputed here from the saved float model (timm), INT8 = torch-int's argmax."""
    from timm.models.vision_transformer import VisionTransformer as TimmViT

    split = trained["split"]
    fp32 = TimmViT(img_size=8, patch_size=2, in_chans=1, num_classes=10, embed_dim=64, depth=4,
                   num_heads=4, mlp_ratio=4.0, qkv_bias=True)
    fp32.load_state_dict(torch.load(trained["paths"]["fp32.pth"], weights_only=True))
    with torch.no_grad():
        fp32_pred = fp32.eval()(torch.from_numpy(split.test_x)).argmax(1).numpy()
    fp32_acc = 100.0 * np.mean(fp32_pred == split.test_y)
    int8_acc = 100.0 * np.mean(trained["torch_int"].argmax(1) == split.test_y)
    assert fp32_acc > 70.0, "the float model did not learn"
    assert abs(int8_acc - fp32_acc) <= 1.0, (fp32_acc, int8_acc)


@pytest.mark.slow
def test_tvm_cpu_identical_to_torch_int_on_full_test_set(trained):
    pytest.importorskip("tvm")
    from ivit_gemmini.compile.cpu_backend import CpuBackend

    backend = CpuBackend(trained["params"])
    got = np.stack([backend(q) for q in trained["inputs"]])
    np.testing.assert_array_equal(got, trained["torch_int"])


@pytest.mark.slow
def test_fakequant_predictions_close_to_torch_int(trained):
    """I-ViT's float32 model is not bit-exact, but on a trained model it must predict (almost
    always) the same class as the integer specification."""
    from ivit_gemmini.model.fakequant import forward_fakequant

    n = 120  # a third of the test set keeps the float model's per-image cost down
    fq = np.stack([forward_fakequant(trained["ckpt"], q) for q in trained["inputs"][:n]])
    agree = np.mean(fq.argmax(1) == trained["torch_int"][:n].argmax(1))
    assert agree >= 0.98


def test_training_is_reproducible(tmp_path):
    cfg = TrainConfig(float_epochs=1, qat_epochs=1, train_subset=96, batch_size=32)
    a = _train(tmp_path / "a", cfg)
    b = _train(tmp_path / "b", cfg)
    for name in ("checkpoint.pth", "fp32.csv"):
        digest = [hashlib.sha256(p[name].read_bytes()).hexdigest() for p in (a, b)]
        assert digest[0] == digest[1], name
