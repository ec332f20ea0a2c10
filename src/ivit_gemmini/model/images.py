"""Input images: finding them, loading them safely, DeiT preprocessing, int8 input files.

An image id is the sanitised file stem; it names every per-image file downstream
(`results/inputs/{image}.bin`, `results/logits/{backend}/{image}.npy`). torch/timm are imported
inside the functions that need them so that Snakemake can import this module cheaply at parse
time to learn the image ids.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ivit_gemmini.errors import UserError
from ivit_gemmini.io import atomic_path

if TYPE_CHECKING:
    import torch

# scikit-image's CC0 sample photographs (shipped with the package, never downloaded).
DEMO_IMAGES: tuple[str, ...] = ("chelsea", "coffee", "astronaut", "rocket")
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif"})
# DeiT's evaluation transform: resize the shorter side to image_size / 0.875, then centre-crop.
DEIT_CROP_PCT = 0.875
ID_PATTERN = r"[A-Za-z0-9_]+"
# ImageNet normalization (timm's IMAGENET_DEFAULT_MEAN / IMAGENET_DEFAULT_STD).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def sanitise_id(stem: str) -> str:
    """A file stem as an image id: letters, digits and underscores only."""
    clean = re.sub(r"[^A-Za-z0-9_]+", "_", stem).strip("_")
    return clean or "image"


def assign_ids(paths: Iterable[Path]) -> dict[str, Path]:
    """Map unique image ids to paths, in order; a repeated stem gets `_2`, `_3`, ..."""
    ids: dict[str, Path] = {}
    for path in paths:
        base = sanitise_id(path.stem)
        image_id, n = base, 1
        while image_id in ids:
            n += 1
            image_id = f"{base}_{n}"
        ids[image_id] = path
    return ids


def find_images(spec: str | Sequence[str], base_dir: Path = Path(".")) -> dict[str, Path]:
    """Resolve the config's `images` (a folder, one file or a list of files) to {id: path}.

    Relative paths are taken from `base_dir`. Raises UserError for anything missing.
    """
    entries = [spec] if isinstance(spec, str) else list(spec)
    if not entries:
        raise UserError("config 'images' is an empty list: give image files, a folder or 'demo'")
    paths: list[Path] = []
    for entry in entries:
        path = Path(entry).expanduser()
        path = path if path.is_absolute() else base_dir / path
        if path.is_dir():
            # Hidden files are skipped: macOS leaves `._name.jpg` metadata beside copied files.
            found = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(
                ".") and p.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise UserError(f"image folder {path} holds no .jpg/.png/... files: add images "
                                "or point config 'images' elsewhere")
            paths.extend(found)
        elif path.is_file():
            paths.append(path)
        else:
            raise UserError(f"image not found: {path} (fix config 'images')")
    return assign_ids(paths)


def load_image(path: str | Path, *, exif_orientation: bool = True) -> Image.Image:
    """Open and fully decode an image as 8-bit RGB, as a viewer shows it; one-line UserError if
    it is missing, broken or has no defined brightness range.

    `exif_orientation` turns the picture upright as its EXIF Orientation tag says (what a person
    sees); False keeps the stored pixel order, as torchvision's ImageFolder loader does.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"image not found: {path} (fix config 'images')")
    try:
        with Image.open(path) as img:
            img.load()  # decode now: a truncated file fails here, not later
            if exif_orientation:
                img = ImageOps.exif_transpose(img)
            return _to_rgb8(img, path)
    except UnidentifiedImageError:
        raise UserError(f"not an image file: {path} (use JPEG or PNG)") from None
    except Image.DecompressionBombError:
        raise UserError(f"image {path} has too many pixels to be a photograph: shrink it") from None
    except (OSError, SyntaxError, ValueError) as err:
        raise UserError(f"image {path} is truncated or corrupt ({err}): replace the file") from None


def _to_rgb8(img: Image.Image, path: Path) -> Image.Image:
    """8-bit RGB. Pillow's convert("RGB") clips 16/32-bit and float pixels to 0..255 (a
    16-bit photograph turns white), so those are scaled here as image viewers do: 16-bit by
    255/65535, float by 255 when it lies in [0, 1] (the float image convention); 32-bit
    integers have no standard range and are refused."""
    if img.mode.startswith("I;16"):
        # Pillow's 16-bit modes are unsigned whatever the byte order.
        raw = np.asarray(img).astype(np.float64)
        return Image.fromarray(np.rint(raw * (255 / 65535)).astype(np.uint8), "L").convert("RGB")
    if img.mode == "F":
        raw = np.asarray(img, dtype=np.float64)
        if not np.isfinite(raw).all() or raw.min() < 0.0 or raw.max() > 1.0:
            raise UserError(f"image {path} is a floating-point picture with values outside "
                            "[0, 1] (no standard brightness range): save it as an 8- or 16-bit "
                            "image")
        return Image.fromarray(np.rint(raw * 255).astype(np.uint8), "L").convert("RGB")
    if img.mode == "I":
        raise UserError(f"image {path} has 32-bit integer pixels (no standard brightness range, "
                        "a viewer would guess one): save it as an 8- or 16-bit image")
    try:
        return img.convert("RGB")
    except ValueError:  # e.g. LAB or HSV: Pillow has no conversion to RGB
        raise UserError(f"image {path} is in Pillow mode {img.mode}, which cannot be turned "
                        "into RGB: save it as an RGB or grayscale JPEG/PNG") from None


def preprocess(img: Image.Image, image_size: int) -> torch.Tensor:
    """DeiT evaluation preprocessing -> float tensor (3, image_size, image_size).

    The transform timm's `create_transform(is_training=False, crop_pct=0.875,
    interpolation="bicubic")` builds, from torchvision directly (importing timm costs seconds
    in every job): resize the shorter side to floor(image_size / 0.875) (bicubic, antialiased),
    centre crop, scale to [0, 1], normalize with ImageNet mean/std. A test checks it equals timm's.
    """
    from torchvision import transforms as T

    transform = T.Compose([
        T.Resize(math.floor(image_size / DEIT_CROP_PCT), interpolation=T.InterpolationMode.BICUBIC),
        T.CenterCrop(image_size),
        T.ToTensor(),
        T.Normalize(IMAGENET_MEAN, IMAGENET_STD),
    ])
    return transform(img)


def load_preprocessed(paths: Sequence[Path], image_size: int) -> torch.Tensor:
    """Load and preprocess several images into one batch (B, 3, image_size, image_size)."""
    import torch

    return torch.stack([preprocess(load_image(p), image_size) for p in paths])


def export_demo_images(out_dir: str | Path) -> list[Path]:
    """Write scikit-image's demo photographs as `out_dir/{id}.png`; return the paths."""
    from skimage import data

    out = Path(out_dir)
    written = []
    for name in DEMO_IMAGES:
        pixels = np.asarray(getattr(data, name)(), dtype=np.uint8)
        path = out / f"{name}.png"
        with atomic_path(path) as tmp:
            Image.fromarray(pixels).convert("RGB").save(tmp, format="PNG")
        written.append(path)
    return written


def write_input(path: str | Path, image_int8: np.ndarray) -> None:
    """Write an int8 (C, H, W) array as raw bytes in C order (the ELF takes the same bytes)."""
    arr = np.ascontiguousarray(image_int8)
    if arr.dtype != np.int8 or arr.ndim != 3:
        raise ValueError(f"expected an int8 (C, H, W) array, got {arr.dtype} {arr.shape}")
    with atomic_path(path) as tmp:
        tmp.write_bytes(arr.tobytes(order="C"))


def read_input(path: str | Path, in_chans: int, image_size: int) -> np.ndarray:
    """Read `results/inputs/{image}.bin` back as int8 (in_chans, image_size, image_size)."""
    path = Path(path)
    raw = path.read_bytes()
    want = in_chans * image_size * image_size
    if len(raw) != want:
        raise UserError(f"input file {path} has {len(raw)} bytes, expected {want} for a "
                        f"{in_chans}x{image_size}x{image_size} image: delete it and rerun")
    return np.frombuffer(raw, dtype=np.int8).reshape(in_chans, image_size, image_size).copy()


def resize_shorter(img: Image.Image, size: int) -> Image.Image:
    """torchvision's `Resize(size)` on a PIL image: the shorter side becomes `size`, the longer
    int(size * long / short), bicubic (PIL's, which is antialiased); unchanged if already so."""
    w, h = img.size
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    if (new_w, new_h) == (w, h):
        return img
    return img.resize((new_w, new_h), Image.Resampling.BICUBIC)


def center_crop(img: Image.Image, size: int) -> Image.Image:
    """torchvision's `CenterCrop(size)` on a PIL image no smaller than `size` (after Resize)."""
    w, h = img.size
    if w < size or h < size:
        raise UserError(f"image of {w}x{h} px is smaller than the {size} px crop after resizing")
    top, left = int(round((h - size) / 2.0)), int(round((w - size) / 2.0))
    return img.crop((left, top, left + size, top + size))


def preprocess_array(img: Image.Image, image_size: int) -> np.ndarray:
    """`preprocess` with Pillow and numpy only (no torch import): float32 (3, S, S), the same
    float32 operations in the same order (x / 255, then (x - mean) / std), so bit-identical
    (tests/test_images_load.py compares the two on the demo photographs)."""
    img = center_crop(resize_shorter(img, math.floor(image_size / DEIT_CROP_PCT)), image_size)
    x = np.asarray(img, dtype=np.uint8).transpose(2, 0, 1).astype(np.float32) / np.float32(255)
    mean = np.asarray(IMAGENET_MEAN, dtype=np.float32).reshape(3, 1, 1)
    std = np.asarray(IMAGENET_STD, dtype=np.float32).reshape(3, 1, 1)
    return (x - mean) / std


def quantize_array(x_float: np.ndarray, scale: float) -> np.ndarray:
    """int8 codes as I-ViT's `qact_input` (`model.fakequant.quantize_input`) makes them, in
    numpy: round-half-to-even of float32(1 / s) * x in float32, clamped to [-128, 127]."""
    recip = np.float32(1.0) / np.float32(scale)
    q = np.rint(recip * np.asarray(x_float, dtype=np.float32))
    return np.clip(q, -128, 127).astype(np.int8)


def input_scale_and_arch(manifest: str | Path) -> tuple[float, dict]:
    """The input scale and architecture of a params manifest (JSON only: no torch)."""
    import json

    try:
        info = json.loads(Path(manifest).read_text(encoding="utf-8"))
        return float(info["input_scale"]), dict(info["arch"])
    except (OSError, ValueError, KeyError) as err:
        raise UserError(f"cannot read the input scale from {manifest} ({err}): re-export the "
                        "params") from None


def quantize_image_file(image_path: str | Path, input_scale: float, arch: dict,
                        out: str | Path, exif_orientation: bool = True) -> None:
    """Image file -> DeiT preprocessing -> int8 at the input scale -> `out` (no torch)."""
    if int(arch["in_chans"]) != 3:
        raise UserError(f"the checkpoint expects {arch['in_chans']} input channels; images are RGB")
    size = int(arch["image_size"])
    img = load_image(image_path, exif_orientation=exif_orientation)
    q = quantize_array(preprocess_array(img, size), input_scale)
    write_input(out, q.reshape(3, size, size))


def quantize_image(image_path: str | Path, params_npz: str | Path, manifest: str | Path,
                   out: str | Path, exif_orientation: bool = True) -> None:
    """Image file -> preprocessed -> int8 at the input scale (the manifest's; `params_npz`
    is accepted for the callers that pass it)."""
    scale, arch = input_scale_and_arch(manifest)
    quantize_image_file(image_path, scale, arch, out, exif_orientation=exif_orientation)
