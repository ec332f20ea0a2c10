"""The bare-metal runtime on Spike: console, exit status, traps, done marker, counters, and the
runner's failure modes (each a one-line UserError)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivit_gemmini.errors import UserError
from ivit_gemmini.firmware import toolchain
from ivit_gemmini.firmware.toolchain import build_elf
from ivit_gemmini.simulate.spike import run_spike

PROGRAMS = Path(__file__).resolve().parent / "spike_programs"


def build(tmp_path: Path, name: str, **defines: str) -> Path:
    return build_elf([PROGRAMS / f"{name}.c"], tmp_path / f"{name}.elf", [], defines=defines)


def test_hello_prints_done_marker_and_counters(tmp_path: Path) -> None:
    run = run_spike(build(tmp_path, "runtime_hello"), extension=None, timeout_s=60)
    assert "hello 42 1.500 10\n" in run.stdout
    assert "cycles-advanced 1\n" in run.stdout
    assert run.stdout.rstrip().endswith("IVIT-DONE status=0")
    assert run.status == 0 and run.exit_code == 0
    assert run.cycles is not None and run.instret is not None and run.instret > 1000


def test_nonzero_exit_status_is_an_error(tmp_path: Path) -> None:
    elf = build(tmp_path, "runtime_exit", EXIT_STATUS="3")
    with pytest.raises(UserError, match="exited with status 3"):
        run_spike(elf, extension=None, timeout_s=60)


def test_exit_zero_via_exit_succeeds(tmp_path: Path) -> None:
    run = run_spike(build(tmp_path, "runtime_exit", EXIT_STATUS="0"), extension=None, timeout_s=60)
    assert "exiting with 0" in run.stdout


def test_illegal_instruction_trap_is_reported(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"trapped on Spike: illegal instruction at pc 0x8") as e:
        run_spike(build(tmp_path, "runtime_trap"), extension=None, timeout_s=60)
    assert "mtval 0xffffffff" in str(e.value)
    assert "\n" not in str(e.value)


def test_load_fault_trap_names_the_address(tmp_path: Path) -> None:
    elf = build(tmp_path, "runtime_trap", LOAD_FAULT="1")
    with pytest.raises(UserError, match=r"load access fault .*mtval 0x40000000"):
        run_spike(elf, extension=None, timeout_s=60)


def test_missing_done_marker_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="without the IVIT-DONE marker"):
        run_spike(build(tmp_path, "runtime_silent"), extension=None, timeout_s=60)


def test_timeout_is_an_error(tmp_path: Path) -> None:
    elf = build(tmp_path, "runtime_silent", SPIN="1")
    with pytest.raises(UserError, match="timed out after 1 s"):
        run_spike(elf, extension=None, timeout_s=1)


def test_missing_compiler_names_debian_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(toolchain.shutil, "which", lambda _name: None)
    with pytest.raises(UserError, match="gcc-riscv64-unknown-elf"):
        build(tmp_path, "runtime_hello")


def test_missing_source_is_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        build_elf([tmp_path / "nope.c"], tmp_path / "x.elf", [])
