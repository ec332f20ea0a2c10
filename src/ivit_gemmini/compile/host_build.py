"""Build an unpacked model library for the host with gcc and run it through ctypes.

The Gemmini wrappers are compiled with `IVIT_GEMMINI_HOST_REF` (plain C), so this checks
everything of the archive except the accelerator itself: TVM's kernels, our AOT run function,
the memory plan and the parameter blob.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import numpy as np

from ivit_gemmini.errors import UserError

HOST_FLAGS = [
    "-O2",
    "-fPIC",
    "-shared",
    "-Wl,-Bsymbolic",
    "-DIVIT_GEMMINI_HOST_REF",
    "-Wno-unused-variable",
    "-Wno-unused-but-set-variable",
]


def build_host_library(root: Path, out: Path | None = None, cc: str = "gcc") -> Path:
    """Compile an unpacked archive at `root` into a shared library (returns its path)."""
    if shutil.which(cc) is None:
        raise UserError(f"C compiler {cc} not found; install gcc (apt-get install gcc)")
    out = out or root / "libmodel.so"
    src = root / "codegen/host/src"
    cmd = [
        cc,
        *HOST_FLAGS,
        f"-I{root / 'codegen/host/include'}",
        f"-I{root / 'parameters'}",
        f"-Wa,-I{root / 'parameters'}",
        *sorted(str(p) for p in src.glob("*.c")),
        str(src / "params.S"),
        "-o",
        str(out),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise UserError(f"host build of {root} failed: {proc.stderr.strip()[:2000]}")
    return out


class HostModel:
    """ctypes view of a host-built model library."""

    def __init__(self, library: Path, input_bytes: int, num_classes: int):
        self.lib = ctypes.CDLL(str(library))
        self.lib.ivit_model_run.restype = ctypes.c_int
        self.lib.ivit_model_run.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        self.input_bytes, self.num_classes = input_bytes, num_classes

    def __call__(self, image_int8: np.ndarray) -> np.ndarray:
        image = np.ascontiguousarray(image_int8, dtype=np.int8)
        if image.nbytes != self.input_bytes:
            raise UserError(f"image has {image.nbytes} bytes, the model needs {self.input_bytes}")
        logits = np.zeros(self.num_classes, dtype=np.int64)
        rc = self.lib.ivit_model_run(image.ctypes.data, logits.ctypes.data)
        if rc != 0:
            raise RuntimeError(f"ivit_model_run failed in step {-rc - 1}")
        return logits
