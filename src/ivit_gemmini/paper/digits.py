"""scikit-learn's digits as an image-classification data set: a fixed split and image ids.

1,797 real 8x8 grayscale scans (pixel values 0..16, 10 classes) ship with scikit-learn, so the
accuracy tables can be made on real data with no download. The split is stratified and seeded:
1,437 training and 360 test images. Test image ids are `digits_test_0001` ... in split order.
The `all` set (config `dataset.split: all`, for throughput runs: it includes the training
images) has ids `digits_0001` ... `digits_1797` in load_digits' row order.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

NUM_DIGITS = 1797
TEST_SIZE = 360
SPLIT_SEED = 0
PIXEL_MAX = 16.0  # load_digits' pixel range is 0..16
IMAGE_SIZE = 8
ID_PREFIX = "digits_test_"
ALL_PREFIX = "digits_"
SPLITS = {"test": TEST_SIZE, "all": NUM_DIGITS}  # split name -> its image count


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


def split_ids(split: str, count: int | None = None) -> list[str]:
    """Ids of the first `count` images (all when None) of `split` ("test" or "all")."""
    if split == "test":
        return test_ids(count or TEST_SIZE)
    return [f"{ALL_PREFIX}{i:04d}" for i in range(1, (count or NUM_DIGITS) + 1)]


def images_by_id() -> dict[str, tuple[np.ndarray, int]]:
    """{id: ((1, 8, 8) float image, label)} for every id of both splits (1,797 + 360): test
    image k is row `test_index[k]` of load_digits, so one load serves both."""
    split = load_split()
    images, labels = _load_all()
    rows = dict(zip(split_ids("all"), range(NUM_DIGITS), strict=True))
    rows.update(zip(test_ids(len(split.test_index)), split.test_index.tolist(), strict=True))
    return {image: (images[row], int(labels[row])) for image, row in rows.items()}


def normalize(pixels: np.ndarray) -> np.ndarray:
    """0..16 pixels -> float32 in [-1, 1] (the model's input; quantized once on the host)."""
    return (np.asarray(pixels, dtype=np.float32) / (PIXEL_MAX / 2) - 1.0).astype(np.float32)


@functools.cache
def _load_all() -> tuple[np.ndarray, np.ndarray]:
    """load_digits' images (normalized, (N, 1, 8, 8)) and labels, in its row order."""
    from sklearn.datasets import load_digits

    data = load_digits()
    images = normalize(data.images).reshape(-1, 1, IMAGE_SIZE, IMAGE_SIZE)
    labels = data.target.astype(np.int64)
    images.flags.writeable = labels.flags.writeable = False  # cached: shared by every caller
    return images, labels


def load_split(seed: int = SPLIT_SEED) -> DigitsSplit:
    """The stratified, seeded 1,437 / 360 split of load_digits."""
    from sklearn.model_selection import train_test_split

    images, labels = _load_all()
    train_idx, test_idx = train_test_split(np.arange(len(labels)), test_size=TEST_SIZE,
                                           random_state=seed, stratify=labels)
    return DigitsSplit(images[train_idx], labels[train_idx], images[test_idx], labels[test_idx],
                       np.asarray(test_idx, dtype=np.int64))
