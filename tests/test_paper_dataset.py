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


def test_digits_all_split_is_load_digits_in_row_order():
    from sklearn.datasets import load_digits

    raw = load_digits()
    images = dataset.dataset_images({"source": "digits", "split": "all", "num_samples": None})
    assert len(images) == 1797 and list(images)[:2] == ["digits_0001", "digits_0002"]
    assert list(images)[-1] == "digits_1797"
    by_id = digits.images_by_id()
    x, label = by_id["digits_1797"]
    np.testing.assert_array_equal(x[0], raw.images[1796] / 8.0 - 1.0)
    assert label == raw.target[1796]
    assert dataset.digits_labels(["digits_0001", "digits_test_0001"]) == {
        "digits_0001": int(raw.target[0]), "digits_test_0001": int(digits.load_split().test_y[0])}
    with pytest.raises(UserError, match="has 1797 images"):
        dataset.dataset_images({"source": "digits", "split": "all", "num_samples": 1798})
    with pytest.raises(UserError, match="not a digits image id"):
        dataset.digits_labels(["digits_9999"])


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
    with pytest.raises(UserError, match="10 classes"):  # synset folders, a 10-class model
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


def test_image_sources_are_relative_paths(tmp_path):
    """Issue 15 item 7: tables name each image's file, not only its id."""
    for rel in ["n01440764/a b.png", "n02123159/deep/c.png"]:
        _png(tmp_path / "val" / rel)
    cfg = {"source": "folder", "folder": str(tmp_path / "val"), "labels": None}
    images = dataset.dataset_images(cfg)
    sources = dataset.image_sources(images, cfg, base=tmp_path)
    assert sorted(sources.values()) == ["n01440764/a b.png", "n02123159/deep/c.png"]
    plain = {"x": str(tmp_path / "photos" / "x.jpg"), "y": "rel/y.png", "z": "/elsewhere/z.png"}
    assert dataset.image_sources(plain, None, base=tmp_path) == {
        "x": "photos/x.jpg", "y": "rel/y.png", "z": "/elsewhere/z.png"}
    digits_images = dataset.dataset_images({"source": "digits", "num_samples": 2})
    assert set(dataset.image_sources(digits_images, {"source": "digits"}).values()) == {
        dataset.DIGITS_SOURCE}


# --- the bring-your-own data set as a new user tried it (issue 15 item 9) ----------------------

def test_synset_labels_are_fast_and_match_timm():
    import time

    from timm.data import ImageNetInfo

    names = ImageNetInfo().label_names()
    start = time.perf_counter()
    got = [dataset.class_index(names[i % 1000], "x") for i in range(50_000)]
    assert time.perf_counter() - start < 2.0  # was ~0.1 s per label: over an hour
    assert got[:1000] == list(range(1000))


def test_labels_file_bom_stems_spaces_and_header(tmp_path):
    for name in ["ILSVRC2012_val_00000001.JPEG", "my cat.png", "dog.png"]:
        _png(tmp_path / "flat" / name)
    labels = tmp_path / "LOC_val_solution.csv"
    # UTF-8 BOM, ImageNet's header and LOC_val_solution.csv's "id,synset box ..." by stem
    labels.write_bytes("\ufeffImageId,PredictionString\n"
                       "ILSVRC2012_val_00000001,n01751748 73 31 347 281 n01751748 1 2 3 4\n"
                       .encode("utf-8"))
    with labels.open("a", encoding="utf-8") as fh:
        fh.write("my cat.png 282\ndog\t7\n")
    cfg = {"source": "folder", "folder": str(tmp_path / "flat"), "labels": str(labels)}
    images = dataset.dataset_images(cfg)
    assert dataset.folder_labels(images, str(labels)) == {
        "ILSVRC2012_val_00000001": 65, "my_cat": 282, "dog": 7}


def test_conflicting_duplicate_lines_are_refused_naming_both(tmp_path):
    labels = tmp_path / "labels.txt"
    labels.write_text("a.png 3\nb.png 4\na.png 3\n\na.png 5\n")
    with pytest.raises(UserError, match=r"lines 1 and 5 give a.png two labels \(3 and 5\)"):
        dataset.read_labels_file(labels)


def test_hidden_macos_files_skipped_and_nested_images_kept(tmp_path):
    _png(tmp_path / "n01440764" / "a.JPEG")
    _png(tmp_path / "n01440764" / "deeper" / "still" / "b.JPEG")
    (tmp_path / "n01440764" / "._a.JPEG").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
    (tmp_path / ".Trashes").mkdir()
    _png(tmp_path / ".Trashes" / "c.JPEG")
    cfg = {"source": "folder", "folder": str(tmp_path), "labels": None}
    images = dataset.dataset_images(cfg)
    assert sorted(images) == ["a", "b"]
    assert dataset.folder_labels(images, None, tmp_path) == {"a": 0, "b": 0}


def test_labels_checked_against_the_checkpoint_at_startup(tmp_path, toy_checkpoint):
    """A 10-class checkpoint against ImageNet synset folders was accepted when the synsets
    present mapped below 10; index labels beyond the classes were found only at the end."""
    from ivit_gemmini.model.checkpoint_peek import checkpoint_num_classes

    assert checkpoint_num_classes(toy_checkpoint) == 10  # read without torch
    _png(tmp_path / "n01440764" / "a.png")  # tench = class 0 < 10
    synsets = {"source": "folder", "folder": str(tmp_path), "labels": None}
    images = dataset.dataset_images(synsets)
    with pytest.raises(UserError, match="ImageNet synsets .* checkpoint has 10 classes"):
        dataset.check_folder_labels(synsets, images, 10)
    assert dataset.check_folder_labels(synsets, images, 1000) == {"a": 0}
    labels = tmp_path / "l.txt"
    labels.write_text("a.png 12\n")
    indexed = {**synsets, "labels": str(labels)}
    with pytest.raises(UserError, match="outside the model's 10 classes"):
        dataset.check_folder_labels(indexed, images, 10)


def test_missing_folder_names_the_resolved_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError) as err:
        dataset.dataset_images({"source": "folder", "folder": "val"})
    assert f"looked for {tmp_path / 'val'}" in str(err.value)
