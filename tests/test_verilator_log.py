"""The Verilator log parser and command line, on hand-written logs in Chipyard's format.

The logs below follow Chipyard's TestDriver.v / testchipip SimTSI output: Verilog's %d pads a
64-bit count to 20 columns, the timeout reason is a fixed-width string register, +verbose adds
Rocket's commit trace (`C0: <cycle> [<valid>] pc=[...] ...`) on stderr.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ivit_gemmini.errors import UserError
from ivit_gemmini.simulate.verilator import (
    FAILURE_TIMEOUT,
    FAILURE_TRUNCATED,
    check_simulator,
    parse_verilator_log,
    verilator_command,
)

PROGRAM = [
    "ivit-gemmini firmware: image cat",
    "IVIT-LOGITS begin",
    "281 1032",
    "285 -77",
    "IVIT-LOGITS end",
    "IVIT-DONE status=0",
]
TRACE = (
    "C0:      41235 [1] pc=[0000000080000a3c] W[r10=0000000000000001][1] "
    "R[r10=0000000000000000] R[r 0=0000000000000000] inst=[00150513] addi    a0, a0, 1"
)

PASSED_LOG = "\n".join(
    [
        "[UART] UART0 is here (stdin/stdout).",
        *PROGRAM[:3],
        TRACE,
        *PROGRAM[3:],
        TRACE,
        "*** PASSED *** Completed after              1234567 simulation cycles",
        "- /work/chipyard/sims/verilator/output/model.elf",
    ]
)

TIMEOUT_LOG = "\n".join(
    [
        *PROGRAM[:2],
        "*** FAILED ***                       (timeout) after              5000001 "
        "simulation cycles",
        "%Error: TestDriver.v:166: Verilog $fatal",
        "Aborting...",
    ]
)

EXIT_CODE_LOG = "\n".join(
    [
        "IVIT-TRAP mcause=0x5 mepc=0x80000a3c mtval=0x0",
        "*** FAILED *** (tohost = 133)",
        "[938305000] %Error: TestHarness.sv:99: Assertion failed: *** FAILED *** "
        "(exit code =        133)",
        "%Error: TestHarness.sv:99: Verilog $stop",
    ]
)


def test_passed_log_gives_cycles_and_program_lines_without_trace() -> None:
    result = parse_verilator_log(PASSED_LOG, returncode=0)
    assert result.passed
    assert result.cycles == 1234567
    assert result.failure is None
    assert result.program_lines == PROGRAM
    assert result.program_output == "\n".join(PROGRAM) + "\n"


def test_timeout_log_names_timeout_and_cycles() -> None:
    result = parse_verilator_log(TIMEOUT_LOG, returncode=1)
    assert not result.passed
    assert result.failure == FAILURE_TIMEOUT
    assert result.cycles == 5000001
    assert result.program_lines == PROGRAM[:2]


def test_timeout_line_without_padding_is_also_read() -> None:
    log = "*** FAILED *** (timeout) after 77 simulation cycles\n"
    result = parse_verilator_log(log)
    assert (result.passed, result.failure, result.cycles) == (False, FAILURE_TIMEOUT, 77)


def test_truncated_log_has_no_verdict() -> None:
    # The job was killed mid-run: program output stops, no PASSED/FAILED line.
    log = "\n".join([*PROGRAM[:3], TRACE, TRACE[:40]])
    result = parse_verilator_log(log)
    assert not result.passed
    assert result.failure == FAILURE_TRUNCATED
    assert result.cycles is None
    assert result.program_lines == PROGRAM[:3]  # a cut-off trace line is still trace


def test_truncated_log_with_nonzero_exit_names_the_exit_code() -> None:
    result = parse_verilator_log("\n".join(PROGRAM[:2]), returncode=137)
    assert not result.passed
    assert result.failure is not None and "137" in result.failure


def test_program_exit_code_failure() -> None:
    result = parse_verilator_log(EXIT_CODE_LOG, returncode=1)
    assert not result.passed
    assert result.failure == "exit code 133"
    assert result.cycles is None
    assert result.program_lines == ["IVIT-TRAP mcause=0x5 mepc=0x80000a3c mtval=0x0"]


def test_passed_line_from_failing_process_is_a_failure() -> None:
    result = parse_verilator_log(PASSED_LOG, returncode=3)
    assert not result.passed
    assert result.failure is not None and "3" in result.failure


def test_empty_log_is_truncated() -> None:
    result = parse_verilator_log("")
    assert (result.passed, result.failure, result.program_lines) == (False, FAILURE_TRUNCATED, [])


def test_command_line_is_chipyards() -> None:
    cmd = verilator_command(
        Path("/c/simulator-chipyard.harness-GemminiRocketConfig"),
        Path("/r/model.elf"),
        dramsim_ini_dir=Path("/c/dramsim2_ini"),
        max_cycles=10_000_000,
    )
    assert cmd == [
        "/c/simulator-chipyard.harness-GemminiRocketConfig",
        "+permissive",
        "+dramsim",
        "+dramsim_ini_dir=/c/dramsim2_ini",
        "+max-cycles=10000000",
        "+loadmem=/r/model.elf",
        "+verbose",
        "+permissive-off",
        "/r/model.elf",
    ]


def test_command_without_dramsim_leaves_out_its_plusargs() -> None:
    cmd = verilator_command(Path("sim"), Path("p.elf"), dramsim_ini_dir=None, max_cycles=5)
    assert cmd == [
        "sim",
        "+permissive",
        "+max-cycles=5",
        "+loadmem=p.elf",
        "+verbose",
        "+permissive-off",
        "p.elf",
    ]


def test_command_rejects_nonpositive_max_cycles() -> None:
    with pytest.raises(UserError, match="max_cycles"):
        verilator_command(Path("s"), Path("e"), dramsim_ini_dir=Path("d"), max_cycles=0)


def test_check_simulator_errors(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(UserError, match="does not exist"):
        check_simulator(missing)
    with pytest.raises(UserError, match="not a file"):
        check_simulator(tmp_path)
    plain = tmp_path / "sim"
    plain.write_text("#!/bin/sh\n")
    plain.chmod(0o644)
    with pytest.raises(UserError, match="chmod"):
        check_simulator(plain)
    plain.chmod(0o755)
    assert check_simulator(plain) == plain
    with pytest.raises(UserError, match="dramsim"):
        check_simulator(plain, tmp_path / "no-ini")
    assert check_simulator(plain, tmp_path) == plain


def test_user_error_messages_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(UserError) as info:
        check_simulator(tmp_path / "nope")
    assert "\n" not in str(info.value)
