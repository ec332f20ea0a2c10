"""The config's `dataset:` section: which images a run evaluates, and their labels.

Two sources, both turned into the same per-image files as any other images (so every backend
runs them through the same rules):
- `digits`: scikit-learn's digits (`paper/digits.py`), the test split or all 1,797 (`split`);
  quantized by `quantize_images` like any image; the model is the QAT checkpoint trained by the
  workflow.
- `folder`: your images in ImageNet's validation layout, one sub-folder per class named by its
  synset (`n01440764`) or its class index (`0`..`999`), images at any depth inside it (as
  torchvision's ImageFolder); or a folder plus a labels file with one `<file name> <label>`
  per line (label: index or synset; file name with or without extension; space, tab or comma).
  Hidden files (macOS `._*`) are skipped. These go through the ordinary `quantize_image`.

Image ids are computed without reading any image (Snakemake needs them at parse time); labels
are checked at start-up (against the checkpoint's class count when it can be read without
torch, see model/checkpoint_peek.py) and written by the `write_labels` rule.
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ivit_gemmini.errors import UserError
from ivit_gemmini.io import atomic_write_text
from ivit_gemmini.model.images import IMAGE_SUFFIXES, assign_ids
from ivit_gemmini.paper.digits import SPLITS, split_ids

DIGITS = "digits"
FOLDER = "folder"
DIGITS_SOURCE = "sklearn.datasets.load_digits"  # the "source file" of a digits image id
SYNSET = re.compile(r"^n\d{8}$")
IMAGENET_CLASSES = 1000


def dataset_source(dataset: Mapping[str, Any] | None) -> str | None:
    return None if not dataset else dataset.get("source")


def dataset_images(dataset: Mapping[str, Any] | None) -> dict[str, str] | None:
    """{image id: source} of the configured data set, or None when there is none."""
    source = dataset_source(dataset)
    if source is None:
        return None
    assert dataset is not None
    count = dataset.get("num_samples")
    if source == DIGITS:
        split = str(dataset.get("split", "test"))
        if split not in SPLITS:
            raise UserError(f"config 'dataset.split' is {split!r}: use 'test' or 'all'")
        if count is not None and count > SPLITS[split]:
            raise UserError(f"config 'dataset.num_samples' is {count} but the digits {split} "
                            f"set has {SPLITS[split]} images: use at most {SPLITS[split]} or "
                            "null")
        return {image: DIGITS_SOURCE for image in split_ids(split, count)}
    if source == FOLDER:
        files = folder_files(dataset.get("folder"), dataset.get("labels"))
        chosen = subsample(files, count, int(dataset.get("seed", 0)))
        return {image: str(path) for image, path in assign_ids(chosen).items()}
    raise UserError(f"config 'dataset.source' is {source!r}: use 'digits', 'folder' or null")


def image_sources(images: Mapping[str, str], dataset: Mapping[str, Any] | None,
                  base: Path | None = None) -> dict[str, str]:
    """{image id: its source} for the tables: the file relative to the data set's folder
    (`n01440764/x.JPEG`), else relative to `base` (the working folder) when below it, else the
    path as configured; digits images name scikit-learn's loader."""
    base = (base or Path.cwd()).resolve()
    source = dataset_source(dataset)
    root = Path(str(dataset.get("folder"))).expanduser().resolve() if (
        dataset is not None and source == FOLDER and dataset.get("folder")) else None
    out = {}
    for image, path in images.items():
        if source == DIGITS or path == DIGITS_SOURCE:
            out[image] = DIGITS_SOURCE
            continue
        full = Path(path).expanduser()
        full = full if full.is_absolute() else base / full
        for folder in (root, base):
            if folder is not None and full.is_relative_to(folder):
                out[image] = full.relative_to(folder).as_posix()
                break
        else:
            out[image] = str(path)
    return out


def _is_image(path: Path) -> bool:
    # Hidden files are skipped: macOS writes `._name.JPEG` metadata beside every copied file.
    return (path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES
            and not path.name.startswith("."))


def _missing(what: str, path: Path, key: str) -> UserError:
    return UserError(f"{what} {path} does not exist (looked for {path.resolve()}; fix config "
                     f"'{key}', relative paths are taken from where you run the command)")


def folder_files(folder: str | None, labels: str | None) -> list[Path]:
    """Every image below `folder`: in class folders (at any depth inside a class folder, as
    torchvision's ImageFolder), or anywhere below it with a labels file."""
    if not folder:
        raise UserError("config 'dataset.source' is 'folder' but 'dataset.folder' is not set: "
                        "give the folder of your validation images")
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise _missing("dataset folder", root, "dataset.folder")
    found = root.rglob("*") if labels else (p for d in sorted(root.iterdir())
                                            if d.is_dir() and not d.name.startswith(".")
                                            for p in d.rglob("*"))
    files = sorted(p for p in found if _is_image(p)
                   and not any(part.startswith(".") for part in p.relative_to(root).parts))
    if not files:
        layout = "files" if labels else "class folders (e.g. n01440764/*.JPEG)"
        raise UserError(f"dataset folder {root} holds no images in {layout}: check "
                        "'dataset.folder' and 'dataset.labels'")
    return files


def subsample(files: Sequence[Path], count: int | None, seed: int) -> list[Path]:
    """`count` files drawn with a seeded shuffle (classes mixed), kept in sorted order."""
    if count is None or count >= len(files):
        return list(files)
    picked = set(random.Random(seed).sample(range(len(files)), count))
    return [f for i, f in enumerate(files) if i in picked]


@functools.cache
def synset_indices() -> dict[str, int]:
    """ImageNet synset -> class index, built once (timm's ImageNetInfo cost ~0.1 s per label),
    from timm's list without importing timm (torch): Snakemake checks labels at start-up."""
    from ivit_gemmini.evaluate.class_names import imagenet_synsets

    return {name: i for i, name in enumerate(imagenet_synsets())}


def class_index(name: str, where: str) -> int:
    """A class given as an index (`282`) or an ImageNet synset (`n02123159`)."""
    if name.isdigit():
        return int(name)
    if SYNSET.match(name) and name in synset_indices():
        return synset_indices()[name]
    raise UserError(f"{where}: class {name!r} is neither a class index nor an ImageNet synset")


def _split_label_line(line: str) -> tuple[str, str]:
    """(file, label) of `<file> <label>`: comma or tab separated (the label is the first word
    after it, as in ImageNet's LOC_val_solution.csv `id,n01751748 x y w h ...`), else the
    label is the last word, so file names may contain spaces."""
    for sep in (",", "\t"):
        if sep in line:
            name, rest = line.split(sep, 1)
            words = rest.replace(",", " ").split()
            return name.strip(), words[0] if words else ""
    parts = line.rsplit(None, 1)
    return (parts[0], parts[1]) if len(parts) == 2 else (line, "")


def read_labels_file(path: str | Path) -> dict[str, int]:
    """{file name or stem: class index} from `<file name> <label>` lines (blank and # lines
    skipped, a UTF-8 byte-order mark and a header line ignored). Conflicting lines for one
    file are refused naming both."""
    path = Path(path)
    if not path.is_file():
        raise _missing("labels file", path, "dataset.labels")
    out: dict[str, int] = {}
    first_line: dict[str, int] = {}
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    data = [(n, ln.strip()) for n, ln in enumerate(lines, start=1)
            if ln.strip() and not ln.strip().startswith("#")]
    for i, (n, line) in enumerate(data):
        name, label = _split_label_line(line)
        if not name or not label:
            raise UserError(f"{path} line {n}: expected '<file name> <label>', got {line!r}")
        if i == 0 and not label.isdigit() and not SYNSET.match(label):
            continue  # a header such as `ImageId,PredictionString`
        index = class_index(label, f"{path} line {n}")
        if name in out and out[name] != index:
            raise UserError(f"{path} lines {first_line[name]} and {n} give {name} two labels "
                            f"({out[name]} and {index}): keep one")
        out[name] = index
        first_line.setdefault(name, n)
    return out


def _class_folder(path: Path, root: Path | None) -> str:
    return path.relative_to(root).parts[0] if root is not None else path.parent.name


def folder_labels(images: Mapping[str, str], labels: str | None,
                  root: str | Path | None = None) -> dict[str, int]:
    """Labels of folder images: from the labels file (by file name, else by stem), else from
    each image's class folder (the first folder below `root`)."""
    table = read_labels_file(labels) if labels else None
    top = Path(root).expanduser() if root else None
    out = {}
    for image, source in images.items():
        path = Path(source)
        if table is None:
            out[image] = class_index(_class_folder(path, top), f"image {path}")
        elif path.name in table or path.stem in table:
            out[image] = table.get(path.name, table.get(path.stem, 0))
        else:
            raise UserError(f"image {path.name} has no line in the labels file {labels}: add "
                            "one or remove the image")
    return out


def uses_synsets(images: Mapping[str, str], labels: str | None,
                 root: str | Path | None = None) -> bool:
    """Whether the folder's classes are given as ImageNet synsets (so 1000 classes)."""
    if labels:
        lines = Path(labels).read_text(encoding="utf-8-sig").splitlines()
        return any(SYNSET.match(_split_label_line(ln.strip())[1] or "") for ln in lines
                   if ln.strip() and not ln.strip().startswith("#"))
    top = Path(root).expanduser() if root else None
    return any(SYNSET.match(_class_folder(Path(p), top)) for p in images.values())


def check_folder_labels(dataset: Mapping[str, Any], images: Mapping[str, str],
                        num_classes: int | None) -> dict[str, int]:
    """The labels of a folder data set, checked at start-up against the checkpoint's class
    count (None: not known yet, checked again by write_labels); one-line UserError."""
    labels = folder_labels(images, dataset.get("labels"), dataset.get("folder"))
    if num_classes is None:
        return labels
    if num_classes != IMAGENET_CLASSES and uses_synsets(images, dataset.get("labels"),
                                                        dataset.get("folder")):
        raise UserError(f"the data set's classes are ImageNet synsets (1000 classes) but the "
                        f"checkpoint has {num_classes} classes: use a checkpoint trained on "
                        "ImageNet, or label the images with the checkpoint's class indices")
    _check_range(labels, num_classes)
    return labels


def _check_range(labels: Mapping[str, int], num_classes: int) -> None:
    bad = {k: v for k, v in labels.items() if not 0 <= v < num_classes}
    if bad:
        image, label = next(iter(bad.items()))
        raise UserError(f"{len(bad)} labels are outside the model's {num_classes} classes "
                        f"(e.g. {image}: {label}): check the data set or the checkpoint")


def digits_labels(images: Sequence[str]) -> dict[str, int]:
    from ivit_gemmini.paper.digits import images_by_id

    by_id = images_by_id()
    missing = [image for image in images if image not in by_id]
    if missing:
        raise UserError(f"{missing[0]} is not a digits image id (digits_test_0001..0360 or "
                        "digits_0001..1797)")
    return {image: by_id[image][1] for image in images}


def labels_csv(labels: Mapping[str, int]) -> str:
    return "image,label\n" + "".join(f"{k},{v}\n" for k, v in labels.items())


def read_labels_csv(path: str | Path) -> dict[str, int]:
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    if not lines or lines[0] != "image,label":
        raise UserError(f"{path} is not a labels table (image,label): rerun write_labels")
    return {image: int(label) for image, label in (ln.split(",") for ln in lines[1:] if ln)}


def write_labels(dataset: Mapping[str, Any], images: Mapping[str, str], out: str | Path,
                 num_classes: int | None = None) -> None:
    """The `write_labels` rule: results/paper/labels.csv for the configured data set."""
    source = dataset_source(dataset)
    if source == DIGITS:
        labels = digits_labels(list(images))
    elif source == FOLDER:
        labels = check_folder_labels(dataset, images, num_classes)
    else:
        raise UserError("write_labels needs config 'dataset.source' ('digits' or 'folder')")
    if num_classes is not None:
        _check_range(labels, num_classes)
    atomic_write_text(out, labels_csv(labels))


def write_labels_stage(dataset: Mapping[str, Any], images: Mapping[str, str],
                       manifest: str | Path, out: str | Path) -> None:
    """The `write_labels` rule: labels checked against the model's class count."""
    import json

    info = json.loads(Path(manifest).read_text(encoding="utf-8"))
    write_labels(dataset, images, out, int(info["arch"]["num_classes"]))
