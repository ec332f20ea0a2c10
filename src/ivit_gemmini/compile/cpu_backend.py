"""The `tvm-cpu` backend: the Relax graph compiled by TVM for the host (llvm), run in its VM.

The compiled library is cached on disk under a key made of the TVM version, the graph's
TVMScript and the bytes of every bound array, so a second run (or image) skips the build.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from ivit_gemmini.compile import graph, tvm_adapter
from ivit_gemmini.errors import UserError
from ivit_gemmini.model.params import IntegerParams


def cache_key(script: str, arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    h.update(tvm_adapter.tvm_version().encode())
    h.update(script.encode())
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}:{a.dtype.name}:{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()[:20]


class CpuBackend:
    """Compile once (or load from `cache_dir`), then `backend(image_int8) -> int64 logits`."""

    def __init__(self, params: IntegerParams, cache_dir: Path | None = None):
        tvm_adapter.check_version()
        self.params = params
        mod = graph.build_relax_module(params)
        arrays = graph.graph_arrays(mod, params)
        key = cache_key(tvm_adapter.to_script(mod), arrays)
        lib = Path(cache_dir) / f"tvm-cpu-{key}.so" if cache_dir else None
        if lib is not None and lib.is_file():
            self.vm = tvm_adapter.load_vm(lib)
            return
        exe = tvm_adapter.compile_llvm(graph.bind(mod, params))
        if lib is not None:
            # export_library wants a .so name: write beside, then rename (atomic on one disk).
            lib.parent.mkdir(parents=True, exist_ok=True)
            tmp = lib.with_name(f".{lib.stem}.{os.getpid()}.so")
            tvm_adapter.export_library(exe, tmp)
            os.replace(tmp, lib)
        self.vm = tvm_adapter.load_vm(exe)

    def __call__(self, image_int8: np.ndarray) -> np.ndarray:
        arch = self.params.arch
        expected = (arch.in_chans, arch.image_size, arch.image_size)
        if image_int8.shape != expected or image_int8.dtype != np.int8:
            raise UserError(
                f"input is {image_int8.dtype}{list(image_int8.shape)}, the model needs "
                f"int8{list(expected)}; rerun the quantize_image rule"
            )
        logits = tvm_adapter.run_vm(self.vm, image_int8)
        return logits.astype(np.int64)


def run_images(
    params: IntegerParams, images: dict[str, np.ndarray], cache_dir: Path | None = None
) -> dict[str, np.ndarray]:
    """Logits of every image (name -> int64 vector) from one compiled library."""
    backend = CpuBackend(params, cache_dir)
    return {name: backend(img) for name, img in images.items()}


def build_library(params_npz: str | Path, manifest: str | Path, out: str | Path) -> Path:
    """The `build_tvm_cpu_library` rule: the Relax graph with its bound params compiled for the
    host once, exported as the shared library `out` that every tvm-cpu shard job loads."""
    from ivit_gemmini.model.params import load_params

    tvm_adapter.check_version()
    params = load_params(Path(params_npz), Path(manifest))
    exe = tvm_adapter.compile_llvm(graph.bind(graph.build_relax_module(params), params))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # export_library wants a .so name: write beside, then rename (atomic on one disk).
    tmp = out.with_name(f".{out.stem}.{os.getpid()}.so")
    tvm_adapter.export_library(exe, tmp)
    os.replace(tmp, out)
    return out
