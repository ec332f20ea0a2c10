"""scikit-learn's digits as an image-classification data set: a fixed split and image ids.

1,797 real 8x8 grayscale scans (pixel values 0..16, 10 classes) ship with scikit-learn, so the
accuracy tables can be made on real data with no download. The split is stratified and seeded:
1,437 training and 360 test images. Test image ids are `digits_test_0001` ... in split order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

NUM_DIGITS = 1797
TEST_SIZE = 360
SPLIT_SEED = 0
PIXEL_MAX = 16.0  # load_digits' pixel range is 0..16
IMAGE_SIZE = 8
ID_PREFIX = "digits_test_"


@dataclass(frozen=True)
class DigitsSplit:
    """Float images (N, 1, 8, 8) in [-1, 1] and int64 labels, for training and test."""

    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    test_index: np.ndarray  # row of each test image in load_digits' order (provenance)


def test_ids(count: int = TEST_SIZE) -> list[str]:
    """Ids of the first `count` test images; cheap (no data loaded), for Snakemake parse time."""
    return [f"{ID_PREFIX}{i:04d}" for i in range(1, count + 1)]


def normalize(pixels: np.ndarray) -> np.ndarray:
    """0..16 pixels -> float32 in [-1, 1] (the model's input; quantized once on the host)."""
    return (np.asarray(pixels, dtype=np.float32) / (PIXEL_MAX / 2) - 1.0).astype(np.float32)


def load_split(seed: int = SPLIT_SEED) -> DigitsSplit:
    """The stratified, seeded 1,437 / 360 split of load_digits."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    images = normalize(data.images).reshape(-1, 1, IMAGE_SIZE, IMAGE_SIZE)
    labels = data.target.astype(np.int64)
    train_idx, test_idx = train_test_split(np.arange(len(labels)), test_size=TEST_SIZE,
                                           random_state=seed, stratify=labels)
    return DigitsSplit(images[train_idx], labels[train_idx], images[test_idx], labels[test_idx],
                       np.asarray(test_idx, dtype=np.int64))


def write_digits_inputs(manifest: str | Path, outputs: list[str]) -> None:
    """The `prepare_digits_inputs` rule: each `.../{image}.bin` of `outputs` gets that test
    image as int8 (1, 8, 8), quantized at the model's input scale exactly as I-ViT's qact_input
    (`model.fakequant.quantize_input`)."""
    import json

    import torch

    from ivit_gemmini.errors import UserError
    from ivit_gemmini.model.fakequant import quantize_input
    from ivit_gemmini.model.images import write_input

    info = json.loads(Path(manifest).read_text(encoding="utf-8"))
    arch = info["arch"]
    if (arch["in_chans"], arch["image_size"]) != (1, IMAGE_SIZE):
        raise UserError(f"the checkpoint takes {arch['in_chans']}x{arch['image_size']}px images, "
                        "digits are 1x8x8: use 'checkpoint: digits' with 'dataset.source: digits'")
    split = load_split()
    by_id = dict(zip(test_ids(len(split.test_y)), split.test_x, strict=True))
    for out in outputs:
        image = Path(out).stem
        if image not in by_id:
            raise UserError(f"{image} is not a digits test image id (digits_test_0001..0360)")
        q = quantize_input(torch.from_numpy(by_id[image]), info["input_scale"])
        write_input(out, np.asarray(q, dtype=np.int8).reshape(1, IMAGE_SIZE, IMAGE_SIZE))
