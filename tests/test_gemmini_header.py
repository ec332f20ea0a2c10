"""gemmini.h as a drop-in for upstream's: an upstream-style program (upstream's include paths,
macros, argument lists and testutils helpers) compiles unchanged with warnings as errors and
passes on Spike with our extension; and the header issues no Gemmini instruction on the CPU
path (checked by running CPU cases without the extension, in test_gemmini_isa.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from gemmini_rig import rig

from ivit_gemmini.firmware.toolchain import ARCH_FLAGS, RUNTIME_DIR, build_elf, find_gcc
from ivit_gemmini.gemmini import isa
from ivit_gemmini.simulate.spike import run_spike

__all__ = ["rig"]

ROOT = Path(__file__).resolve().parents[1]
GEMMINI = ROOT / "gemmini"


@pytest.fixture(scope="module")
def upstream_style_elf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("upstream_style") / "upstream_style.elf"
    includes = [GEMMINI, GEMMINI / "include", GEMMINI / "isa"]
    return build_elf([GEMMINI / "tests" / "upstream_style.c"], out, includes, {"BAREMETAL": "1"})


def test_gemmini_headers_compile_without_warnings():
    source = GEMMINI / "tests" / "upstream_style.c"
    cmd = [find_gcc(), *ARCH_FLAGS, "-O2", "-std=gnu11", "-Wall", "-Wextra", "-Werror",
           "--specs=picolibc.specs", "-fsyntax-only", f"-I{GEMMINI}", f"-I{GEMMINI / 'include'}",
           f"-I{GEMMINI / 'isa'}", f"-I{RUNTIME_DIR}", str(source)]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_upstream_style_program_passes_on_gemmini(rig, upstream_style_elf):
    run = run_spike(upstream_style_elf, extension=rig.extension, timeout_s=120)
    assert "PASS" in run.stdout.splitlines(), run.stdout[-2000:]


def test_header_uses_the_generated_command_codes():
    # gemmini.h must take its funct7 codes from the generated table, never retype them.
    header = (GEMMINI / "include" / "gemmini.h").read_text()
    assert '#include "gemmini_commands.h"' in header
    for name in isa.COMMANDS:
        assert f"#define k_{name} " not in header, f"k_{name} retyped in gemmini.h"
