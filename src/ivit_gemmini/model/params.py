"""The params stage: an I-ViT checkpoint -> integer arrays + dyadic pairs (`params.npz`).

Every float scale of the checkpoint is turned into integers here, once: int8 weights, int32
biases and a dyadic (multiplier, shift) pair for every requantization, computed the way I-ViT's
QAT model computes them (float32 scale products, float64 ratio, `batch_frexp`). Nothing
downstream of `params.npz` uses a float scale (docs/integer-program.md).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ivit_gemmini import __version__
from ivit_gemmini.errors import UserError
from ivit_gemmini.io import atomic_path, atomic_write_text
from ivit_gemmini.model.architecture import Architecture
from ivit_gemmini.model.quant_functions import MANTISSA_BITS
from ivit_gemmini.model.quant_functions import dyadic as frexp_dyadic
from ivit_gemmini.spec.fold import MAX_SHIFT

FORMAT = "ivit-gemmini-params/1"
LOGIT_HEADROOM_BITS = 16
SOFTMAX_X0_LIMIT = 2**15
GELU_X0_LIMIT = 255
GELU_SIGMOID_SCALE = 2.0**-7


@dataclass(frozen=True)
class IntegerParams:
    """The integer program's parameters: what every backend consumes."""

    arch: Architecture
    arrays: Mapping[str, np.ndarray]
    input_scale: float
    logit_scale: float
    softmax_bits: int

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name]

    def rq(self, prefix: str) -> tuple[np.ndarray, np.ndarray]:
        """The dyadic pair (m, e) stored under `prefix`."""
        return self.arrays[f"{prefix}.m"], self.arrays[f"{prefix}.e"]


def dyadic(scale_in: torch.Tensor, scale_out: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(m, e) with m / 2^e ~ scale_in / scale_out, as I-ViT's `fixedpoint_mul` computes it
    (the fake-quant model's own `batch_frexp`), with the multiplier kept inside int32."""
    ratio = scale_in.reshape(-1).double() / scale_out.reshape(-1).float().double()
    m, e = (t.numpy().astype(np.int64) for t in frexp_dyadic(ratio))
    carried = np.abs(m) == 2**MANTISSA_BITS  # same value as (m / 2, e - 1)
    m, e = np.where(carried, m // 2, m), np.where(carried, e - 1, e)
    return m.astype(np.int32), e.astype(np.int32)


class _Builder:
    """Collects arrays and the float scales they came from, checking bounds as it goes."""

    def __init__(self, state: Mapping[str, torch.Tensor]):
        self.state = state
        self.arrays: dict[str, np.ndarray] = {}
        self.scales: dict[str, Any] = {}

    def scale(self, key: str) -> torch.Tensor:
        return self.state[key].detach().to(torch.float32).reshape(-1)

    def act(self, module: str) -> torch.Tensor:
        return self.scale(f"{module}.act_scaling_factor")

    def ints(self, key: str, dtype: type[np.integer]) -> np.ndarray:
        values = self.state[key].detach().to(torch.float64).numpy()
        info = np.iinfo(dtype)
        if not np.all(np.isfinite(values)) or np.any(values != np.round(values)):
            raise UserError(f"checkpoint tensor {key} must hold integers; re-export the checkpoint")
        if values.min(initial=0) < info.min or values.max(initial=0) > info.max:
            raise UserError(
                f"checkpoint tensor {key} has values outside {np.dtype(dtype).name}; "
                "was it quantized with the I-ViT bit widths?"
            )
        return values.astype(dtype)

    def requant(self, name: str, scale_in: torch.Tensor, scale_out: torch.Tensor) -> None:
        """A pair for a requantization whose input is proven |z| < 2^31 (every one but
        LayerNorm's): a channel whose shift exceeds 62 gives rhe(z * m / 2^e) = 0 for every
        such z (|z * m| < 2^62 <= 2^(e-1)), so it is stored as the exact (0, 0)."""
        m, e = dyadic(scale_in, scale_out)
        if np.any(e < 0):
            c = int(np.argmax(e < 0))
            s_in = float(scale_in.reshape(-1)[c if scale_in.numel() > 1 else 0])
            raise UserError(
                f"requantization {name}, channel {c}: input scale {s_in:.3g} / output scale "
                f"{float(scale_out.reshape(-1)[0]):.3g} is 2^31 or more, so the output scale "
                "cannot represent one input step; the checkpoint's scales are inconsistent "
                "(recalibrate the QuantAct after this layer)"
            )
        vanishing = e > MAX_SHIFT
        m, e = (np.where(vanishing, 0, a).astype(np.int32) for a in (m, e))
        self.store_pair(name, m, e, scale_in, scale_out)

    def layernorm_requant(self, name: str, scale_in: torch.Tensor, scale_out: torch.Tensor) -> None:
        """The pair after a LayerNorm, as computed (any shift): its input is not bounded by
        2^31, so backends fold it with the bias (spec/fold.py) instead."""
        self.store_pair(name, *dyadic(scale_in, scale_out), scale_in, scale_out)

    def store_pair(self, name: str, m: np.ndarray, e: np.ndarray, scale_in: torch.Tensor,
                   scale_out: torch.Tensor) -> None:
        self.arrays[f"{name}.m"], self.arrays[f"{name}.e"] = m, e
        self.scales[name] = {
            "in": scale_in.tolist() if scale_in.numel() <= 4 else f"{scale_in.numel()} channels",
            "out": float(scale_out.reshape(-1)[0]),
        }

    def linear(self, name: str, module: str, in_scale: torch.Tensor) -> torch.Tensor:
        """Store an I-ViT QuantLinear/QuantConv2d; returns its per-channel accumulator scale."""
        weight = self.ints(f"{module}.weight_integer", np.int8)
        weight = weight.reshape(weight.shape[0], -1)
        bias = self.ints(f"{module}.bias_integer", np.int32)
        worst = np.abs(bias.astype(np.int64)) + weight.shape[1] * 128 * 128
        if worst.max() >= 2**31:
            raise UserError(
                f"{module}: bias + worst-case products can overflow the int32 accumulator; "
                "the checkpoint's bias_integer is too large for this specification"
            )
        self.arrays[f"{name}.weight"], self.arrays[f"{name}.bias"] = weight, bias
        key = "conv_scaling_factor" if name == "patch" else "fc_scaling_factor"
        return self.scale(f"{module}.{key}") * in_scale

    def layernorm_bias(self, name: str, module: str) -> torch.Tensor:
        """I-ViT's bias_integer = floor(beta / gamma * 2^30 / sqrt(C)): any integer that int64
        holds is exact here (spec/fold.py); beyond that the channel cannot be stored."""
        key = f"{module}.bias_integer"
        t = self.state[key].detach().reshape(-1)
        if not t.is_floating_point():  # an integer tensor: exact as it is (float64 is not)
            self.arrays[f"{name}.bias"] = t.to(torch.int64).numpy()
            return self.scale(f"{module}.norm_scaling_factor")
        values = t.to(torch.float64)
        beyond = values.abs() >= 2.0**63
        if bool(beyond.any()):
            c = int(torch.nonzero(beyond)[0])
            raise UserError(
                f"{key}, channel {c}: {float(values[c]):.3g} does not fit int64 (|beta / gamma| "
                f"> 2^33 sqrt(C): a LayerNorm gamma of almost 0 beside its beta); set that "
                "channel's gamma to a representable value and re-export"
            )
        self.arrays[f"{name}.bias"] = self.ints(key, np.int64)
        return self.scale(f"{module}.norm_scaling_factor")

    def exp_constant(self, name: str, scale: torch.Tensor, limit: int) -> None:
        x0 = int(torch.floor(-1.0 / scale)[0])
        if not -limit <= x0 <= -1:
            raise UserError(
                f"{name}: input scale {float(scale[0]):.3g} gives x0 = {x0}, outside "
                f"[-{limit}, -1]; the shift exponential would overflow int32"
            )
        self.arrays[f"{name}.x0"] = np.array([x0], dtype=np.int32)


def _softmax_bits(scale: float) -> int:
    bits = 1 - math.log2(scale)
    if bits != round(bits) or not 2 <= bits <= 16:
        raise UserError(
            f"int_softmax.act_scaling_factor is {scale}; this specification needs 2^-(b-1) with "
            "b <= 16 (I-ViT uses 2^-15)"
        )
    return int(bits)


def build_params(
    state: Mapping[str, torch.Tensor], arch: Architecture
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Compute every integer array of the specification; returns (arrays, manifest fields)."""
    b = _Builder(state)
    s_input = b.act("qact_input")

    # Patch embedding -> int16 tokens.
    s_patch = b.act("patch_embed.qact")
    b.requant("patch.rq", b.linear("patch", "patch_embed.proj", s_input), s_patch)

    # Class token, position embedding, first residual-style add.
    cls = torch.round(state["cls_token"].to(torch.float32).reshape(-1) / s_patch)
    if cls.abs().max() >= 2**31:
        raise UserError("cls_token is too large for the patch-embedding scale; bad checkpoint")
    b.arrays["embed.cls"] = cls.numpy().astype(np.int32)
    s_pos = b.act("qact_pos")
    pos = torch.round((1.0 / s_pos) * state["pos_embed"].to(torch.float32)).clamp(-32768, 32767)
    b.arrays["embed.pos"] = pos.reshape(arch.num_tokens, arch.dim).numpy().astype(np.int16)
    s_x = b.act("qact1")
    b.requant("embed.rq_x", s_patch, s_x)
    b.requant("embed.rq_pos", s_pos, s_x)

    head_dim = arch.dim // arch.num_heads
    s_softmax = b.act("blocks.0.attn.int_softmax") if arch.depth else torch.tensor([2.0**-15])
    softmax_bits = _softmax_bits(float(s_softmax[0]))
    for i in range(arch.depth):
        p, blk = f"blocks.{i}", f"blocks.{i}"
        # Attention branch.
        s_ln = b.layernorm_bias(f"{p}.norm1", f"{blk}.norm1")
        s_a = b.act(f"{blk}.qact1")
        b.layernorm_requant(f"{p}.attn_in.rq", s_ln, s_a)
        s_qkv = b.act(f"{blk}.attn.qact1")
        b.requant(f"{p}.qkv.rq", b.linear(f"{p}.qkv", f"{blk}.attn.qkv", s_a), s_qkv)
        s_scores = (s_qkv * s_qkv) * head_dim**-0.5
        s_attn = b.act(f"{blk}.attn.qact_attn1")
        b.requant(f"{p}.scores.rq", s_scores, s_attn)
        b.exp_constant(f"{p}.softmax", s_attn, SOFTMAX_X0_LIMIT)
        s_ctx_in = b.act(f"{blk}.attn.qact2")
        b.requant(f"{p}.context.rq", s_softmax * s_qkv, s_ctx_in)
        s_o = b.act(f"{blk}.attn.qact3")
        b.requant(f"{p}.proj.rq", b.linear(f"{p}.proj", f"{blk}.attn.proj", s_ctx_in), s_o)
        s_x2 = b.act(f"{blk}.qact2")
        b.requant(f"{p}.res1.rq_branch", s_o, s_x2)
        b.requant(f"{p}.res1.rq_skip", s_x, s_x2)
        # MLP branch.
        s_ln2 = b.layernorm_bias(f"{p}.norm2", f"{blk}.norm2")
        s_h = b.act(f"{blk}.qact3")
        b.layernorm_requant(f"{p}.mlp_in.rq", s_ln2, s_h)
        s_g = b.act(f"{blk}.mlp.qact_gelu")
        b.requant(f"{p}.fc1.rq", b.linear(f"{p}.fc1", f"{blk}.mlp.fc1", s_h), s_g)
        b.exp_constant(f"{p}.gelu", s_g * 1.702, GELU_X0_LIMIT)
        s_h2 = b.act(f"{blk}.mlp.qact1")
        b.requant(f"{p}.gelu_out.rq", s_g * GELU_SIGMOID_SCALE, s_h2)
        s_y = b.act(f"{blk}.mlp.qact2")
        b.requant(f"{p}.fc2.rq", b.linear(f"{p}.fc2", f"{blk}.mlp.fc2", s_h2), s_y)
        s_out = b.act(f"{blk}.qact4")
        b.requant(f"{p}.res2.rq_branch", s_y, s_out)
        b.requant(f"{p}.res2.rq_skip", s_x2, s_out)
        s_x = s_out

    # Final LayerNorm on the class token, head, logits at one power-of-two scale.
    s_lnf = b.layernorm_bias("norm", "norm")
    s_c = b.act("qact2")
    b.layernorm_requant("head_in.rq", s_lnf, s_c)
    s_acc = b.linear("head", "head", s_c)
    logit_log2 = math.floor(math.log2(float(s_acc.max()))) - LOGIT_HEADROOM_BITS
    logit_scale = torch.tensor([2.0**logit_log2], dtype=torch.float32)
    b.requant("logits.rq", s_acc, logit_scale)

    manifest = {
        "input_scale": float(s_input[0]),
        "logit_scale": 2.0**logit_log2,
        "softmax_bits": softmax_bits,
        "scales": b.scales,
    }
    return b.arrays, manifest


def export_params(ckpt: Any, npz_path: Path, manifest_path: Path) -> None:
    """Write `params.npz` and `manifest.json` for a validated `Checkpoint`."""
    arrays, fields = build_params(ckpt.state, ckpt.arch)
    manifest = {
        "format": FORMAT,
        "specification": "docs/integer-program.md (specification 1)",
        "arch": dataclasses.asdict(ckpt.arch),
        **fields,
        "arrays": {k: {"dtype": v.dtype.name, "shape": list(v.shape)} for k, v in arrays.items()},
        "checkpoint": {"path": str(ckpt.path), "sha256": ckpt.sha256},
        "versions": {"ivit_gemmini": __version__, "torch": torch.__version__},
    }
    with atomic_path(npz_path) as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)
    atomic_write_text(manifest_path, json.dumps(manifest, indent=1) + "\n")


def load_params(npz_path: Path, manifest_path: Path) -> IntegerParams:
    """Read what `export_params` wrote, checking the format and every array's dtype/shape."""
    try:
        manifest = json.loads(Path(manifest_path).read_text())
        with np.load(npz_path) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read params {npz_path} / {manifest_path}: {exc}; rerun the "
                        "export_params rule") from exc
    if manifest.get("format") != FORMAT:
        raise UserError(f"{manifest_path} is not an {FORMAT} manifest; rerun export_params")
    for name, spec in manifest["arrays"].items():
        a = arrays.get(name)
        if a is None or a.dtype.name != spec["dtype"] or list(a.shape) != spec["shape"]:
            raise UserError(f"{npz_path}: array {name} is missing or differs from the manifest")
    return IntegerParams(
        arch=Architecture(**manifest["arch"]),
        arrays=arrays,
        input_scale=float(manifest["input_scale"]),
        logit_scale=float(manifest["logit_scale"]),
        softmax_bits=int(manifest["softmax_bits"]),
    )
