"""Logit files: `results/logits/{backend}/[{config}/]{image}.npy`, int64, at the logit scale."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ivit_gemmini.errors import UserError
from ivit_gemmini.io import atomic_path


def float_to_int_logits(logits: np.ndarray, logit_scale: float) -> np.ndarray:
    """Fake-quant float logits -> integers at the common scale, rounding half to even."""
    x = np.asarray(logits, dtype=np.float64).reshape(-1)
    if not (np.isfinite(logit_scale) and logit_scale > 0):
        raise UserError(f"logit scale {logit_scale!r} is not a positive finite number: "
                        "re-export the params")
    if not np.all(np.isfinite(x)):
        raise UserError("the fake-quant model produced non-finite logits: check the checkpoint")
    return np.rint(x / logit_scale).astype(np.int64)  # np.rint rounds half to even


def save_logits(path: str | Path, logits: np.ndarray) -> None:
    """Save a 1-D int64 logit vector atomically."""
    arr = np.asarray(logits)
    if arr.ndim != 1 or arr.dtype != np.int64:
        raise ValueError(f"logits must be a 1-D int64 vector, got {arr.dtype} {arr.shape}")
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.save(fh, arr, allow_pickle=False)


def load_logits(path: str | Path, num_classes: int | None = None) -> np.ndarray:
    """Load a logit file and check it is a 1-D int64 vector of `num_classes` entries."""
    path = Path(path)
    try:
        arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise UserError(f"cannot read logits {path} ({err}): delete it and rerun") from None
    if arr.ndim != 1 or arr.dtype != np.int64:
        raise UserError(f"logits {path} are {arr.dtype} {arr.shape}, expected a 1-D int64 vector")
    if num_classes is not None and arr.shape[0] != num_classes:
        raise UserError(f"logits {path} have {arr.shape[0]} classes, the model has {num_classes}")
    return arr


def backend_and_image(path: str | Path) -> tuple[str, str]:
    """(backend, image id) of `.../logits/{backend}/[{config}/]{image}.npy` (the folder after
    `logits`; a simulator's logits sit one level deeper, under the Gemmini configuration)."""
    p = Path(path)
    parts = p.parts
    if "logits" in parts[:-1]:
        return parts[len(parts) - 1 - parts[::-1].index("logits") + 1], p.stem
    return p.parent.name, p.stem


def load_logit_set(paths: list[str | Path], num_classes: int | None = None
                   ) -> dict[str, dict[str, np.ndarray]]:
    """{backend: {image: logits}} from a list of logit paths (order does not matter)."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for path in paths:
        backend, image = backend_and_image(path)
        out.setdefault(backend, {})[image] = load_logits(path, num_classes)
    return out
