"""Building bare-metal RISC-V ELFs for Spike with Debian's GCC 12 + picolibc and our runtime.

Memory map (gemmini/runtime/ivit.ld): one region of `memory_mb` MiB at 0x80000000 (config
`firmware.memory_mb`, default 256 MiB, rocket-chip's default memory port; Spike gets the same
size with -m), filled with code, read-only data (the model's parameters), data, bss, a stack
guard, the stack (`firmware.stack_kb`) and the heap up to the end. A program that does not fit
fails to link with one line naming firmware.memory_mb.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from ivit_gemmini.errors import UserError
from ivit_gemmini.io import atomic_path
from ivit_gemmini.paths import REPO_ROOT, require_repo_dir

GCC = "riscv64-unknown-elf-gcc"
RUNTIME_DIR = REPO_ROOT / "gemmini" / "runtime"
RUNTIME_SOURCES = ("reset.S", "htif.c", "console.c", "exit.c", "trap.c", "trap_entry.S")
LINKER_SCRIPT = RUNTIME_DIR / "ivit.ld"

MEMORY_BASE = 0x8000_0000  # DRAM base of Spike and rocket-chip
DEFAULT_MEMORY_MB = 256  # rocket-chip's default memory port (Chipyard's base configs keep it)
# -mcmodel=medany reaches +-2 GiB from the code at MEMORY_BASE: the end of memory must too.
MAX_MEMORY_MB = 2047
DEFAULT_STACK_KB = 1024
STACK_GUARD = 64 << 10  # no-access pages below the stack (a locked PMP entry, reset.S)

ARCH_FLAGS = ("-march=rv64gc", "-mabi=lp64d", "-mcmodel=medany")
_OVERFLOW_RE = re.compile(r"region `ram' overflowed by (\d+) bytes")


def link_symbols(memory_mb: int = DEFAULT_MEMORY_MB,
                 stack_kb: int = DEFAULT_STACK_KB) -> dict[str, int]:
    """The --defsym values ivit.ld needs for `memory_mb` MiB of memory and a `stack_kb` stack."""
    if not 1 <= int(memory_mb) <= MAX_MEMORY_MB:
        raise UserError(f"firmware.memory_mb is {memory_mb}: give 1 .. {MAX_MEMORY_MB} (MiB)")
    if not 4 <= int(stack_kb) < int(memory_mb) << 10:
        raise UserError(f"firmware.stack_kb is {stack_kb}: give at least 4 and less than the "
                        "memory")
    return {
        "__ivit_memory_base": MEMORY_BASE,
        "__ivit_memory_size": int(memory_mb) << 20,
        "__ivit_guard_size": STACK_GUARD,
        "__stack_size": int(stack_kb) << 10,
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
    *,
    memory_mb: int = DEFAULT_MEMORY_MB,
    stack_kb: int = DEFAULT_STACK_KB,
) -> list[str]:
    """The full gcc command line that builds `out` from `sources` plus the runtime."""
    runtime = [require_repo_dir(RUNTIME_DIR) / name for name in RUNTIME_SOURCES]
    includes = [f"-I{d}" for d in [RUNTIME_DIR, *include_dirs]]
    macro_flags = [f"-D{k}={v}" for k, v in (defines or {}).items()]
    link = [f"-Wl,--defsym={name}={value:#x}"
            for name, value in link_symbols(memory_mb, stack_kb).items()]
    link.append(f"-T{LINKER_SCRIPT}")
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
    *,
    memory_mb: int = DEFAULT_MEMORY_MB,
    stack_kb: int = DEFAULT_STACK_KB,
) -> Path:
    """Compile and link `sources` with the bare-metal runtime into the ELF `out` for `memory_mb`
    MiB of memory and a `stack_kb` stack; return it."""
    for source in sources:
        if not Path(source).is_file():
            raise UserError(f"firmware source {source} does not exist: check the path")
    with atomic_path(out) as tmp:
        cmd = compile_command(sources, tmp, include_dirs, defines, extra_objects, opt,
                              memory_mb=memory_mb, stack_kb=stack_kb)
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        overflow = _OVERFLOW_RE.search(result.stderr)
        if result.returncode != 0 and overflow:
            need_mb = -(-((int(memory_mb) << 20) + int(overflow.group(1))) // (1 << 20))
            raise UserError(
                f"{out.name} needs {need_mb} MiB of memory (code, parameters, buffers and the "
                f"{stack_kb} KiB stack) but firmware.memory_mb is {memory_mb}: raise "
                f"firmware.memory_mb to at least {need_mb} (the SoC must have that much)"
            )
        if result.returncode != 0:
            first = next((ln for ln in result.stderr.splitlines() if "error" in ln), "")
            raise UserError(
                f"building {out.name} failed ({first.strip() or 'see compiler output'}); "
                f"compiler output:\n{result.stderr}"
            )
    return out
