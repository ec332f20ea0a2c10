"""Cases for `gemmini/tests/case_runner.c`: one prebuilt ELF, one case patched into a copy of it.

A case is 64 little-endian int32 words (magic, kind, dataflow, repeats, dump size, then the
kind's parameters) followed by the input arrays, written over the initial contents of the ELF's
`ivit_case` array. Building the runner once and patching bytes per case keeps an ISA test at one
Spike run (no compile), so tests can afford many shapes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ivit_gemmini.errors import UserError
from ivit_gemmini.io import atomic_write_bytes
from ivit_gemmini.paths import REPO_ROOT

RUNNER_SOURCE = REPO_ROOT / "gemmini" / "tests" / "case_runner.c"
MAGIC = 0x54474956
HEADER_WORDS = 64
PARAMS_AT = 8
CASE_BYTES = 2 << 20
OUT_BYTES = 1 << 20
KIND = {
    "matmul": 1, "conv": 2, "resadd": 3, "script": 4, "conv_dw": 5, "downsample": 6,
    "global_average": 7, "matmul_nn": 8, "testutils": 9,
}  # fmt: skip
DATAFLOW = {"OS": 0, "WS": 1, "CPU": 2}
SCRIPT_OPS = {
    "config_ld": 1, "config_st": 2, "config_ex": 3, "mvin": 4, "mvout": 5, "preload": 6,
    "compute_preloaded": 7, "compute_accumulated": 8, "fence": 9, "flush": 10,
}  # fmt: skip


def f32_bits(x: float) -> int:
    """The int32 whose bits are the float32 `x` (how scales travel in the case header)."""
    return int(np.array([x], dtype=np.float32).view(np.int32)[0])


@dataclass
class CaseBuilder:
    """Collects parameter words and 64-byte-aligned input arrays, then packs the case."""

    kind: str
    dataflow: str = "WS"
    repeats: int = 1
    dump_bytes: int = 0
    params: list[int] = field(default_factory=list)
    _data: bytearray = field(default_factory=bytearray)

    def add_array(self, array: np.ndarray) -> int:
        """Append `array` (C order) to the data area; return its offset from the case start."""
        pad = (-(HEADER_WORDS * 4 + len(self._data))) % 64
        self._data += b"\0" * pad
        offset = HEADER_WORDS * 4 + len(self._data)
        self._data += np.ascontiguousarray(array).tobytes()
        return offset

    def pack(self) -> bytes:
        words = [MAGIC, KIND[self.kind], DATAFLOW[self.dataflow], self.repeats, self.dump_bytes]
        words += [0] * (PARAMS_AT - len(words)) + [int(p) for p in self.params]
        if len(words) > HEADER_WORDS:
            raise UserError(f"case has {len(words)} header words, at most {HEADER_WORDS} fit")
        if self.dump_bytes > OUT_BYTES:
            raise UserError(f"case output of {self.dump_bytes} bytes exceeds {OUT_BYTES}")
        words += [0] * (HEADER_WORDS - len(words))
        blob = struct.pack(f"<{HEADER_WORDS}i", *[_as_i32(w) for w in words]) + bytes(self._data)
        if len(blob) > CASE_BYTES:
            raise UserError(f"case of {len(blob)} bytes exceeds the runner's {CASE_BYTES}")
        return blob


def _as_i32(word: int) -> int:
    return word - (1 << 32) if word >= 1 << 31 else word


def symbol_file_offset(elf: bytes, name: str) -> tuple[int, int]:
    """File offset and size of the initialised data symbol `name` in an ELF64 little-endian."""
    (shoff,) = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", elf, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", elf, shoff + i * shentsize) for i in range(shnum)]
    for sec in sections:
        if sec[1] != 2:  # SHT_SYMTAB
            continue
        strtab = sections[sec[6]]
        for at in range(sec[4], sec[4] + sec[5], 24):
            st_name, _info, _other, shndx, value, size = struct.unpack_from("<IBBHQQ", elf, at)
            end = elf.index(b"\0", strtab[4] + st_name)
            if elf[strtab[4] + st_name : end].decode() == name:
                host = sections[shndx]
                return host[4] + (value - host[3]), size
    raise UserError(f"symbol {name} not found in the ELF: rebuild {RUNNER_SOURCE.name}")


def write_case_elf(runner_elf: Path, case: bytes, out: Path) -> Path:
    """Copy `runner_elf` to `out` with `case` written over the `ivit_case` array."""
    elf = bytearray(runner_elf.read_bytes())
    offset, size = symbol_file_offset(bytes(elf), "ivit_case")
    if len(case) > size:
        raise UserError(f"case of {len(case)} bytes does not fit ivit_case ({size} bytes)")
    elf[offset : offset + len(case)] = case
    atomic_write_bytes(out, bytes(elf))
    return out


@dataclass(frozen=True)
class CaseResult:
    """What the runner printed: counter deltas around the kernel and the dumped output bytes."""

    cycles: int
    instret: int
    out: bytes


def parse_output(stdout: str) -> CaseResult:
    """Parse the runner's STATS and OUT lines; a CASE-ERROR line or no STATS is a UserError."""
    cycles = instret = -1
    chunks: list[bytes] = []
    for line in stdout.splitlines():
        if line.startswith("CASE-ERROR"):
            raise UserError(f"the case runner rejected the case: {line}")
        if line.startswith("STATS "):
            fields = dict(item.split("=") for item in line.split()[1:])
            cycles, instret = int(fields["cycles"]), int(fields["instret"])
        elif line.startswith("OUT "):
            chunks.append(bytes.fromhex(line[4:].strip()))
    if cycles < 0:
        raise UserError(f"the case runner printed no STATS line; its output:\n{stdout[-2000:]}")
    return CaseResult(cycles, instret, b"".join(chunks))


# ---- building cases -------------------------------------------------------------------------


def _stride(array: np.ndarray | None) -> int:
    return 0 if array is None else int(array.strides[0] // array.itemsize)


def matmul_case(
    A: np.ndarray,
    B: np.ndarray,
    D: np.ndarray | None = None,
    *,
    dataflow: str = "WS",
    A_scale: float = 1.0,
    B_scale: float = 1.0,
    act: int = 0,
    scale: float = 1.0,
    repeating_bias: bool = False,
    transpose_A: bool = False,
    transpose_B: bool = False,
    full_C: bool = False,
    repeats: int = 1,
    dump: bool = True,
) -> CaseBuilder:
    """A `tiled_matmul_auto` case. A is I x K (K x I when transposed), B is K x J (J x K when
    transposed), D is int32 (or int8: low_D) with J columns; rows may be padded (strides are taken
    from the arrays, so pass a column slice of a wider array to test strides)."""
    rows, K = (A.shape[1], A.shape[0]) if transpose_A else A.shape
    J = B.shape[0] if transpose_B else B.shape[1]
    low_D = D is not None and D.dtype == np.int8
    size_C = 4 if full_C else 1
    case = CaseBuilder("matmul", dataflow, repeats, rows * J * size_C if dump else 0)
    # Arrays go in whole (base of a strided view), so the row stride survives the copy.
    offsets = []
    for array in (A, B, D):
        if array is None:
            offsets.append(-1)
            continue
        base = array if array.base is None else array.base
        start = array.__array_interface__["data"][0] - base.__array_interface__["data"][0]
        offsets.append(case.add_array(base) + start)
    case.params = [
        rows, J, K, _stride(A), _stride(B), _stride(D), J, f32_bits(A_scale), f32_bits(B_scale),
        1, act, f32_bits(scale), int(repeating_bias), int(transpose_A), int(transpose_B),
        int(full_C), int(low_D), *offsets,
    ]  # fmt: skip
    return case


def conv_case(
    x: np.ndarray,
    w: np.ndarray,
    bias: np.ndarray | None = None,
    *,
    stride: int = 1,
    padding: int = 0,
    act: int = 0,
    scale: float = 1.0,
    pool_size: int = 0,
    pool_stride: int = 0,
    pool_padding: int = 0,
    dataflow: str = "WS",
    repeats: int = 1,
    dump: bool = True,
) -> CaseBuilder:
    """A `tiled_conv_auto` case: x is NHWC int8, w is HWIO int8 (square kernel), bias int32."""
    n, h, wd, cin = x.shape
    k, _, _, cout = w.shape
    out_rows = (h + 2 * padding - k) // stride + 1
    out_cols = (wd + 2 * padding - k) // stride + 1
    prow, pcol = _pooled(out_rows, out_cols, pool_size, pool_stride, pool_padding)
    case = CaseBuilder("conv", dataflow, repeats, n * prow * pcol * cout if dump else 0)
    x_off, w_off = case.add_array(x), case.add_array(w)
    b_off = -1 if bias is None else case.add_array(bias.astype(np.int32))
    case.params = [
        n, h, wd, cin, cout, out_rows, out_cols, stride, 1, 1, padding, k,
        0, 0, 0, 0, 0, act, f32_bits(scale), pool_size, pool_stride, pool_padding,
        x_off, w_off, b_off,
    ]  # fmt: skip
    return case


def resadd_case(
    A: np.ndarray, B: np.ndarray, *, A_scale: float, B_scale: float, C_scale: float,
    relu: bool, dataflow: str = "WS", cols: int | None = None,
) -> CaseBuilder:  # fmt: skip
    """A `tiled_resadd_auto` case on two dense I x J int8 matrices; with `cols`, a
    `tiled_resadd_stride_auto` case on their first `cols` columns (row stride = their width)."""
    rows, width = A.shape
    case = CaseBuilder("resadd", dataflow, 1, rows * width)
    a, b = case.add_array(A), case.add_array(B)
    scales = [f32_bits(A_scale), f32_bits(B_scale), f32_bits(C_scale)]
    J, stride = (width, 0) if cols is None else (cols, width)
    case.params = [rows, J, *scales, int(relu), a, b, stride]
    return case


def conv_dw_case(
    x: np.ndarray, w: np.ndarray, bias: np.ndarray | None = None, *, stride: int = 1,
    padding: int = 0, act: int = 0, scale: float = 1.0, pool_size: int = 0,
    pool_stride: int = 0, pool_padding: int = 0, tiles: tuple[int, ...] | None = None,
    dataflow: str = "WS",
) -> CaseBuilder:  # fmt: skip
    """A depthwise conv: x NHWC int8, w [channels][k][k] int8, bias int32 [channels].
    `tiles` (batches, porows, pocols, krows, kcols) selects `tiled_conv_dw`, else the _auto."""
    n, h, wd, ch = x.shape
    k = w.shape[1]
    orows, ocols = (h + 2 * padding - k) // stride + 1, (wd + 2 * padding - k) // stride + 1
    prows, pcols = _pooled(orows, ocols, pool_size, pool_stride, pool_padding)
    case = CaseBuilder("conv_dw", dataflow, 1, n * prows * pcols * ch)
    x_off, w_off = case.add_array(x), case.add_array(w)
    b_off = -1 if bias is None else case.add_array(bias.astype(np.int32))
    case.params = [
        n, h, wd, ch, orows, ocols, stride, padding, k, act, f32_bits(scale), pool_size,
        pool_stride, pool_padding, x_off, w_off, b_off, int(tiles is not None),
        *(tiles or (0, 0, 0, 0, 0)),
    ]  # fmt: skip
    return case


def downsample_case(
    x: np.ndarray, w: np.ndarray, bias: np.ndarray | None, *, in_channels: int,
    out_channels: int, out_stride: int, act: int = 0, scale: float = 1.0, dataflow: str = "WS",
) -> CaseBuilder:  # fmt: skip
    """A `tiled_conv_downsample` case: x (N, H, W, in_stride) int8 whose first `in_channels`
    are the image, w (in_channels, weight_stride) int8 whose first `out_channels` columns are
    the 1x1 kernel; the output has `out_stride` elements per pixel."""
    n, h, wd, in_stride = x.shape
    orows, ocols = (h - 1) // 2 + 1, (wd - 1) // 2 + 1
    case = CaseBuilder("downsample", dataflow, 1, n * orows * ocols * out_stride)
    x_off, w_off = case.add_array(x), case.add_array(w)
    b_off = -1 if bias is None else case.add_array(bias.astype(np.int32))
    case.params = [
        n, h, wd, in_channels, out_channels, orows, ocols, in_stride, w.shape[1], out_stride,
        act, f32_bits(scale), x_off, w_off, b_off,
    ]  # fmt: skip
    return case


def global_average_case(x: np.ndarray, dataflow: str = "WS") -> CaseBuilder:
    """A `tiled_global_average_auto` case: x (N, dim, dim, C) int8 -> (N, C) int8."""
    n, dim, _, ch = x.shape
    case = CaseBuilder("global_average", dataflow, 1, n * ch)
    case.params = [n, ch, dim, case.add_array(x)]
    return case


def matmul_nn_case(
    A: np.ndarray, B: np.ndarray, D: np.ndarray | None, *, act: int = 0, scale: float = 1.0,
    repeating_bias: bool = False, dataflow: str = "WS",
) -> CaseBuilder:  # fmt: skip
    """A `tiled_matmul_nn_auto` case (dense A I x K, B K x J, int32 D) with its CPU check on."""
    (rows, K), J = A.shape, B.shape[1]
    case = CaseBuilder("matmul_nn", dataflow, 1, rows * J)
    a, b = case.add_array(A), case.add_array(B)
    d = -1 if D is None else case.add_array(D.astype(np.int32))
    case.params = [rows, J, K, act, f32_bits(scale), int(repeating_bias), a, b, d]
    return case


def helpers_case(
    A: np.ndarray, B: np.ndarray, D: np.ndarray, F: np.ndarray, shift: int
) -> CaseBuilder:
    """The gemmini_testutils.h helpers on 16 x 16 tiles (int8 A, B, D; int64 F); runs on the
    core alone (dataflow CPU). Output: 7 int64 tiles then 6 int8 tiles (see case_runner.c)."""
    case = CaseBuilder("testutils", "CPU", 1, 7 * 16 * 16 * 8 + 6 * 16 * 16)
    offsets = [case.add_array(m) for m in (A, B, D, F.astype(np.int64))]
    case.params = [*offsets, shift]
    return case


def _pooled(rows: int, cols: int, size: int, stride: int, padding: int) -> tuple[int, int]:
    if not stride:
        return rows, cols
    return (rows + 2 * padding - size) // stride + 1, (cols + 2 * padding - size) // stride + 1


class ScriptCase:
    """A low-level instruction sequence: `mvin` sources are arrays added with `data`,
    `mvout` destinations are byte offsets into the runner's output buffer."""

    def __init__(self, dump_bytes: int) -> None:
        self.case = CaseBuilder("script", "WS", 1, dump_bytes)
        self.ops: list[list[int]] = []

    def data(self, array: np.ndarray) -> int:
        return self.case.add_array(array)

    def op(self, name: str, *args: int) -> ScriptCase:
        if len(args) > 7:
            raise UserError(f"script op {name} takes at most 7 arguments, got {len(args)}")
        self.ops.append([SCRIPT_OPS[name], *[int(a) for a in args]] + [0] * (7 - len(args)))
        return self

    def build(self) -> CaseBuilder:
        table = self.case.add_array(np.array(self.ops, dtype=np.int64).astype(np.uint32))
        self.case.params = [len(self.ops), table]
        return self.case


# ---- building and running the runner --------------------------------------------------------


def _runner_inputs() -> list[Path]:
    from ivit_gemmini.firmware.toolchain import RUNTIME_DIR

    root = RUNNER_SOURCE.parents[1]
    files = [RUNNER_SOURCE, *sorted((root / "include").glob("*.h"))]
    files += sorted((root / "isa").glob("*.h")) + sorted(RUNTIME_DIR.glob("*"))
    return [f for f in files if f.is_file()]


def build_runner(cache_dir: Path) -> Path:
    """Build the case runner ELF into `cache_dir` unless one from the same sources exists."""
    import hashlib

    from ivit_gemmini.firmware.toolchain import build_elf, compile_command

    root = RUNNER_SOURCE.parents[1]
    includes = [root / "include", root / "isa"]
    digest = hashlib.sha256()
    for path in _runner_inputs():
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(" ".join(compile_command([RUNNER_SOURCE], Path("x"), includes)).encode())
    elf = cache_dir / f"case_runner-{digest.hexdigest()[:16]}.elf"
    if not elf.is_file():
        build_elf([RUNNER_SOURCE], elf, includes)
    return elf


def run_case(
    runner: Path,
    case: CaseBuilder,
    workdir: Path,
    *,
    extension: Path | None,
    timeout_s: float = 120.0,
    stats_json: Path | None = None,
    name: str = "case",
) -> tuple[CaseResult, Any]:
    """Patch `case` into a copy of `runner`, run it on Spike, return (parsed output, SpikeRun).

    Pass `extension=None` to run without Gemmini: a CPU-dataflow case must then still pass,
    which proves it issued no Gemmini instruction."""
    from ivit_gemmini.simulate.spike import run_spike

    elf = write_case_elf(runner, case.pack(), workdir / f"{name}.elf")
    run = run_spike(elf, extension=extension, timeout_s=timeout_s, stats_json=stats_json)
    return parse_output(run.stdout), run
