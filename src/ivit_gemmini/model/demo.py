"""A demo I-ViT checkpoint: seeded random DeiT weights, calibrated like I-ViT, saved like I-ViT.

There is no public I-ViT DeiT-tiny checkpoint we can download, so the workflow's default is a
network with the real shapes and real quantization, whose weights are random but scaled so that
activations look like a trained network's (unit-variance branches, sharp attention, LayerNorm
gammas that vary): it exercises every operator over realistic ranges. Its predictions are
meaningless; agreement between backends is what it is for.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor

from ivit_gemmini.errors import UserError
from ivit_gemmini.io import atomic_write_bytes
from ivit_gemmini.model.architecture import DEIT_BASE, DEIT_SMALL, DEIT_TINY, Architecture
from ivit_gemmini.model.vit import VisionTransformer, load_state, set_running_stat, set_use_stored

TIMM_NAMES = {
    DEIT_TINY: "deit_tiny_patch16_224",
    DEIT_SMALL: "deit_small_patch16_224",
    DEIT_BASE: "deit_base_patch16_224",
}
CALIBRATION_CHUNK = 32  # images a calibration forward pass; the EMA runs across chunks
QKV_GAIN = 2.0  # q.k logits of a few units: attention as peaked as in a trained DeiT


def make_demo_checkpoint(
    calibration: Tensor,
    out: Path,
    *,
    seed: int = 0,
    arch: Architecture = DEIT_TINY,
    adjust: Callable[[dict[str, Tensor]], None] | None = None,
) -> None:
    """Write an I-ViT checkpoint (a bare state_dict, as I-ViT's quant_train.py saves) to `out`.

    `calibration`: float images, already normalized as DeiT expects, shape (B, C, H, W).
    `adjust` may edit the float weights (by key) before calibration, e.g. to give LayerNorms
    a trained network's outlier channels. The same inputs and seed give the same tensors
    (and the same bytes).
    """
    _check_calibration(calibration, arch)
    calibration = calibration.detach().to(torch.float32)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        floats = float_weights(arch)
        model = VisionTransformer(arch)  # consumes the RNG too; its weights are replaced below
    _liven(floats, seed)
    if adjust is not None:
        adjust(floats)
    unknown = sorted(set(floats) - set(model.state_dict()))
    if unknown:
        raise ValueError(f"float weights with no place in I-ViT's model: {unknown[:5]}")
    missing = load_state(model, floats)
    assert all(k.endswith(("_integer", "_scaling_factor")) for k in missing), missing
    calibrate(model, calibration)
    # Through memory: torch.save names the zip records after the file, and the temporary
    # file's random name would make identical checkpoints differ in bytes.
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    atomic_write_bytes(out, buffer.getvalue())


def float_weights(arch: Architecture) -> dict[str, Tensor]:
    """Initial float weights under I-ViT's key names: timm's DeiT for the DeiT shapes,
    otherwise I-ViT's own initialisation (no timm import, fast for tests)."""
    name = TIMM_NAMES.get(arch)
    if name is None:
        model = VisionTransformer(arch)
        return {k: v.detach().clone() for k, v in model.named_parameters()}
    import timm  # slow to import; only needed here

    timm_model = timm.create_model(name, pretrained=False)
    return timm_to_ivit(timm_model.state_dict())


def timm_to_ivit(timm_state: dict[str, Tensor]) -> dict[str, Tensor]:
    """Map a timm ViT/DeiT state_dict onto I-ViT's float parameter names.

    I-ViT kept timm's module names, so the mapping is the identity on the float parameters;
    `make_demo_checkpoint` fails loudly if a timm version ever adds a tensor I-ViT lacks.
    """
    return {key: value.detach().clone().to(torch.float32) for key, value in timm_state.items()}


def _liven(floats: dict[str, Tensor], seed: int) -> None:
    """Rescale the init (std 0.02 everywhere) so activations resemble a trained network's."""
    gen = torch.Generator().manual_seed(seed + 1)
    for key, value in sorted(floats.items()):
        if key.endswith(".weight") and value.dim() == 2:  # linear layers
            gain = QKV_GAIN if key.endswith("attn.qkv.weight") else 1.0
            target = gain / math.sqrt(value.shape[1])
            value.mul_(target / max(float(value.std()), 1e-12))
        elif key.endswith(".bias") and "norm" not in key:
            value.add_(0.02 * torch.randn(value.shape, generator=gen))
        elif "norm" in key and key.endswith(".weight"):
            value.add_(0.2 * torch.randn(value.shape, generator=gen))
        elif "norm" in key and key.endswith(".bias"):
            value.add_(0.1 * torch.randn(value.shape, generator=gen))
        elif key == "pos_embed":
            value.mul_(10.0)  # std 0.2
        elif key == "cls_token":
            value.normal_(0.0, 0.5, generator=gen)


def calibrate(model: VisionTransformer, images: Tensor) -> None:
    """I-ViT's calibration: EMA min/max over `images`, then the scales fixed and one more
    forward pass so weight_integer, bias_integer and the LayerNorm buffers match them."""
    model.eval()
    set_use_stored(model, False)
    set_running_stat(model, True)
    with torch.no_grad():
        for chunk in images.split(CALIBRATION_CHUNK):
            model(chunk)
        set_running_stat(model, False)
        model(images[:CALIBRATION_CHUNK])


def _check_calibration(images: Tensor, arch: Architecture) -> None:
    want = (arch.in_chans, arch.image_size, arch.image_size)
    if not isinstance(images, Tensor) or images.dim() != 4 or tuple(images.shape[1:]) != want:
        shape = tuple(images.shape) if isinstance(images, Tensor) else type(images).__name__
        raise UserError(f"calibration images have shape {shape}, expected (B, {want[0]}, "
                        f"{want[1]}, {want[2]}); preprocess them to the model's input size")
    if images.shape[0] == 0 or not images.is_floating_point():
        raise UserError("calibration needs at least one float image (DeiT-normalized); "
                        "give the demo checkpoint some calibration images")
    if not bool(torch.isfinite(images).all()):
        raise UserError("calibration images contain NaN or infinity; check the preprocessing")
