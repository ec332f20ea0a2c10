"""Human-readable class names for the prediction tables, and ImageNet's class list.

ImageNet's synsets and names are read from the text files timm ships (the ones its
`ImageNetInfo` reads) without importing timm: timm imports torch, 3-4 s that `ivit-infer` and
the table rules would otherwise spend to print a name.
"""

from __future__ import annotations

import csv
import functools
import importlib.util
from collections.abc import Sequence
from pathlib import Path

from ivit_gemmini.errors import UserError

IMAGENET_CLASSES = 1000


def timm_info_file(name: str) -> Path:
    """A file of timm's `data/_info/` folder, found without importing timm."""
    spec = importlib.util.find_spec("timm")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("timm is not installed: run `make setup`")
    return Path(spec.submodule_search_locations[0]) / "data" / "_info" / name


@functools.cache
def imagenet_synsets() -> list[str]:
    """ImageNet-1k's 1,000 WordNet synsets in class-index order (`n01440764` is class 0)."""
    return timm_info_file("imagenet_synsets.txt").read_text(encoding="utf-8").split()


@functools.cache
def imagenet_class_names() -> list[str]:
    """ImageNet-1k's class names as timm's `ImageNetInfo().index_to_description(i)` gives them
    (`tiger cat` for class 282)."""
    lines = timm_info_file("imagenet_synset_to_lemma.txt").read_text(encoding="utf-8")
    lemmas = dict(csv.reader(lines.splitlines(), delimiter="\t"))
    return [lemmas[synset] for synset in imagenet_synsets()]


def resolve_class_names(spec: str | Sequence[str] | None, num_classes: int) -> list[str]:
    """Names for `num_classes` classes from the config's `class_names`.

    None: ImageNet names (as timm's ImageNetInfo) for a 1000-class model, else "class N".
    A list: the names themselves. A string: a text file with one name per line.
    """
    if spec is None:
        if num_classes == IMAGENET_CLASSES:
            return imagenet_class_names()
        return [f"class {i}" for i in range(num_classes)]
    if isinstance(spec, str):
        path = Path(spec)
        if not path.is_file():
            raise UserError(f"class name file {path} not found (fix config 'class_names')")
        names = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        names = [n for n in names if n]
    else:
        names = [str(n) for n in spec]
    if len(names) != num_classes:
        raise UserError(f"config 'class_names' has {len(names)} names but the model has "
                        f"{num_classes} classes: give exactly one name per class")
    return names
