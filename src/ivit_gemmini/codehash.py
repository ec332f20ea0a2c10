"""A hash of the package code each stage runs, for the rules' `params:` (issue 14.4).

The rules call thin script shims, so Snakemake's `code` trigger sees only the shim, never the
package it imports. Every stage rule therefore carries `code=stage_code("<stage>")` as a param:
editing a module a stage uses changes the value, and Snakemake's params trigger reruns the stage
(and the per-image results of a shard stage, whose keys include the same hash).
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
SUFFIXES = (".py", ".c", ".h", ".in", ".S")
# Modules (files or folders, relative to the package) whose code decides each stage's output.
STAGE_MODULES: dict[str, tuple[str, ...]] = {
    "export_params": ("model", "spec", "io.py"),
    "quantize": ("model/images.py", "paper/digits.py", "shards/stages.py"),
    "torch-int": ("spec", "model/params.py", "model/architecture.py", "model/quant_functions.py",
                  "model/images.py", "evaluate/logits.py", "shards/stages.py"),
    "torch-fakequant": ("model", "evaluate/logits.py", "shards/stages.py"),
    "tvm-cpu-library": ("compile", "model/params.py", "model/architecture.py"),
    "tvm-cpu": ("compile/tvm_adapter.py", "model/images.py", "evaluate/logits.py",
                "shards/stages.py"),
    "relax_graph": ("compile", "model/params.py"),
    "model_library": ("compile", "gemmini", "firmware", "model/params.py"),
    "spike_extension": ("simulate/spike.py", "simulate/spike_stage.py"),
    "spike": ("simulate", "firmware", "evaluate/logits.py", "shards/stages.py"),
    "verilator": ("simulate", "firmware", "evaluate/logits.py", "shards/stages.py"),
    "tables": ("evaluate", "shards/collect.py"),
    "paper": ("paper", "evaluate"),
}


def _files(entry: str) -> list[Path]:
    path = PACKAGE / entry
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise ValueError(f"codehash: {entry} is not a module of the package")
    return sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file()
                  and "__pycache__" not in p.parts)


@functools.cache
def stage_code(stage: str) -> str:
    """16 hex digits naming the current code of `stage` (relative paths + contents)."""
    h = hashlib.sha256()
    for entry in STAGE_MODULES[stage]:
        for path in _files(entry):
            h.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0")
            h.update(path.read_bytes() + b"\0")
    return h.hexdigest()[:16]
