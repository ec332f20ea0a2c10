"""The shape of an I-ViT network: everything a checkpoint's tensors imply, plus the head count."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Architecture:
    """A ViT/DeiT with square images and square, non-overlapping patches."""

    depth: int
    dim: int
    num_heads: int
    mlp_hidden: int
    patch_size: int
    image_size: int
    in_chans: int = 3
    num_classes: int = 1000

    def __post_init__(self) -> None:
        for name in ("depth", "dim", "num_heads", "mlp_hidden", "patch_size", "image_size",
                     "in_chans", "num_classes"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Architecture.{name} must be a positive int, got {value!r}")
        if self.dim % self.num_heads:
            raise ValueError(f"dim {self.dim} is not divisible by num_heads {self.num_heads}")
        if self.image_size % self.patch_size:
            raise ValueError(
                f"image_size {self.image_size} is not a multiple of patch_size {self.patch_size}"
            )

    @property
    def grid(self) -> int:
        """Patches along one side of the image."""
        return self.image_size // self.patch_size

    @property
    def num_patches(self) -> int:
        return self.grid * self.grid

    @property
    def num_tokens(self) -> int:
        """Patches plus the class token (197 for DeiT at 224 px)."""
        return self.num_patches + 1

    @property
    def head_dim(self) -> int:
        return self.dim // self.num_heads


DEIT_TINY = Architecture(depth=12, dim=192, num_heads=3, mlp_hidden=768, patch_size=16,
                         image_size=224)
DEIT_SMALL = Architecture(depth=12, dim=384, num_heads=6, mlp_hidden=1536, patch_size=16,
                          image_size=224)
DEIT_BASE = Architecture(depth=12, dim=768, num_heads=12, mlp_hidden=3072, patch_size=16,
                         image_size=224)
# `checkpoint:` values for which the workflow makes a seeded demo checkpoint (model/demo.py).
DEMO_CHECKPOINTS = {"demo": DEIT_TINY, "demo-tiny": DEIT_TINY, "demo-small": DEIT_SMALL,
                    "demo-base": DEIT_BASE}
# A network small enough for unit tests (a forward pass takes milliseconds).
TOY = Architecture(depth=2, dim=32, num_heads=2, mlp_hidden=64, patch_size=8, image_size=32,
                   num_classes=10)
