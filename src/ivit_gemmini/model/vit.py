"""I-ViT's quantized VisionTransformer (DeiT layout), built from an `Architecture`.

Module names follow I-ViT's `models/vit_quant.py` and `layers_quant.py` exactly, so
`state_dict()` has the same keys as a checkpoint saved by I-ViT's `quant_train.py` (550 for
DeiT-tiny, including the two QuantActs I-ViT constructs but never calls: `attn.qact_softmax`
and `act_out`).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

from ivit_gemmini.model.architecture import Architecture
from ivit_gemmini.model.quant_modules import (
    IntGELU,
    IntLayerNorm,
    IntSoftmax,
    QuantAct,
    QuantConv2d,
    QuantLinear,
    QuantMatMul,
)

Scaled = tuple[Tensor, Tensor]


class PatchEmbed(nn.Module):
    def __init__(self, arch: Architecture) -> None:
        super().__init__()
        self.image_size = arch.image_size
        self.proj = QuantConv2d(arch.in_chans, arch.dim, arch.patch_size, stride=arch.patch_size)
        self.qact = QuantAct(16)

    def forward(self, x: Tensor, scale: Tensor) -> Scaled:
        if x.shape[-2:] != (self.image_size, self.image_size):
            raise ValueError(f"image is {tuple(x.shape[-2:])}, the model wants "
                             f"{self.image_size}x{self.image_size}")
        x, scale = self.proj(x, scale)
        x = x.flatten(2).transpose(1, 2)  # (B, C, h, w) -> (B, tokens, C)
        return self.qact(x, scale)


class Attention(nn.Module):
    def __init__(self, arch: Architecture) -> None:
        super().__init__()
        self.num_heads = arch.num_heads
        self.scale = arch.head_dim**-0.5
        self.qkv = QuantLinear(arch.dim, 3 * arch.dim)
        self.qact1 = QuantAct()
        self.qact_attn1 = QuantAct()
        self.qact2 = QuantAct()
        self.proj = QuantLinear(arch.dim, arch.dim)
        self.qact3 = QuantAct(16)
        self.qact_softmax = QuantAct()  # constructed but unused in I-ViT; kept for its key
        self.int_softmax = IntSoftmax(16)
        self.matmul_1 = QuantMatMul()
        self.matmul_2 = QuantMatMul()

    def forward(self, x: Tensor, scale: Tensor) -> Scaled:
        b, n, c = x.shape
        x, scale = self.qkv(x, scale)
        x, qkv_scale = self.qact1(x, scale)
        qkv = x.reshape(b, n, 3, self.num_heads, c // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn, scale = self.matmul_1(q, qkv_scale, k.transpose(-2, -1), qkv_scale)
        attn = attn * self.scale
        scale = scale * self.scale
        attn, scale = self.qact_attn1(attn, scale)
        attn, scale = self.int_softmax(attn, scale)
        x, scale = self.matmul_2(attn, scale, v, qkv_scale)
        x = x.transpose(1, 2).reshape(b, n, c)
        x, scale = self.qact2(x, scale)
        x, scale = self.proj(x, scale)
        return self.qact3(x, scale)


class Mlp(nn.Module):
    def __init__(self, arch: Architecture) -> None:
        super().__init__()
        self.fc1 = QuantLinear(arch.dim, arch.mlp_hidden)
        self.qact_gelu = QuantAct()
        self.act = IntGELU()
        self.qact1 = QuantAct()
        self.fc2 = QuantLinear(arch.mlp_hidden, arch.dim)
        self.qact2 = QuantAct(16)

    def forward(self, x: Tensor, scale: Tensor) -> Scaled:
        x, scale = self.fc1(x, scale)
        x, scale = self.qact_gelu(x, scale)
        x, scale = self.act(x, scale)
        x, scale = self.qact1(x, scale)
        x, scale = self.fc2(x, scale)
        return self.qact2(x, scale)


class Block(nn.Module):
    def __init__(self, arch: Architecture) -> None:
        super().__init__()
        self.norm1 = IntLayerNorm(arch.dim)
        self.qact1 = QuantAct()
        self.attn = Attention(arch)
        self.qact2 = QuantAct(16)
        self.norm2 = IntLayerNorm(arch.dim)
        self.qact3 = QuantAct()
        self.mlp = Mlp(arch)
        self.qact4 = QuantAct(16)

    def forward(self, x_1: Tensor, scale_1: Tensor) -> Scaled:
        x, scale = self.norm1(x_1, scale_1)
        x, scale = self.qact1(x, scale)
        x, scale = self.attn(x, scale)
        # Residual add at 16 bits: branch and identity requantized separately, then summed.
        x_2, scale_2 = self.qact2(x, scale, x_1, scale_1)
        x, scale = self.norm2(x_2, scale_2)
        x, scale = self.qact3(x, scale)
        x, scale = self.mlp(x, scale)
        return self.qact4(x, scale, x_2, scale_2)


class VisionTransformer(nn.Module):
    def __init__(self, arch: Architecture) -> None:
        super().__init__()
        self.arch = arch
        self.qact_input = QuantAct()
        self.patch_embed = PatchEmbed(arch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, arch.dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, arch.num_tokens, arch.dim))
        self.qact_pos = QuantAct(16)
        self.qact1 = QuantAct(16)
        self.blocks = nn.ModuleList(Block(arch) for _ in range(arch.depth))
        self.norm = IntLayerNorm(arch.dim)
        self.qact2 = QuantAct()
        self.head = QuantLinear(arch.dim, arch.num_classes)
        self.act_out = QuantAct()  # constructed but unused in I-ViT; kept for its key
        self._init_weights()

    def _init_weights(self) -> None:
        """I-ViT's (timm's) initialisation; uses the global torch RNG."""
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward_features(self, x: Tensor) -> Scaled:
        x, scale = self.qact_input(x)
        x, scale = self.patch_embed(x, scale)
        x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1)  # shares the scale
        pos, pos_scale = self.qact_pos(self.pos_embed)
        x, scale = self.qact1(x, scale, pos, pos_scale)
        for block in self.blocks:
            x, scale = block(x, scale)
        x, scale = self.norm(x, scale)
        return self.qact2(x[:, 0], scale)

    def forward_with_scale(self, x: Tensor) -> Scaled:
        """Logits (float, = int32 accumulator * per-class scale) and that per-class scale."""
        x, scale = self.forward_features(x)
        return self.head(x, scale)

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_with_scale(x)[0]


def set_running_stat(model: nn.Module, on: bool) -> None:
    """Calibrate (EMA min/max) or use the stored activation scales, in every QuantAct."""
    for m in model.modules():
        if isinstance(m, QuantAct):
            m.running_stat = on


def set_use_stored(model: nn.Module, on: bool) -> None:
    """Use the stored integer weights, biases and scales instead of recomputing them."""
    for m in model.modules():
        if isinstance(m, QuantLinear | QuantConv2d | IntLayerNorm):
            m.use_stored = on


def load_state(model: VisionTransformer, state: Mapping[str, Tensor]) -> list[str]:
    """Copy every tensor of `state` whose key the model has; return the model keys not given.

    Buffers are replaced rather than copied because I-ViT saves some with other shapes than it
    registers them (a QuantAct's scale is 0-d once calibrated). Parameters must match in shape.
    """
    own_params = dict(model.named_parameters())
    own_buffers = dict(model.named_buffers())
    with torch.no_grad():
        for key, value in state.items():
            if key in own_params:
                own_params[key].copy_(value.to(torch.float32))
            elif key in own_buffers:
                owner_name, _, leaf = key.rpartition(".")
                owner = model.get_submodule(owner_name) if owner_name else model
                setattr(owner, leaf, value.detach().to(torch.float32).clone())
    return [k for k in (*own_params, *own_buffers) if k not in state]


def build_for_inference(arch: Architecture, state: Mapping[str, Tensor]) -> VisionTransformer:
    """A model that runs the checkpoint's stored integers and scales (no calibration)."""
    with torch.random.fork_rng(devices=[]):  # the unused float init must not move the RNG
        model = VisionTransformer(arch)
    load_state(model, state)
    set_running_stat(model, False)
    set_use_stored(model, True)
    return model.eval()
