"""Stage functions of the compile stage: file paths in, files out (called by workflow shims).

- `write_graph`: params -> `results/model/graph.py` (TVMScript of the Relax module).
- `write_model_library`: params -> `results/build/<config>/model.tar` (+ the metadata beside).
- `run_tvm_cpu`: params + one int8 image -> `results/logits/tvm-cpu/<image>.npy`; the compiled
  library is cached in `cache_dir`, so only the first image pays for the llvm build.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ivit_gemmini.compile import graph, mlf
from ivit_gemmini.compile.cpu_backend import CpuBackend
from ivit_gemmini.io import atomic_write_text


def _params(params_npz: str | Path, manifest: str | Path):  # noqa: ANN202 - IntegerParams
    from ivit_gemmini.model.params import load_params  # noqa: PLC0415 - keeps imports light

    return load_params(Path(params_npz), Path(manifest))


def write_graph(params_npz: str | Path, manifest: str | Path, out: str | Path) -> None:
    graph.save_graph(graph.build_relax_module(_params(params_npz, manifest)), Path(out))


def write_model_library(
    params_npz: str | Path,
    manifest: str | Path,
    out: str | Path,
    gemmini: Mapping[str, Any] | None = None,
    offload: bool = True,
    metadata_out: str | Path | None = None,
) -> None:
    meta = mlf.emit_model_library(_params(params_npz, manifest), Path(out), gemmini, offload)
    if metadata_out is not None:
        atomic_write_text(metadata_out, json.dumps(meta, indent=1) + "\n")


def run_tvm_cpu(
    params_npz: str | Path,
    manifest: str | Path,
    image_bin: str | Path,
    out: str | Path,
    cache_dir: str | Path | None = None,
) -> None:
    from ivit_gemmini.evaluate.logits import save_logits  # noqa: PLC0415
    from ivit_gemmini.model.images import read_input  # noqa: PLC0415

    params = _params(params_npz, manifest)
    image = read_input(image_bin, params.arch.in_chans, params.arch.image_size)
    backend = CpuBackend(params, Path(cache_dir) if cache_dir else None)
    save_logits(out, backend(image))
