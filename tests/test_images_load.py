"""Image stage: finding, loading (bad files give one-line errors), ids, demo export, input files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ivit_gemmini.errors import UserError
from ivit_gemmini.model import images


def _png(path: Path, size=(40, 30), mode="RGB") -> Path:
    rng = np.random.default_rng(0)
    channels = {"RGB": 3, "RGBA": 4}.get(mode)
    shape = (size[1], size[0], channels) if channels else (size[1], size[0])
    Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode).save(path)
    return path


def test_load_image_missing_file_is_one_line(tmp_path):
    with pytest.raises(UserError, match="image not found") as err:
        images.load_image(tmp_path / "nope.jpg")
    assert "\n" not in str(err.value)


def test_load_image_not_an_image(tmp_path):
    bad = tmp_path / "cat.jpg"
    bad.write_text("this is not a JPEG")
    with pytest.raises(UserError, match="not an image file") as err:
        images.load_image(bad)
    assert "\n" not in str(err.value)


def test_load_image_truncated(tmp_path):
    good = tmp_path / "full.jpg"
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(
        good, quality=95)
    data = good.read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(UserError, match="truncated or corrupt") as err:
        images.load_image(cut)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("mode", ["L", "RGBA"])
def test_load_image_converts_to_rgb(tmp_path, mode):
    img = images.load_image(_png(tmp_path / "x.png", mode=mode))
    assert img.mode == "RGB" and img.size == (40, 30)


def test_sanitise_and_unique_ids(tmp_path):
    paths = [Path("a/My Cat!.jpg"), Path("b/My Cat!.png"), Path("c/My_Cat.jpg"), Path("d/+++.png")]
    ids = images.assign_ids(paths)
    assert list(ids) == ["My_Cat", "My_Cat_2", "My_Cat_3", "image"]
    assert ids["My_Cat_2"] == Path("b/My Cat!.png")


def test_find_images_folder_list_and_errors(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    _png(folder / "b.png")
    _png(folder / "a.PNG")
    (folder / "notes.txt").write_text("skip me")
    (folder / "._b.png").write_bytes(b"\x00\x05\x16\x07")  # macOS metadata, not an image
    assert list(images.find_images(str(folder))) == ["a", "b"]
    assert list(images.find_images(["imgs/b.png"], base_dir=tmp_path)) == ["b"]
    with pytest.raises(UserError, match="image not found"):
        images.find_images(["imgs/zzz.png"], base_dir=tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UserError, match="holds no"):
        images.find_images(str(empty))


def _reference_preprocess(img: Image.Image, size: int) -> np.ndarray:
    """DeiT eval preprocessing written out with PIL + numpy (independent of timm)."""
    w, h = img.size
    short = int(size / 0.875)
    nw, nh = (short, int(short * h / w)) if w <= h else (int(short * w / h), short)
    resized = img.resize((nw, nh), Image.BICUBIC)
    top, left = int(round((nh - size) / 2.0)), int(round((nw - size) / 2.0))
    arr = np.asarray(resized, dtype=np.float32)[top : top + size, left : left + size] / 255.0
    mean = np.array([0.485, 0.456, 0.406], dtype=np.float32)
    std = np.array([0.229, 0.224, 0.225], dtype=np.float32)
    return ((arr - mean) / std).transpose(2, 0, 1)


@pytest.mark.parametrize("size,image_size", [((451, 300), 224), ((300, 451), 224), ((50, 40), 32)])
def test_preprocess_matches_deit_eval(tmp_path, size, image_size):
    img = images.load_image(_png(tmp_path / "x.png", size=size))
    got = images.preprocess(img, image_size).numpy()
    assert got.shape == (3, image_size, image_size)
    np.testing.assert_allclose(got, _reference_preprocess(img, image_size), atol=1e-5)


def test_preprocess_is_timms_deit_eval_transform(tmp_path):
    from timm.data import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD, create_transform

    assert (images.IMAGENET_MEAN, images.IMAGENET_STD) == (IMAGENET_DEFAULT_MEAN,
                                                          IMAGENET_DEFAULT_STD)
    img = images.load_image(_png(tmp_path / "x.png", size=(333, 250)))
    timm_t = create_transform(input_size=224, is_training=False, crop_pct=0.875,
                              interpolation="bicubic")
    assert bool((timm_t(img) == images.preprocess(img, 224)).all())


def test_export_demo_images_are_skimage_photos(tmp_path):
    from skimage import data

    paths = images.export_demo_images(tmp_path / "demo")
    assert [p.stem for p in paths] == ["chelsea", "coffee", "astronaut", "rocket"]
    for p in paths:
        np.testing.assert_array_equal(np.asarray(Image.open(p)), getattr(data, p.stem)())
    assert not list((tmp_path / "demo").glob(".*tmp"))


def test_input_file_roundtrip_and_size_check(tmp_path):
    values = [(i * 37) % 256 - 128 for i in range(3 * 8 * 8)]
    arr = np.array(values, dtype=np.int8).reshape(3, 8, 8)
    images.write_input(tmp_path / "x.bin", arr)
    # raw int8, C order (channel, row, column): the bytes are the values mod 256 in that order
    assert (tmp_path / "x.bin").read_bytes() == bytes(v % 256 for v in values)
    np.testing.assert_array_equal(images.read_input(tmp_path / "x.bin", 3, 8), arr)
    with pytest.raises(UserError, match="expected 3072"):
        images.read_input(tmp_path / "x.bin", 3, 32)


@pytest.mark.parametrize("name", ["chelsea", "coffee", "astronaut", "rocket", "camera"])
def test_torch_free_preprocessing_and_quantization_are_bit_identical(name):
    """The quantize shard's numpy + Pillow path equals the torch/torchvision path bit for bit
    (float32 tensor, then int8 codes at several scales) on the demo photographs (and a grey
    one), at DeiT's 224 and at sizes where the resize and crop round differently."""
    import torch
    from skimage import data

    from ivit_gemmini.model.fakequant import quantize_input

    img = Image.fromarray(np.asarray(getattr(data, name)())).convert("RGB")
    for size in (224, 32, 97):
        want = images.preprocess(img, size).numpy()
        got = images.preprocess_array(img, size)
        assert got.dtype == np.float32 and np.array_equal(got, want), size
        for scale in (0.0173, 1 / 64, 0.031):
            np.testing.assert_array_equal(images.quantize_array(got, scale),
                                          quantize_input(torch.from_numpy(want), scale))


def test_quantize_stage_imports_no_torch(tmp_path):
    """The quantize shard job (a fresh Python) never imports torch."""
    import json
    import subprocess
    import sys

    Image.fromarray(np.full((40, 50, 3), 120, np.uint8)).save(tmp_path / "a.png")
    (tmp_path / "manifest.json").write_text(json.dumps(
        {"input_scale": 0.02, "arch": {"in_chans": 3, "image_size": 32}}))
    code = ("import sys, os; os.chdir(sys.argv[1]);"
            "from ivit_gemmini.shards.stages import quantize_shard;"
            "quantize_shard('0of1', {'a': 'a.png'}, 'manifest.json', 's.json', code='c',"
            " job_log='log');"
            "assert 'torch' not in sys.modules, 'torch imported'")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "results/inputs/a.bin").stat().st_size == 3 * 32 * 32


# --- bit depths and EXIF orientation (issue 10, items 4 and 8) ---------------------------------

def _mode(path: Path) -> str:
    with Image.open(path) as img:
        return img.mode


def _gradient16() -> np.ndarray:
    """A 16-bit ramp whose 8-bit view is known: v16 = v8 * 257 (+ a sub-step offset)."""
    v8 = np.arange(256, dtype=np.uint16).reshape(16, 16)
    return v8 * 257 + (v8 % 3) * 50  # < 128 above the exact value: still rounds to v8


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_16bit_grayscale_is_scaled_not_clipped(tmp_path, suffix):
    # Pillow's convert("RGB") clips I;16 to 255: the whole picture came out white.
    path = tmp_path / f"g16{suffix}"
    Image.fromarray(_gradient16()).save(path)
    assert _mode(path).startswith("I;16")
    got = np.asarray(images.load_image(path))
    want = np.arange(256, dtype=np.uint8).reshape(16, 16)  # independent: v16 // 257
    assert got.shape == (16, 16, 3)
    for c in range(3):
        np.testing.assert_array_equal(got[..., c], want)


def test_16bit_big_endian_tiff_is_scaled(tmp_path):
    import tifffile

    path = tmp_path / "be.tif"
    tifffile.imwrite(path, _gradient16().astype(">u2"))
    assert _mode(path) == "I;16B"
    got = np.asarray(images.load_image(path))[..., 0]
    np.testing.assert_array_equal(got, np.arange(256, dtype=np.uint8).reshape(16, 16))


def test_float_image_in_unit_range_is_scaled(tmp_path):
    path = tmp_path / "f.tif"
    values = np.arange(256, dtype=np.float32).reshape(16, 16) / 255
    Image.fromarray(values).save(path)
    assert _mode(path) == "F"
    got = np.asarray(images.load_image(path))[..., 1]
    np.testing.assert_array_equal(got, np.arange(256, dtype=np.uint8).reshape(16, 16))


@pytest.mark.parametrize("kind", ["float_out_of_range", "int32"])
def test_images_without_a_brightness_range_are_refused(tmp_path, kind):
    path = tmp_path / f"{kind}.tif"
    if kind == "int32":
        Image.fromarray((np.arange(64, dtype=np.int32) * 100000).reshape(8, 8)).save(path)
    else:
        Image.fromarray(np.linspace(-1, 3, 64, dtype=np.float32).reshape(8, 8)).save(path)
    with pytest.raises(UserError, match="brightness range") as err:
        images.load_image(path)
    assert "\n" not in str(err.value) and str(path) in str(err.value)


def _exif_rotated(path: Path, orientation: int) -> np.ndarray:
    """A 3x2 picture with distinct pixels saved with an EXIF Orientation tag; returns it."""
    pixels = (np.arange(3 * 2 * 3, dtype=np.uint8).reshape(2, 3, 3) * 14)
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(pixels).save(path, exif=exif.tobytes())
    return pixels


def test_exif_orientation_is_followed_by_default(tmp_path):
    path = tmp_path / "phone.png"
    stored = _exif_rotated(path, 6)  # 6: the stored picture must be turned 90 degrees clockwise
    upright = np.asarray(images.load_image(path))
    np.testing.assert_array_equal(upright, np.rot90(stored, k=-1))
    raw = np.asarray(images.load_image(path, exif_orientation=False))
    np.testing.assert_array_equal(raw, stored)


def test_exif_orientation_config_key_reaches_quantize_image(tmp_path):
    """The workflow passes config 'exif_orientation' to the stage (schema default: true)."""
    from ivit_gemmini.config import load_schema

    repo = Path(__file__).resolve().parents[1]
    schema = load_schema(repo / "workflow/schemas/config.schema.yaml")
    assert schema["properties"]["exif_orientation"]["default"] is True
    rules = (repo / "workflow/rules").glob("*.smk")
    assert any('exif_orientation=config["exif_orientation"]' in p.read_text() for p in rules)
