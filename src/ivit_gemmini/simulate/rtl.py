"""Our SystemVerilog Gemmini mesh (gemmini/rtl/), Verilated for the `spike-rtl` backend and
the RTL unit tests.

`verilate` turns the RTL for one DIM (and tile size) into a C++ model and its libraries with
Debian's `verilator` (cached by content), compiled `-fPIC -O3 -D_GLIBCXX_USE_CXX11_ABI=0` so it
links into the Spike extension (`spike.build_extension(..., mesh="rtl")`). `build_testbench`
links the same driver (gemmini/rtl/driver/rtl_mesh.cc) into a small stdin/stdout program.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from pathlib import Path

from ivit_gemmini.errors import UserError
from ivit_gemmini.io import atomic_path

REPO_ROOT = Path(__file__).resolve().parents[3]
RTL_DIR = REPO_ROOT / "gemmini" / "rtl"
DRIVER_DIR = RTL_DIR / "driver"
# Verilated models are cached here by content (one per DIM), shared by every extension build.
RTL_CACHE = REPO_ROOT / "build" / "rtl"
TOP = "gemmini_mesh_top"
RTL_DIMS = (1, 2, 4, 8, 16, 32)
# -O3 and two-state X handling: the mesh is simulated for millions of cycles per image.
VERILATOR_FLAGS = ("--cc", "-O3", "--x-assign", "fast", "--x-initial", "fast", "--noassert")
RUNTIME_SOURCES = ("verilated.cpp", "verilated_threads.cpp")
CXX_FLAGS = ("-std=c++20", "-fPIC", "-O3", "-D_GLIBCXX_USE_CXX11_ABI=0")


def rtl_sources() -> list[Path]:
    return sorted(RTL_DIR.glob("*.sv"))


def rtl_build_inputs() -> list[str]:
    """Every file of gemmini/rtl/ a spike-rtl build reads (the workflow rule's inputs)."""
    return [str(p) for p in (*rtl_sources(), *sorted(DRIVER_DIR.glob("*.cc")))]


def verilator_binary() -> str:
    found = shutil.which("verilator")
    if found is None:
        raise UserError("verilator not found: install the Debian package verilator (make setup)")
    return found


def verilator_include() -> Path:
    """Verilator's runtime headers (verilated.h), from `verilator --getenv VERILATOR_ROOT`."""
    root = subprocess.run([verilator_binary(), "--getenv", "VERILATOR_ROOT"], capture_output=True,
                          text=True, check=True).stdout.strip()
    return Path(root) / "include"


def dim_from_params(params_dir: Path | None) -> int:
    """DIM from a gemmini_params.h (None: the committed default)."""
    header = (Path(params_dir) if params_dir is not None else REPO_ROOT / "gemmini" / "include")
    text = (header / "gemmini_params.h").read_text(encoding="utf-8")
    match = re.search(r"^#define DIM (\d+)\s*$", text, re.MULTILINE)
    if match is None:
        raise UserError(f"{header}/gemmini_params.h defines no DIM")
    return int(match.group(1))


def _check_geometry(dim: int, tile: int) -> None:
    if dim not in RTL_DIMS:
        raise UserError(f"the RTL mesh supports DIM {', '.join(map(str, RTL_DIMS))}, not {dim}: "
                        "fix config gemmini.dim")
    if tile < 1 or dim % tile:
        raise UserError(f"RTL tile size {tile} must divide DIM {dim}")


def _key(*parts: str | bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def rtl_key(dim: int, tile: int, broken_pe: bool) -> str:
    """A hash of everything a Verilated model depends on."""
    files = [p.read_bytes() for p in rtl_sources()]
    flags = " ".join((*VERILATOR_FLAGS, *CXX_FLAGS, verilator_binary()))
    return _key(*files, flags, f"dim={dim} tile={tile} broken={broken_pe}")


def verilate(out_dir: Path, dim: int, *, tile: int = 1, broken_pe: bool = False) -> Path:
    """Verilate and compile the mesh for `dim` into `out_dir/vl-<hash>/` (reused when it
    exists); return that folder (Vgemmini_mesh_top.h, Vgemmini_mesh_top__ALL.a,
    libverilated.a). `broken_pe` builds PE (0,0) with a wrong sign extension (tests only)."""
    _check_geometry(dim, tile)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / f"vl-{rtl_key(dim, tile, broken_pe)}"
    if (final / f"V{TOP}__ALL.a").is_file():
        return final
    work = out_dir / f"{final.name}.tmp"
    shutil.rmtree(work, ignore_errors=True)
    params = [f"-GDIM={dim}", f"-GTILE={tile}"] + (["-GBROKEN_SIGN=1'b1"] if broken_pe else [])
    cmd = [verilator_binary(), *VERILATOR_FLAGS, "--build", "-j", "2", "--top-module", TOP,
           *params, "-Mdir", str(work), "-CFLAGS", " ".join(CXX_FLAGS),
           *map(str, rtl_sources())]
    _run(cmd, f"verilating the RTL mesh (DIM {dim})")
    shutil.copyfile(verilator_runtime(out_dir), work / "libverilated.a")
    shutil.rmtree(final, ignore_errors=True)
    work.rename(final)
    return final


def verilator_runtime(out_dir: Path) -> Path:
    """Verilator's runtime library compiled with our flags (`--build` without `--exe` leaves it
    out), shared by every mesh geometry."""
    inc = verilator_include()
    lib = Path(out_dir) / f"libverilated-{_key(' '.join(CXX_FLAGS), verilator_binary())}.a"
    if lib.is_file():
        return lib
    objs = []
    for name in RUNTIME_SOURCES:
        obj = Path(out_dir) / f"{Path(name).stem}-{lib.stem}.o"
        _run(["g++", *CXX_FLAGS, f"-I{inc}", f"-I{inc / 'vltstd'}", "-c", str(inc / name),
              "-o", str(obj)], name)
        objs.append(str(obj))
    with atomic_path(lib) as tmp:
        tmp.unlink()  # ar wants to create the archive itself
        _run(["ar", "rcs", str(tmp), *objs], lib.name)
    return lib


def driver_sources() -> list[Path]:
    return [DRIVER_DIR / "rtl_mesh.cc"]


def driver_flags(vl_dir: Path, tile: int, broken_pe: bool) -> list[str]:
    """Compiler flags for code that includes the Verilated model (the driver)."""
    inc = verilator_include()
    flags = ["-DIVIT_RTL_MESH", f"-DIVIT_RTL_TILE={tile}", f"-I{vl_dir}", f"-I{inc}",
             f"-I{inc / 'vltstd'}", f"-I{REPO_ROOT / 'gemmini' / 'spike'}"]
    return flags + (["-DIVIT_RTL_BROKEN_SIGN"] if broken_pe else [])


def link_archives(vl_dir: Path) -> list[str]:
    return [str(vl_dir / f"V{TOP}__ALL.a"), str(vl_dir / "libverilated.a"), "-pthread"]


def build_testbench(out_dir: Path, dim: int, *, tile: int = 1, broken_pe: bool = False,
                    cxx: str = "g++") -> Path:
    """The RTL testbench (gemmini/rtl/driver/tb_mesh.cc) for one mesh geometry."""
    vl_dir = verilate(out_dir, dim, tile=tile, broken_pe=broken_pe)
    sources = [DRIVER_DIR / "tb_mesh.cc", *driver_sources()]
    headers = [REPO_ROOT / "gemmini" / "spike" / "mesh_backend.h"]
    key = _key(vl_dir.name, *(p.read_bytes() for p in sources + headers), cxx)
    exe = Path(out_dir) / f"tb_mesh-{key}"
    if exe.is_file():
        return exe
    inc = Path(out_dir) / f"tb-include-dim{dim}"
    inc.mkdir(exist_ok=True)
    (inc / "gemmini_params.h").write_text(f"#pragma once\n#define DIM {dim}\n", encoding="utf-8")
    with atomic_path(exe) as tmp:
        _run([cxx, *CXX_FLAGS, f"-I{inc}",
              *driver_flags(vl_dir, tile, broken_pe), *map(str, sources), "-o", str(tmp),
              *link_archives(vl_dir)], "the RTL testbench")
    return exe


def _run(cmd: list[str], what: str) -> None:
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise UserError(f"{cmd[0]} not found while building {what}") from exc
    if result.returncode != 0:
        raise UserError(f"building {what} failed:\n{(result.stderr or result.stdout)[-3000:]}")
