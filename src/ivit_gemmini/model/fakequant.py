"""The `torch-fakequant` backend: I-ViT's own PyTorch model (float semantics) on a checkpoint.

It reads the same int8 input as every other backend: the image is quantized once on the host
with `quantize_input` (QuantAct's own rounding), dequantized here as q * s_in, and the model's
`qact_input` recovers q exactly before anything else happens.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from ivit_gemmini.errors import UserError
from ivit_gemmini.model.checkpoint import Checkpoint
from ivit_gemmini.model.quant_functions import symmetric_quant
from ivit_gemmini.model.vit import VisionTransformer, build_for_inference

INPUT_KEY = "qact_input.act_scaling_factor"
_MODELS: dict[tuple[str, object], VisionTransformer] = {}


def quantize_input(x_float: Tensor, scale: float | Tensor) -> np.ndarray:
    """int8 codes of a float image exactly as I-ViT's `qact_input` makes them:
    round-half-to-even of (1/s) * x in float32 (reciprocal first), clamped to [-128, 127]."""
    s = torch.as_tensor(scale, dtype=torch.float32).reshape(1)
    flat = x_float.to(torch.float32).reshape(1, 1, -1)  # any shape: the scale is per tensor
    with torch.no_grad():
        q = symmetric_quant(flat, 8, s, False)
    return q.to(torch.int8).reshape(x_float.shape).numpy()


def fakequant_model(ckpt: Checkpoint) -> VisionTransformer:
    """The model for `ckpt`, built once per checkpoint (by content) and architecture."""
    key = (ckpt.sha256, ckpt.arch)
    if key not in _MODELS:
        _MODELS[key] = build_for_inference(ckpt.arch, ckpt.state)
    return _MODELS[key]


def forward_fakequant(ckpt: Checkpoint, image_int8: np.ndarray) -> np.ndarray:
    """Float64 logits, shape (num_classes,), of one int8 image of shape (C, H, W)."""
    arch = ckpt.arch
    want = (arch.in_chans, arch.image_size, arch.image_size)
    if image_int8.dtype != np.int8 or image_int8.shape != want:
        raise UserError(f"input image is {image_int8.dtype} {image_int8.shape}, expected int8 "
                        f"{want}; regenerate the inputs from this checkpoint's architecture")
    s_in = ckpt.state[INPUT_KEY].to(torch.float32).reshape(())
    x = torch.from_numpy(image_int8.astype(np.float32)) * s_in
    if not np.array_equal(quantize_input(x, s_in), image_int8):
        raise AssertionError("dequantized input does not requantize to the same int8 codes")
    model = fakequant_model(ckpt)
    with torch.no_grad():
        logits = model(x.unsqueeze(0))[0]
    return logits.to(torch.float64).numpy()
