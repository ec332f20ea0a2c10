"""Drive the RTL mesh testbench (gemmini/rtl/driver/tb_mesh.cc) with jobs from numpy, and
the numpy golden model of what the mesh must compute (independent of the C++ model)."""

from __future__ import annotations

import functools
import json
import struct
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ivit_gemmini.simulate.rtl import RTL_CACHE, build_testbench


@functools.cache
def testbench(dim: int, tile: int = 1) -> Path:
    return build_testbench(RTL_CACHE, dim, tile=tile)


def wrap32(x: np.ndarray) -> np.ndarray:
    """Two's-complement wrap-around to int32, as the hardware's 32-bit adders."""
    return ((np.asarray(x, dtype=np.int64) + 2**31) % 2**32 - 2**31).astype(np.int64)


def round_shift_sat8(x: np.ndarray, shift: int) -> np.ndarray:
    """Right shift rounding half to even, then saturation to int8 (written from the rule)."""
    x = np.asarray(x, dtype=np.int64)
    if shift:
        q = np.floor_divide(x, 2**shift)
        rem = x - q * 2**shift
        half = 2 ** (shift - 1)
        x = q + ((rem > half) | ((rem == half) & (q % 2 == 1)))
    return np.clip(x, -128, 127)


@dataclass
class MeshRun:
    dim: int
    jobs: list[bytes] = field(default_factory=list)
    expected: dict[int, np.ndarray] = field(default_factory=dict)
    next_tag: int = 0

    def job(self, *, ws: bool, new_weights: bool, a: np.ndarray, preload: np.ndarray | None = None,
            bd: np.ndarray | None = None, rows: int | None = None, shift: int = 0,
            sat: bool = False, expect: np.ndarray | None = None) -> int:
        """Queue one compute; `a`, `preload`, `bd` are padded to DIM x DIM with zeros.
        Returns its tag (-1 when `expect` is None: results not wanted)."""
        d = self.dim

        def pad(x, dtype):
            out = np.zeros((d, d), dtype=dtype)
            if x is not None:
                x = np.asarray(x)
                out[: x.shape[0], : x.shape[1]] = x
            return out

        a_rows, a_cols = np.asarray(a).shape
        tag = -1
        if expect is not None:
            tag = self.next_tag
            self.next_tag += 1
            self.expected[tag] = np.asarray(expect, dtype=np.int64)
        if rows is None:
            rows = max(a_rows, 1) if ws else a_cols
        head = struct.pack("<9i", 0, ws, new_weights, rows, a_rows, a_cols, tag, shift, sat)
        self.jobs.append(head + pad(a, np.int8).tobytes() + pad(preload, np.int32).tobytes()
                         + pad(bd, np.int32).tobytes())
        return tag

    def drain(self) -> None:
        self.jobs.append(struct.pack("<i", 1))

    def run(self, tile: int = 1) -> tuple[dict[int, np.ndarray], dict]:
        """Run the testbench; return the result tiles by tag (in delivery order) and its stats."""
        proc = subprocess.run([str(testbench(self.dim, tile))], input=b"".join(self.jobs),
                              capture_output=True, check=False, timeout=120)
        assert proc.returncode == 0, proc.stderr.decode()
        rec = 4 + 4 * self.dim * self.dim
        out = {}
        for off in range(0, len(proc.stdout), rec):
            tag = struct.unpack_from("<i", proc.stdout, off)[0]
            assert tag not in out, f"tag {tag} delivered twice"
            out[tag] = np.frombuffer(proc.stdout, "<i4", self.dim * self.dim, off + 4).reshape(
                self.dim, self.dim).astype(np.int64)
        return out, json.loads(proc.stderr.decode().strip().splitlines()[-1])

    def check(self, tile: int = 1) -> dict:
        got, stats = self.run(tile)
        assert sorted(got) == sorted(self.expected), (sorted(got), sorted(self.expected))
        for tag, want in self.expected.items():
            r, c = want.shape
            np.testing.assert_array_equal(got[tag][:r, :c], want, err_msg=f"tile {tag}")
        return stats
