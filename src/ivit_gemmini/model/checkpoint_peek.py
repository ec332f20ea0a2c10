"""The class count of a checkpoint without importing torch, for checks at Snakemake's start-up.

A torch zip checkpoint keeps its structure in `<name>/data.pkl` and the tensor bytes beside it.
Reading that pickle with an unpickler that knows only the tensor rebuilders (and builds tuples
of shapes, never tensors) gives every tensor's shape in milliseconds; no code from the file runs.
Anything unexpected gives None, and the full loader (model/checkpoint.py) judges the file later.
"""

from __future__ import annotations

import collections
import pickle
import zipfile
from pathlib import Path
from typing import Any

HEAD_KEYS = ("head.weight_integer", "head.bias_integer", "head.weight", "head.bias")


class _Shape(tuple):  # type: ignore[type-arg]
    """Stands for a tensor: its size."""


def _rebuild_tensor(storage: Any, offset: Any, size: Any, *rest: Any) -> _Shape:
    return _Shape(size)


def _first(data: Any, *rest: Any) -> Any:  # _rebuild_parameter(data, requires_grad, hooks)
    return data


class _ShapeUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if (module, name) in (("torch._utils", "_rebuild_parameter"),
                              ("torch._utils", "_rebuild_parameter_with_state")):
            return _first
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if module == "torch" and name.endswith("Storage") or (module, name) == (
                "torch", "device") or module == "torch" and name in ("float32", "int32", "int64",
                                                                     "int8", "float64"):
            return name
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a plain state_dict")

    def persistent_load(self, pid: Any) -> None:
        return None


def checkpoint_num_classes(path: str | Path) -> int | None:
    """Rows of the classifier head of the state_dict in `path`, or None if unknown."""
    try:
        with zipfile.ZipFile(path) as zf:
            name = next((n for n in zf.namelist() if n.endswith("/data.pkl")), None)
            if name is None:
                return None
            with zf.open(name) as fh:
                obj = _ShapeUnpickler(fh).load()
    except (OSError, zipfile.BadZipFile, pickle.UnpicklingError, EOFError, AttributeError,
            TypeError, ValueError, IndexError, KeyError):
        return None
    for _ in range(3):  # {"model": ...} / {"state_dict": ...} wrappers, as load_checkpoint
        if isinstance(obj, dict) and not any(isinstance(v, _Shape) for v in obj.values()):
            obj = next((obj[k] for k in ("model", "state_dict") if k in obj), obj)
    if not isinstance(obj, dict):
        return None
    for key in HEAD_KEYS:
        for prefix in ("", "module."):
            shape = obj.get(prefix + key)
            if isinstance(shape, _Shape) and len(shape) >= 1:
                return int(shape[0])
    return None
