"""QAT on digits: a small DeiT-shaped ViT trained in float, then I-ViT quantization-aware
fine-tuning with the project's I-ViT modules, saved as an I-ViT checkpoint (bare state_dict).

The network has DeiT's block structure (class token, position embedding, pre-norm blocks of
multi-head attention and a 4x MLP, head on the class token) sized for 8x8 grayscale images:
patch 2 (16 patches + class token = 17 tokens), width 64, 4 blocks, 4 heads of 16, one input
channel (the scans are grayscale; replicating them to RGB would only triple the first layer).

Reproducible: one seed drives the split, the initialisation and the batch order; training runs
on one CPU thread with torch's deterministic algorithms, so the same seed gives the same bytes.
"""

from __future__ import annotations

import contextlib
import io
import json
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ivit_gemmini.io import atomic_write_bytes, atomic_write_text
from ivit_gemmini.model.architecture import Architecture
from ivit_gemmini.paper.digits import DigitsSplit, load_split, test_ids

DIGITS_ARCH = Architecture(depth=4, dim=64, num_heads=4, mlp_hidden=256, patch_size=2,
                           image_size=8, in_chans=1, num_classes=10)
EVAL_BATCH = 512


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of both phases (the paper config may override the epochs)."""

    seed: int = 0
    float_epochs: int = 30
    qat_epochs: int = 5
    batch_size: int = 64
    float_lr: float = 3e-3  # peak of the one-cycle schedule
    qat_lr: float = 1e-4
    weight_decay: float = 0.05
    train_subset: int | None = None  # first N training images (tests); None = all 1,437


@contextlib.contextmanager
def deterministic(seed: int) -> Iterator[torch.Generator]:
    """One thread, deterministic kernels, a seeded generator; the global state is restored."""
    threads = torch.get_num_threads()
    was_deterministic = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            yield torch.Generator().manual_seed(seed)
    finally:
        torch.use_deterministic_algorithms(was_deterministic)
        torch.set_num_threads(threads)


def float_model(arch: Architecture = DIGITS_ARCH) -> nn.Module:
    """timm's VisionTransformer (DeiT's float model) with this architecture; its parameter
    names are I-ViT's, so its state_dict loads into the I-ViT model unchanged."""
    from timm.models.vision_transformer import VisionTransformer as TimmViT

    return TimmViT(img_size=arch.image_size, patch_size=arch.patch_size, in_chans=arch.in_chans,
                   num_classes=arch.num_classes, embed_dim=arch.dim, depth=arch.depth,
                   num_heads=arch.num_heads, mlp_ratio=arch.mlp_hidden / arch.dim,
                   qkv_bias=True)


def steps_per_epoch(n: int, cfg: TrainConfig) -> int:
    return -(-n // cfg.batch_size)


def _epoch(model: nn.Module, x: Tensor, y: Tensor, opt: torch.optim.Optimizer,
           sched: torch.optim.lr_scheduler.LRScheduler, cfg: TrainConfig,
           gen: torch.Generator) -> float:
    """One pass over the training images in a seeded order; the schedule steps per batch."""
    model.train()
    order = torch.randperm(x.shape[0], generator=gen)
    total = 0.0
    for start in range(0, x.shape[0], cfg.batch_size):
        idx = order[start:start + cfg.batch_size]
        loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        total += float(loss.detach()) * idx.numel()
    return total / x.shape[0]


def predict(model: nn.Module, x: Tensor) -> Tensor:
    """Float logits of `x`, in eval mode, in batches."""
    model.eval()
    with torch.no_grad():
        return torch.cat([model(chunk) for chunk in x.split(EVAL_BATCH)])


def train_float(split: DigitsSplit, cfg: TrainConfig, gen: torch.Generator) -> nn.Module:
    """The FP32 model: AdamW with a one-cycle schedule from timm's initialisation."""
    model = float_model()
    x, y = _train_tensors(split, cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.float_lr, weight_decay=cfg.weight_decay)
    if cfg.float_epochs > 0:
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=cfg.float_lr, pct_start=0.1,
            total_steps=cfg.float_epochs * steps_per_epoch(len(y), cfg))
        for _ in range(cfg.float_epochs):
            _epoch(model, x, y, opt, sched, cfg, gen)
    return model.eval()


def quantization_aware(float_state: dict[str, Tensor], split: DigitsSplit, cfg: TrainConfig,
                       gen: torch.Generator) -> nn.Module:
    """I-ViT QAT: load the float weights, calibrate the activation ranges, fine-tune with
    fake-quantization and straight-through gradients (EMA ranges keep updating, as in I-ViT's
    quant_train.py), then fix the scales and fill the stored integer buffers."""
    from ivit_gemmini.model.demo import calibrate
    from ivit_gemmini.model.vit import (
        VisionTransformer,
        load_state,
        set_running_stat,
        set_use_stored,
    )

    model = VisionTransformer(DIGITS_ARCH)
    load_state(model, float_state)
    x, y = _train_tensors(split, cfg)
    calibrate(model, x)  # EMA over the training images, scales fixed, buffers filled
    if cfg.qat_epochs > 0:
        set_running_stat(model, True)
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.qat_lr,
                                weight_decay=cfg.weight_decay)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(
            opt, cfg.qat_epochs * steps_per_epoch(len(y), cfg))
        for _ in range(cfg.qat_epochs):
            _epoch(model, x, y, opt, sched, cfg, gen)
    set_use_stored(model, False)
    set_running_stat(model, False)
    model.eval()
    with torch.no_grad():
        model(x[:EVAL_BATCH])  # recompute weight_integer etc. at the fixed scales
    return model


def _train_tensors(split: DigitsSplit, cfg: TrainConfig) -> tuple[Tensor, Tensor]:
    n = cfg.train_subset or len(split.train_y)
    return torch.from_numpy(split.train_x[:n]), torch.from_numpy(split.train_y[:n])


def top5_lists(logits: Tensor) -> list[list[int]]:
    """Top-5 classes per row: logit descending, ties by class index (the project's rule)."""
    out = []
    for row in logits.to(torch.float64).numpy():
        out.append(sorted(range(len(row)), key=lambda c: (-row[c], c))[:5])
    return out


def accuracy(top5: list[list[int]], labels: np.ndarray) -> tuple[float, float]:
    """(top-1, top-5) in percent."""
    n = len(top5)
    top1 = sum(t[0] == int(label) for t, label in zip(top5, labels, strict=True))
    in5 = sum(int(label) in t for t, label in zip(top5, labels, strict=True))
    return 100.0 * top1 / n, 100.0 * in5 / n


def fp32_predictions_csv(top5: list[list[int]], labels: np.ndarray) -> str:
    lines = ["image,label,top5"]
    for image, label, t in zip(test_ids(len(top5)), labels, top5, strict=True):
        lines.append(f"{image},{int(label)},{' '.join(str(c) for c in t)}")
    return "\n".join(lines) + "\n"


def save_state(state: dict[str, Tensor], out: str | Path) -> None:
    """torch.save through memory: a file name would become the zip's record prefix (the
    temporary name of an atomic write), and the same tensors would give different bytes."""
    buf = io.BytesIO()
    torch.save(state, buf)
    atomic_write_bytes(out, buf.getvalue())


def train_digits(checkpoint_out: str | Path, fp32_out: str | Path, predictions_out: str | Path,
                 metrics_out: str | Path, cfg: TrainConfig | None = None) -> dict[str, Any]:
    """The `train_digits_qat` rule: FP32 model, QAT checkpoint, FP32 test predictions and a
    metrics JSON (test accuracies measured in-process, training times)."""
    from ivit_gemmini.model.vit import build_for_inference

    cfg = cfg or TrainConfig()
    split = load_split()
    test_x = torch.from_numpy(split.test_x)
    with deterministic(cfg.seed) as gen:
        start, cpu = time.monotonic(), time.process_time()
        fp32 = train_float(split, cfg, gen)
        float_s, float_cpu = time.monotonic() - start, time.process_time() - cpu
        fp32_state = {k: v.detach().clone() for k, v in fp32.state_dict().items()}
        fp32_top5 = top5_lists(predict(fp32, test_x))
        start, cpu = time.monotonic(), time.process_time()
        qat = quantization_aware(fp32_state, split, cfg, gen)
        qat_s, qat_cpu = time.monotonic() - start, time.process_time() - cpu
        state = {k: v.detach().clone() for k, v in qat.state_dict().items()}
        # What a reloaded checkpoint computes (stored integers and scales): torch-fakequant.
        reloaded = build_for_inference(DIGITS_ARCH, state)
        int8_top5 = top5_lists(predict(reloaded, test_x))
    save_state(state, checkpoint_out)
    save_state(fp32_state, fp32_out)
    atomic_write_text(predictions_out, fp32_predictions_csv(fp32_top5, split.test_y))
    fp32_acc = accuracy(fp32_top5, split.test_y)
    int8_acc = accuracy(int8_top5, split.test_y)
    metrics = {
        "arch": asdict(DIGITS_ARCH),
        "config": asdict(cfg),
        "train_images": len(_train_tensors(split, cfg)[1]),
        "test_images": len(split.test_y),
        "fp32_top1": fp32_acc[0], "fp32_top5": fp32_acc[1],
        "qat_fakequant_top1": int8_acc[0], "qat_fakequant_top5": int8_acc[1],
        "float_train_s": round(float_s, 2), "qat_train_s": round(qat_s, 2),
        "float_train_cpu_s": round(float_cpu, 2), "qat_train_cpu_s": round(qat_cpu, 2),
        "torch_threads": 1, "torch_version": torch.__version__,
    }
    atomic_write_text(metrics_out, json.dumps(metrics, indent=2) + "\n")
    return metrics


def train_digits_stage(checkpoint_out: str, fp32_out: str, predictions_out: str,
                       metrics_out: str, *, seed: int, float_epochs: int,
                       qat_epochs: int) -> None:
    """The `train_digits_qat` rule (config `digits_qat`)."""
    import sys

    m = train_digits(checkpoint_out, fp32_out, predictions_out, metrics_out,
                     TrainConfig(seed=seed, float_epochs=float_epochs, qat_epochs=qat_epochs))
    print(f"digits: FP32 top-1 {m['fp32_top1']:.2f}%, I-ViT INT8 (fake-quant) top-1 "
          f"{m['qat_fakequant_top1']:.2f}% on {m['test_images']} test images; training "
          f"{m['float_train_s']:.0f} s + QAT {m['qat_train_s']:.0f} s", file=sys.stderr)
