"""The config's `dataset:` section: which images a run evaluates, and their labels.

Two sources, both turned into the same per-image files as any other images (so every backend
runs them through the same rules):
- `digits`: the test split of scikit-learn's digits (`paper/digits.py`); its int8 inputs are
  written by `prepare_digits_inputs`, the model is the QAT checkpoint trained by the workflow.
- `folder`: your images in ImageNet's validation layout, one sub-folder per class named by its
  synset (`n01440764`) or its class index (`0`..`999`); or a flat folder plus a labels file
  with one `<file name> <label>` per line (label: index or synset; space, tab or comma).
  These go through the ordinary `quantize_image` (DeiT preprocessing).

Image ids are computed without reading any image (Snakemake needs them at parse time); labels
are read by the `write_labels` rule.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ivit_gemmini.errors import UserError
from ivit_gemmini.io import atomic_write_text
from ivit_gemmini.model.images import IMAGE_SUFFIXES, assign_ids
from ivit_gemmini.paper.digits import TEST_SIZE, test_ids

DIGITS = "digits"
FOLDER = "folder"
DIGITS_SOURCE = "sklearn.datasets.load_digits"  # the "source file" of a digits image id
SYNSET = re.compile(r"^n\d{8}$")


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
        if count is not None and count > TEST_SIZE:
            raise UserError(f"config 'dataset.num_samples' is {count} but the digits test set "
                            f"has {TEST_SIZE} images: use at most {TEST_SIZE} or null")
        return {image: DIGITS_SOURCE for image in test_ids(count or TEST_SIZE)}
    if source == FOLDER:
        files = folder_files(dataset.get("folder"), dataset.get("labels"))
        chosen = subsample(files, count, int(dataset.get("seed", 0)))
        return {image: str(path) for image, path in assign_ids(chosen).items()}
    raise UserError(f"config 'dataset.source' is {source!r}: use 'digits', 'folder' or null")


def folder_files(folder: str | None, labels: str | None) -> list[Path]:
    """Every image below `folder` (one level of class folders, or flat with a labels file)."""
    if not folder:
        raise UserError("config 'dataset.source' is 'folder' but 'dataset.folder' is not set: "
                        "give the folder of your validation images")
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise UserError(f"dataset folder {root} does not exist (fix config 'dataset.folder')")
    pattern = "*" if labels else "*/*"
    files = sorted(p for p in root.glob(pattern)
                   if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
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


def class_index(name: str, where: str) -> int:
    """A class given as an index (`282`) or an ImageNet synset (`n02123159`)."""
    if name.isdigit():
        return int(name)
    if SYNSET.match(name):
        from timm.data import ImageNetInfo

        synsets = ImageNetInfo().label_names()
        if name in synsets:
            return synsets.index(name)
    raise UserError(f"{where}: class {name!r} is neither a class index nor an ImageNet synset")


def read_labels_file(path: str | Path) -> dict[str, int]:
    """{file name: class index} from `<file name> <label>` lines (blank and # lines skipped)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"labels file {path} not found (fix config 'dataset.labels')")
    out: dict[str, int] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = re.split(r"[\s,]+", line)
        if len(parts) != 2:
            raise UserError(f"{path} line {n}: expected '<file name> <label>', got {line!r}")
        out[parts[0]] = class_index(parts[1], f"{path} line {n}")
    return out


def folder_labels(images: Mapping[str, str], labels: str | None) -> dict[str, int]:
    """Labels of folder images: from the labels file, else from each image's class folder."""
    table = read_labels_file(labels) if labels else None
    out = {}
    for image, source in images.items():
        path = Path(source)
        if table is None:
            out[image] = class_index(path.parent.name, f"image {path}")
        elif path.name in table:
            out[image] = table[path.name]
        else:
            raise UserError(f"image {path.name} has no line in the labels file {labels}: add "
                            "one or remove the image")
    return out


def digits_labels(images: Sequence[str]) -> dict[str, int]:
    from ivit_gemmini.paper.digits import load_split

    split = load_split()
    by_id = dict(zip(test_ids(len(split.test_y)), split.test_y.tolist(), strict=True))
    return {image: int(by_id[image]) for image in images}


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
        labels = folder_labels(images, dataset.get("labels"))
    else:
        raise UserError("write_labels needs config 'dataset.source' ('digits' or 'folder')")
    if num_classes is not None:
        bad = {k: v for k, v in labels.items() if not 0 <= v < num_classes}
        if bad:
            image, label = next(iter(bad.items()))
            raise UserError(f"{len(bad)} labels are outside the model's {num_classes} classes "
                            f"(e.g. {image}: {label}): check the data set or the checkpoint")
    atomic_write_text(out, labels_csv(labels))


def write_labels_stage(dataset: Mapping[str, Any], images: Mapping[str, str],
                       manifest: str | Path, out: str | Path) -> None:
    """The `write_labels` rule: labels checked against the model's class count."""
    import json

    info = json.loads(Path(manifest).read_text(encoding="utf-8"))
    write_labels(dataset, images, out, int(info["arch"]["num_classes"]))
