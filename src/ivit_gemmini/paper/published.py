"""I-ViT's published ImageNet top-1 (Li & Gu, ICCV 2023, Table 1): context, not our results."""

from __future__ import annotations

SOURCE = "I-ViT paper (ICCV 2023), ImageNet top-1, not measured here"
# model: (FP32 top-1, I-ViT INT8 top-1)
IVIT_IMAGENET_TOP1: dict[str, tuple[float, float]] = {
    "ViT-S": (81.39, 81.27),
    "ViT-B": (84.53, 84.76),
    "DeiT-T": (72.21, 72.24),
    "DeiT-S": (79.85, 80.12),
    "DeiT-B": (81.85, 81.74),
    "Swin-T": (81.35, 81.50),
    "Swin-S": (83.20, 83.01),
}
