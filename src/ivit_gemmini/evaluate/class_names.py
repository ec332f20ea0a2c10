"""Human-readable class names for the prediction tables."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ivit_gemmini.errors import UserError

IMAGENET_CLASSES = 1000


def resolve_class_names(spec: str | Sequence[str] | None, num_classes: int) -> list[str]:
    """Names for `num_classes` classes from the config's `class_names`.

    None: ImageNet names (timm's ImageNetInfo) for a 1000-class model, else "class N".
    A list: the names themselves. A string: a text file with one name per line.
    """
    if spec is None:
        if num_classes == IMAGENET_CLASSES:
            from timm.data import ImageNetInfo

            info = ImageNetInfo()
            return [info.index_to_description(i) for i in range(num_classes)]
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
