"""The `torch-int` backend: the whole integer program of docs/integer-program.md.

This is the reference every other backend must equal bit for bit. It reads only integer arrays
from `IntegerParams`; the structure mirrors the specification's sections one to one.
"""

from __future__ import annotations

import numpy as np
import torch

from ivit_gemmini.errors import UserError
from ivit_gemmini.model.params import IntegerParams
from ivit_gemmini.spec import ops
from ivit_gemmini.spec.fold import FoldedRequant, fold_layernorm_requant

Tensor = torch.Tensor


class _Arrays:
    """Integer arrays of one params file as torch tensors, looked up by specification name."""

    def __init__(self, params: IntegerParams):
        self._params = params
        self._cache: dict[str, Tensor] = {}
        self._folds: dict[str, FoldedRequant] = {}

    def __getitem__(self, name: str) -> Tensor:
        if name not in self._cache:
            self._cache[name] = torch.from_numpy(np.asarray(self._params[name]).astype(np.int64))
        return self._cache[name]

    def rq(self, prefix: str) -> tuple[Tensor, Tensor]:
        return self[f"{prefix}.m"], self[f"{prefix}.e"]

    def scalar(self, name: str) -> int:
        return int(self[name][0])

    def layernorm_rq(self, x: Tensor, norm: str, prefix: str) -> Tensor:
        """requant_8(LN(x, norm.bias), prefix), through the int64 fold of the pair."""
        key = f"{norm}.fold"
        if key not in self._folds:
            self._folds[key] = fold_layernorm_requant(
                np.asarray(self._params[f"{norm}.bias"]), *self._params.rq(prefix))
        return ops.layernorm_requant8(x, self._folds[key])


def patch_tokens(image: Tensor, patch: int) -> Tensor:
    """im2col of a (channels, H, W) image: (num_patches, channels * patch^2), (c, ky, kx) order."""
    channels, height, width = image.shape
    grid = image.reshape(channels, height // patch, patch, width // patch, patch)
    return grid.permute(1, 3, 0, 2, 4).reshape(-1, channels * patch * patch)


def attention(a: Tensor, p: str, w: _Arrays, num_heads: int, softmax_bits: int) -> Tensor:
    """The attention branch on int8 tokens `a` (N, C) -> int16 (N, C) before the residual add."""
    tokens, channels = a.shape
    head_dim = channels // num_heads
    qkv = ops.requant_bits(ops.linear(a, w[f"{p}.qkv.weight"], w[f"{p}.qkv.bias"]),
                           *w.rq(f"{p}.qkv.rq"), 8)
    qkv = qkv.reshape(tokens, 3, num_heads, head_dim).permute(1, 2, 0, 3)  # (3, H, N, d)
    q, k, v = qkv[0], qkv[1], qkv[2]
    scores = ops.requant_bits(ops.matmul(q, k.transpose(-1, -2)), *w.rq(f"{p}.scores.rq"), 8)
    probs = ops.shiftmax(scores, w.scalar(f"{p}.softmax.x0"), softmax_bits)
    context = ops.matmul(probs, v).permute(1, 0, 2).reshape(tokens, channels)
    c = ops.requant_bits(context, *w.rq(f"{p}.context.rq"), 8)
    out = ops.linear(c, w[f"{p}.proj.weight"], w[f"{p}.proj.bias"])
    return ops.requant_bits(out, *w.rq(f"{p}.proj.rq"), 16)


def mlp(h: Tensor, p: str, w: _Arrays) -> Tensor:
    """The MLP branch on int8 tokens (N, C) -> int16 (N, C) before the residual add."""
    h = ops.requant_bits(ops.linear(h, w[f"{p}.fc1.weight"], w[f"{p}.fc1.bias"]),
                         *w.rq(f"{p}.fc1.rq"), 8)
    g = ops.requant_bits(ops.shiftgelu(h, w.scalar(f"{p}.gelu.x0")), *w.rq(f"{p}.gelu_out.rq"), 8)
    y = ops.linear(g, w[f"{p}.fc2.weight"], w[f"{p}.fc2.bias"])
    return ops.requant_bits(y, *w.rq(f"{p}.fc2.rq"), 16)


def block(x: Tensor, i: int, w: _Arrays, num_heads: int, softmax_bits: int) -> Tensor:
    """One transformer block on the int16 residual stream."""
    p = f"blocks.{i}"
    a = w.layernorm_rq(x, f"{p}.norm1", f"{p}.attn_in.rq")
    x2 = ops.residual_add(attention(a, p, w, num_heads, softmax_bits), w.rq(f"{p}.res1.rq_branch"),
                          x, w.rq(f"{p}.res1.rq_skip"))
    h = w.layernorm_rq(x2, f"{p}.norm2", f"{p}.mlp_in.rq")
    return ops.residual_add(mlp(h, p, w), w.rq(f"{p}.res2.rq_branch"),
                            x2, w.rq(f"{p}.res2.rq_skip"))


def embed(image: Tensor, w: _Arrays, patch: int) -> Tensor:
    """Patch embedding, class token and position embedding -> int16 tokens (N, C)."""
    acc = ops.linear(patch_tokens(image, patch), w["patch.weight"], w["patch.bias"])
    x = ops.requant_bits(acc, *w.rq("patch.rq"), 16)
    tokens = torch.cat([w["embed.cls"][None, :], x])
    return ops.clamp_bits(ops.requant(tokens, *w.rq("embed.rq_x"))
                          + ops.requant(w["embed.pos"], *w.rq("embed.rq_pos")), 16)


def head(x: Tensor, w: _Arrays) -> Tensor:
    """Final LayerNorm on the class token, the classifier, logits at one scale (int64)."""
    c = w.layernorm_rq(x[0], "norm", "head_in.rq")
    acc = ops.linear(c, w["head.weight"], w["head.bias"])
    return ops.requant(acc, *w.rq("logits.rq"))


def forward_int(params: IntegerParams, image_int8: np.ndarray) -> np.ndarray:
    """Run the integer program on one int8 image (in_chans, H, W); returns int64 logits (K,)."""
    arch = params.arch
    expected = (arch.in_chans, arch.image_size, arch.image_size)
    if image_int8.shape != expected or image_int8.dtype != np.int8:
        raise UserError(
            f"input is {image_int8.dtype}{list(image_int8.shape)}, the model needs "
            f"int8{list(expected)}; rerun the quantize_image rule"
        )
    w = _Arrays(params)
    with torch.no_grad():
        x = embed(torch.from_numpy(image_int8.astype(np.int64)), w, arch.patch_size)
        for i in range(arch.depth):
            x = block(x, i, w, arch.num_heads, params.softmax_bits)
        return head(x, w).numpy()
