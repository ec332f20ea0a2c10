"""Building bare-metal RISC-V ELFs for Spike with Debian's GCC 12 + picolibc and our runtime.

Memory map (Spike's default RAM is 2 GiB at 0x80000000; we use the first 512 MiB):
code and read-only data ("flash" in picolibc's linker script) at 0x80000000 (64 MiB), then
RAM for data, bss, heap and a 1 MiB stack (448 MiB) — room for large static model buffers.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from ivit_gemmini.errors import UserError
from ivit_gemmini.io import atomic_path

GCC = "riscv64-unknown-elf-gcc"
REPO_ROOT = Path(__file__).resolve().parents[3]
RUNTIME_DIR = REPO_ROOT / "gemmini" / "runtime"
RUNTIME_SOURCES = ("htif.c", "console.c", "exit.c", "trap.c", "trap_entry.S")

FLASH_BASE = 0x8000_0000
FLASH_SIZE = 64 << 20
RAM_SIZE = 448 << 20
STACK_SIZE = 1 << 20

ARCH_FLAGS = ("-march=rv64gc", "-mabi=lp64d", "-mcmodel=medany")
LINK_SYMBOLS = {
    "__flash": FLASH_BASE,
    "__flash_size": FLASH_SIZE,
    "__ram": FLASH_BASE + FLASH_SIZE,
    "__ram_size": RAM_SIZE,
    "__stack_size": STACK_SIZE,
}


def find_gcc() -> str:
    """The cross compiler's path, or a UserError naming the Debian packages to install."""
    path = shutil.which(GCC)
    if path is None:
        raise UserError(
            f"{GCC} not found: install the Debian packages gcc-riscv64-unknown-elf and "
            "picolibc-riscv64-unknown-elf (apt-get install ...)"
        )
    return path


def compile_command(
    sources: Sequence[Path],
    out: Path,
    include_dirs: Sequence[Path],
    defines: dict[str, str] | None = None,
    extra_objects: Sequence[Path] = (),
    opt: str = "-O2",
) -> list[str]:
    """The full gcc command line that builds `out` from `sources` plus the runtime."""
    runtime = [RUNTIME_DIR / name for name in RUNTIME_SOURCES]
    includes = [f"-I{d}" for d in [RUNTIME_DIR, *include_dirs]]
    macro_flags = [f"-D{k}={v}" for k, v in (defines or {}).items()]
    link = [f"-Wl,--defsym={name}={value:#x}" for name, value in LINK_SYMBOLS.items()]
    return [
        find_gcc(),
        *ARCH_FLAGS,
        opt,
        "-g",
        "-std=gnu11",
        "-Wall",
        "-ffunction-sections",
        "-fdata-sections",
        "--specs=picolibc.specs",
        "--crt0=hosted",
        *includes,
        *macro_flags,
        *[str(s) for s in sources],
        *[str(s) for s in runtime],
        *[str(o) for o in extra_objects],
        *link,
        "-lm",
        "-o",
        str(out),
    ]


def build_elf(
    sources: list[Path],
    out: Path,
    include_dirs: list[Path],
    defines: dict[str, str] | None = None,
    extra_objects: Sequence[Path] = (),
    opt: str = "-O2",
) -> Path:
    """Compile and link `sources` with the bare-metal runtime into the ELF `out`; return it."""
    for source in sources:
        if not Path(source).is_file():
            raise UserError(f"firmware source {source} does not exist: check the path")
    with atomic_path(out) as tmp:
        cmd = compile_command(sources, tmp, include_dirs, defines, extra_objects, opt)
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            first = next((ln for ln in result.stderr.splitlines() if "error" in ln), "")
            raise UserError(
                f"building {out.name} failed ({first.strip() or 'see compiler output'}); "
                f"compiler output:\n{result.stderr}"
            )
    return out
