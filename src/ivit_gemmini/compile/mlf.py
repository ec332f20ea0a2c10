"""The Model Library Format-style archive of one build configuration.

`results/build/<config>/model.tar` holds everything a RISC-V (or host) C toolchain needs:

    codegen/host/src/kernels.c        TVM's C for every kernel (packed tvm-ffi entry points)
    codegen/host/src/model.c          our AOT run function, memory arena, workspace allocator
    codegen/host/src/ivit_gemmini_ops.c  the Gemmini wrappers (plain C with IVIT_GEMMINI_HOST_REF)
    codegen/host/src/params.S         links parameters/params.bin with .incbin
    codegen/host/include/             ivit_model.h, ivit_gemmini_ops.h, the TVM/DLPack headers
    parameters/params.bin             every constant, 64-byte aligned (offsets in metadata.json)
    metadata.json                     memory plan, kernels, Gemmini configuration, TVM version
    graph.py                          the Relax module (TVMScript) the library was built from

Build: compile src/*.c and src/params.S with `-Icodegen/host/include -Iparameters` (the
assembler finds params.bin there) and, for Gemmini, the include folder of `gemmini.h`.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import tvm

from ivit_gemmini.compile import aot, graph, passes, tvm_adapter
from ivit_gemmini.io import atomic_path
from ivit_gemmini.model.params import IntegerParams

FORMAT = "ivit-gemmini-mlf/1"
DEFAULT_GEMMINI = {"dim": 16, "dataflow": "WS", "input_type": "int8", "acc_type": "int32"}
SOURCES = ["kernels.c", "model.c", "ivit_gemmini_ops.c", "params.S"]

_PARAMS_S = """/* The parameter blob, linked as binary (no C array literal). */
  .section .rodata.ivit_params, "a"
  .balign 64
  .global ivit_params
  .type ivit_params, @object
ivit_params:
  .incbin "params.bin"
  .size ivit_params, . - ivit_params
  .section .note.GNU-stack, "", @progbits
"""


@dataclass(frozen=True)
class LibrarySources:
    """The archive's files in memory ({path in the archive: bytes}) and its metadata."""

    files: dict[str, bytes]
    metadata: dict[str, Any]


def lower_for_gemmini(params: IntegerParams, offload: bool = True) -> tvm.IRModule:
    """Graph -> bound -> (Gemmini partition) -> legalized and fused module."""
    mod = graph.bind(graph.build_relax_module(params), params)
    if offload:
        mod = passes.partition_for_gemmini(mod)
    return tvm_adapter.legalize_and_fuse(mod)


def _csrc(name: str) -> bytes:
    return resources.files("ivit_gemmini.compile").joinpath("csrc", name).read_bytes()


def generate_library(
    params: IntegerParams, gemmini: Mapping[str, Any] | None = None, offload: bool = True
) -> LibrarySources:
    tvm_adapter.check_version()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    source_mod = graph.build_relax_module(params)
    fused = lower_for_gemmini(params, offload)
    timings["relax_seconds"] = time.perf_counter() - t0
    program = aot.plan_program(fused)
    t1 = time.perf_counter()
    kernel_c = tvm_adapter.primfuncs_to_c(program.kernels)
    timings["tvm_c_codegen_seconds"] = time.perf_counter() - t1
    model_c = aot.emit_model_c(program, aot.workspace_bytes(kernel_c))
    files: dict[str, bytes] = {
        "codegen/host/src/kernels.c": kernel_c.encode(),
        "codegen/host/src/model.c": model_c.encode(),
        "codegen/host/src/ivit_gemmini_ops.c": _csrc("ivit_gemmini_ops.c"),
        "codegen/host/src/params.S": _PARAMS_S.encode(),
        "codegen/host/include/ivit_model.h": aot.emit_model_h(program).encode(),
        "codegen/host/include/ivit_gemmini_ops.h": _csrc("ivit_gemmini_ops.h"),
        "parameters/params.bin": program.params_blob,
        "graph.py": tvm_adapter.to_script(source_mod).encode(),
    }
    for rel, path in tvm_adapter.c_headers().items():
        files[f"codegen/host/include/{rel}"] = path.read_bytes()
    calls: dict[str, int] = {}
    for s in program.steps:
        calls[s.kernel] = calls.get(s.kernel, 0) + 1
    inp, out = program.buffers[program.input], program.buffers[program.output]
    metadata = {
        "format": FORMAT,
        "tvm_version": tvm_adapter.tvm_version(),
        "arch": params.arch.__dict__,
        "gemmini": {**DEFAULT_GEMMINI, **(gemmini or {}), "offload": offload},
        "input": {"shape": list(inp.shape), "dtype": inp.dtype},
        "output": {"shape": list(out.shape), "dtype": out.dtype},
        "entry": "int ivit_model_run(const int8_t *input, int64_t *logits)",
        "memory_plan": {**program.memory_plan(), "workspace_bytes": aot.workspace_bytes(kernel_c)},
        "kernels": [
            {
                "name": k,
                "symbol": tvm_adapter.packed_symbol(k),
                "kind": aot.KIND_NAMES[aot.kind_of(k)],
                "calls": n,
            }
            for k, n in sorted(calls.items())
        ],
        "steps": [
            {"kernel": s.kernel, "kind": aot.KIND_NAMES[s.kind], "args": list(s.args)}
            for s in program.steps
        ],
        "sources": [f"codegen/host/src/{s}" for s in SOURCES],
        "include_dirs": ["codegen/host/include", "parameters"],
        "defines": {
            "IVIT_GEMMINI_HOST_REF": "plain-C matmuls for a host build",
            "IVIT_COUNTERS": "per-step cycle/instret counters (RISC-V)",
        },
        "params_sha256": hashlib.sha256(program.params_blob).hexdigest(),
        "timings": timings,
    }
    return LibrarySources(files, metadata)


def write_archive(lib: LibrarySources, path: Path) -> None:
    """Write the tar (deterministic member order and times) atomically."""
    members = {**lib.files, "metadata.json": (json.dumps(lib.metadata, indent=1) + "\n").encode()}
    with atomic_path(path) as tmp, tarfile.open(tmp, "w") as tar:
        for name in sorted(members):
            info = tarfile.TarInfo(name)
            info.size = len(members[name])
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(members[name]))


def emit_model_library(
    params: IntegerParams, out: Path, gemmini: Mapping[str, Any] | None = None, offload: bool = True
) -> dict[str, Any]:
    """Generate and write `model.tar`; returns its metadata."""
    lib = generate_library(params, gemmini, offload)
    write_archive(lib, Path(out))
    return lib.metadata


def unpack_archive(archive: Path, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")
    return dest
