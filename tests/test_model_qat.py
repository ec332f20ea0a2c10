"""Quantization-aware training through the fake-quant model: straight-through gradients flow
to every trainable tensor and a few steps fit a toy batch."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ivit_gemmini.model.architecture import TOY
from ivit_gemmini.model.demo import calibrate
from ivit_gemmini.model.vit import VisionTransformer, set_running_stat


def _toy_model_and_batch() -> tuple[VisionTransformer, torch.Tensor, torch.Tensor]:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = VisionTransformer(TOY)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(8, 3, 32, 32, generator=g)
    y = torch.arange(8) % TOY.num_classes
    calibrate(model, x)
    return model, x, y


def test_straight_through_gradients_reach_every_trained_tensor() -> None:
    model, x, y = _toy_model_and_batch()
    model.train()
    F.cross_entropy(model(x), y).backward()
    no_grad = [n for n, p in model.named_parameters()
               if p.grad is None or not torch.isfinite(p.grad).all() or p.grad.abs().sum() == 0]
    # I-ViT detaches the LayerNorm bias (it only enters bias_integer): the one exception.
    assert all(n.endswith("bias") and "norm" in n for n in no_grad), no_grad
    assert {"cls_token", "pos_embed", "patch_embed.proj.weight", "blocks.0.attn.qkv.weight",
            "blocks.1.mlp.fc1.weight", "blocks.0.norm1.weight", "head.weight"}.isdisjoint(no_grad)


def test_a_few_qat_steps_fit_a_toy_batch() -> None:
    model, x, y = _toy_model_and_batch()
    set_running_stat(model, True)  # I-ViT trains with the EMA ranges still moving
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(15):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses
    # the integer buffers follow the trained weights
    model.eval()
    set_running_stat(model, False)
    with torch.no_grad():
        model(x[:1])
    w = model.blocks[0].attn.qkv.weight.detach()
    scale = (torch.maximum(-w.min(dim=1).values, w.max(dim=1).values) / 127).view(-1, 1)
    assert torch.equal(model.blocks[0].attn.qkv.fc_scaling_factor.view(-1, 1), scale)
    assert torch.equal(model.blocks[0].attn.qkv.weight_integer,
                       torch.clamp(torch.round(1.0 / scale * w), -128, 127))
