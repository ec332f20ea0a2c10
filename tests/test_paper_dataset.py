"""Data sets of the paper run: the digits split and ImageNet-layout folders with labels."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from ivit_gemmini.errors import UserError
from ivit_gemmini.paper import dataset, digits


def test_digits_split_is_fixed_stratified_and_disjoint():
    from sklearn.datasets import load_digits

    split = digits.load_split()
    assert split.train_x.shape == (1437, 1, 8, 8) and split.test_x.shape == (360, 1, 8, 8)
    assert split.train_x.min() >= -1.0 and split.train_x.max() <= 1.0
    raw = load_digits()
    # Each test image is the scan at its recorded row, normalized as pixels / 8 - 1.
    np.testing.assert_array_equal(split.test_x[:, 0], raw.images[split.test_index] / 8.0 - 1.0)
    np.testing.assert_array_equal(split.test_y, raw.target[split.test_index])
    assert np.bincount(split.test_y).min() >= 35  # stratified: 10 classes of ~36
    again = digits.load_split()
    np.testing.assert_array_equal(again.test_index, split.test_index)


def test_digits_ids_and_subset():
    assert digits.test_ids(3) == ["digits_test_0001", "digits_test_0002", "digits_test_0003"]
    images = dataset.dataset_images({"source": "digits", "num_samples": 5})
    assert list(images) == digits.test_ids(5)
    assert dataset.dataset_images({"source": None}) is None
    with pytest.raises(UserError, match="has 360 images"):
        dataset.dataset_images({"source": "digits", "num_samples": 361})


def test_digits_labels_follow_split():
    split = digits.load_split()
    labels = dataset.digits_labels(["digits_test_0001", "digits_test_0360"])
    assert labels == {"digits_test_0001": int(split.test_y[0]),
                      "digits_test_0360": int(split.test_y[359])}


def _png(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (4, 4)).save(path)


def test_folder_in_imagenet_layout(tmp_path):
    for rel in ["n01440764/a.png", "n02123159/b.png", "7/c.png", "7/d.JPEG"]:
        _png(tmp_path / rel)
    cfg = {"source": "folder", "folder": str(tmp_path), "labels": None, "num_samples": None}
    images = dataset.dataset_images(cfg)
    assert list(images) == ["c", "d", "a", "b"]  # sorted paths: "7/" before "n0..."
    assert dataset.folder_labels(images, None) == {"c": 7, "d": 7, "a": 0, "b": 282}
    out = tmp_path / "labels.csv"
    dataset.write_labels(cfg, images, out, num_classes=1000)
    assert dataset.read_labels_csv(out) == {"c": 7, "d": 7, "a": 0, "b": 282}
    with pytest.raises(UserError, match="outside the model's 10 classes"):
        dataset.write_labels(cfg, images, out, num_classes=10)


def test_folder_with_labels_file_and_subset(tmp_path):
    for name in ["x1.png", "x2.png", "x3.png", "x4.png"]:
        _png(tmp_path / "flat" / name)
    labels = tmp_path / "labels.txt"
    labels.write_text("# file label\nx1.png 5\nx2.png,n01443537\nx3.png\t9\nx4.png 0\n")
    cfg = {"source": "folder", "folder": str(tmp_path / "flat"), "labels": str(labels),
           "num_samples": 2, "seed": 3}
    first = dataset.dataset_images(cfg)
    assert len(first) == 2 and first == dataset.dataset_images(cfg)  # seeded
    everything = dataset.dataset_images({**cfg, "num_samples": None})
    assert dataset.folder_labels(everything, str(labels)) == {"x1": 5, "x2": 1, "x3": 9, "x4": 0}
    labels.write_text("x1.png 5\n")
    with pytest.raises(UserError, match="x2.png has no line"):
        dataset.folder_labels(everything, str(labels))


def test_folder_errors(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        dataset.dataset_images({"source": "folder", "folder": str(tmp_path / "no")})
    with pytest.raises(UserError, match="no images in class folders"):
        dataset.dataset_images({"source": "folder", "folder": str(tmp_path)})
    _png(tmp_path / "cats" / "a.png")
    images = dataset.dataset_images({"source": "folder", "folder": str(tmp_path)})
    with pytest.raises(UserError, match="neither a class index nor an ImageNet synset"):
        dataset.folder_labels(images, None)
