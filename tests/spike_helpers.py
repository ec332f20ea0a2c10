"""Test helpers: encode raw Gemmini instructions, replay them on Spike through the driver
program `spike_programs/gemmini_driver.c`, and read memory regions back as numpy arrays.

The encoders here are written from the ISA notes independently of gemmini.h, so extension
tests do not depend on the header.
"""

from __future__ import annotations

import functools
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ivit_gemmini.firmware.toolchain import build_elf
from ivit_gemmini.gemmini.isa import COMMANDS
from ivit_gemmini.simulate.spike import SpikeRun, build_extension, run_spike

REPO = Path(__file__).resolve().parents[1]
PROGRAMS = Path(__file__).resolve().parent / "spike_programs"
INCLUDES = [REPO / "gemmini" / "include", REPO / "gemmini" / "isa"]
K = {name: code for name, (code, _) in COMMANDS.items()}
DIM = 16
GARBAGE = 0xFFFF_FFFF
ACC = 1 << 31
ACCUMULATE = 1 << 30
FULL = 1 << 29


# Which mesh the extension under test computes with: "functional" (the `spike` backend) or
# "rtl" (the `spike-rtl` build); the fixture `mesh_backend` (conftest.py) switches it.
MESH = {"backend": "functional"}


@functools.cache
def _extension(mesh: str) -> Path:
    return build_extension(REPO / "build" / "spike", mesh=mesh)


def extension() -> Path:
    return _extension(MESH["backend"])


def f32_bits(x: float) -> int:
    return struct.unpack("<I", struct.pack("<f", x))[0]


def local(addr: int, cols: int = DIM, rows: int = DIM) -> int:
    return (rows << 48) | (cols << 32) | (addr & 0xFFFF_FFFF)


@dataclass
class Program:
    """A memory image plus a list of Gemmini instructions with relocatable DRAM operands."""

    mem: bytearray = field(default_factory=bytearray)
    cmds: list[tuple[int, int, int, int]] = field(default_factory=list)
    dumps: list[tuple[int, int]] = field(default_factory=list)
    outputs: dict[int, bytes] = field(default_factory=dict)

    def alloc(self, nbytes: int, align: int = 64) -> int:
        start = -(-len(self.mem) // align) * align
        self.mem.extend(b"\0" * (start + nbytes - len(self.mem)))
        return start

    def put(self, array: np.ndarray) -> int:
        data = np.ascontiguousarray(array).tobytes()
        off = self.alloc(len(data))
        self.mem[off : off + len(data)] = data
        return off

    def out(self, nbytes: int) -> int:
        off = self.alloc(nbytes)
        self.dumps.append((off, nbytes))
        return off

    def cmd(
        self, name: str | int, rs1: int = 0, rs2: int = 0, rel1: bool = False, rel2: bool = False
    ) -> None:
        funct = K[name] if isinstance(name, str) else name
        self.cmds.append((funct, rs1 & (2**64 - 1), rs2 & (2**64 - 1), rel1 | (rel2 << 1)))

    # --- encoders (field layouts from docs / upstream functional model) ---
    def config_ex(
        self,
        ws: bool = True,
        act: int = 0,
        shift: int = 0,
        a_stride: int = 1,
        c_stride: int = 1,
        a_t: bool = False,
        b_t: bool = False,
    ) -> None:
        rs1 = (a_stride << 16) | (b_t << 9) | (a_t << 8) | (act << 3) | (ws << 2) | 0
        self.cmd("CONFIG", rs1 | (f32_bits(1.0) << 32), (c_stride << 48) | shift)

    def config_ld(
        self,
        stride: int,
        scale: float = 1.0,
        shrunk: bool = False,
        unit: int = 0,
        block_stride: int = DIM,
    ) -> None:
        rs1 = (f32_bits(scale) << 32) | (block_stride << 16) | (unit << 3) | (shrunk << 2) | 1
        self.cmd("CONFIG", rs1, stride)

    def config_st(self, stride: int, scale: float = 1.0, act: int = 0) -> None:
        self.cmd("CONFIG", (act << 2) | 2, (f32_bits(scale) << 32) | stride)

    def mvin(
        self, dram: int, sp: int, cols: int = DIM, rows: int = DIM, unit: int = 0, rel: bool = True
    ) -> None:
        self.cmd(["MVIN", "MVIN2", "MVIN3"][unit], dram, local(sp, cols, rows), rel1=rel)

    def mvout(self, dram: int, sp: int, cols: int = DIM, rows: int = DIM) -> None:
        self.cmd("MVOUT", dram, local(sp, cols, rows), rel1=True)

    def preload(
        self,
        bd: int,
        c: int,
        bd_cols: int = DIM,
        bd_rows: int = DIM,
        c_cols: int = DIM,
        c_rows: int = DIM,
    ) -> None:
        self.cmd("PRELOAD", local(bd, bd_cols, bd_rows), local(c, c_cols, c_rows))

    def compute(
        self,
        a: int,
        bd: int = GARBAGE,
        preloaded: bool = True,
        a_cols: int = DIM,
        a_rows: int = DIM,
        bd_cols: int = DIM,
        bd_rows: int = DIM,
    ) -> None:
        name = "COMPUTE_PRELOADED" if preloaded else "COMPUTE_ACCUMULATE"
        self.cmd(name, local(a, a_cols, a_rows), local(bd, bd_cols, bd_rows))

    def loop_ws(
        self,
        ni: int,
        nj: int,
        nk: int,
        pads: tuple[int, int, int],
        A: int,
        B: int,
        D: int | None,
        C: int | None,
        strides: tuple[int, int, int, int],
        a_t: bool = False,
        b_t: bool = False,
        full_C: bool = False,
        low_D: bool = False,
        ex_accumulate: bool = False,
        act: int = 0,
    ) -> None:
        pI, pJ, pK = pads
        self.cmd(
            "LOOP_WS_CONFIG_BOUNDS", (pK << 32) | (pJ << 16) | pI, (nk << 32) | (nj << 16) | ni
        )
        self.cmd("LOOP_WS_CONFIG_ADDRS_AB", A, B, rel1=True, rel2=True)
        self.cmd("LOOP_WS_CONFIG_ADDRS_DC", D or 0, C or 0, rel1=D is not None, rel2=C is not None)
        self.cmd("LOOP_WS_CONFIG_STRIDES_AB", strides[0], strides[1])
        self.cmd("LOOP_WS_CONFIG_STRIDES_DC", strides[2], strides[3])
        rs1 = (act << 8) | (low_D << 2) | (full_C << 1) | int(ex_accumulate)
        self.cmd("LOOP_WS", rs1, (b_t << 1) | int(a_t))

    # --- running ---
    def header(self) -> str:
        size = max(len(self.mem), 64)
        data = bytes(self.mem) + b"\0" * (size - len(self.mem))
        lines = [f"#define MEM_BYTES {size}u", "static const uint8_t mem_image[MEM_BYTES] = {"]
        lines += [",".join(str(b) for b in data[i : i + 64]) + "," for i in range(0, size, 64)]
        lines.append("};")
        lines.append("struct cmd { unsigned funct; uint64_t rs1, rs2; unsigned flags; };")
        lines.append(f"#define N_CMDS {len(self.cmds)}u")
        body = ",".join(f"{{{f},{a:#x}ull,{b:#x}ull,{fl}}}" for f, a, b, fl in self.cmds)
        lines.append(
            f"static const struct cmd cmds[N_CMDS + 1] = {{{body}{',' if body else ''}"
            "{0,0,0,0}};"
        )
        lines.append(f"#define N_DUMPS {len(self.dumps)}u")
        body = ",".join(f"{{{o},{n}}}" for o, n in self.dumps)
        lines.append(
            f"static const unsigned dumps[N_DUMPS + 1][2] = {{{body}{',' if body else ''}{{0,0}}}};"
        )
        return "\n".join(lines) + "\n"

    def build(self, workdir: Path) -> Path:
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "driver_data.h").write_text(self.header())
        return build_elf(
            [PROGRAMS / "gemmini_driver.c"], workdir / "driver.elf", [workdir, *INCLUDES], opt="-O1"
        )

    def run(self, workdir: Path, timeout_s: float = 60.0) -> SpikeRun:
        elf = self.build(workdir)
        result = run_spike(
            elf, extension=extension(), timeout_s=timeout_s, stats_json=workdir / "stats.json"
        )
        for line in result.stdout.splitlines():
            if line.startswith("OUT "):
                _, off, hexdata = line.split(" ")
                self.outputs[int(off)] = bytes.fromhex(hexdata)
        return result

    def read(self, off: int, dtype: type, shape: tuple[int, ...]) -> np.ndarray:
        nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
        chunks = bytearray()
        pos = off
        while len(chunks) < nbytes:
            chunk = self.outputs[pos]
            chunks += chunk
            pos += len(chunk)
        return np.frombuffer(bytes(chunks[:nbytes]), dtype=dtype).reshape(shape)
