"""Running a Chipyard Verilator simulator (RTL with Gemmini) on an ELF and reading its verdict.

A Chipyard simulator (`sims/verilator/simulator-chipyard.harness-<Config>`, e.g. built with
`make CONFIG=GemminiRocketConfig`) takes harness plusargs between `+permissive` and
`+permissive-off`, then the ELF for the front-end server. Its test driver (TestDriver.v) writes to
stderr `*** PASSED *** Completed after N simulation cycles` (only with `+verbose`) or
`*** FAILED *** (timeout) after N simulation cycles` when `+max-cycles` is exceeded; Verilog's
`%d` pads N with spaces. A program that exits non-zero trips an assertion that prints
`*** FAILED *** (exit code = N)`. The program's own output (HTIF console) goes to stdout.
`+verbose` also makes the core print one commit-trace line per instruction on stderr: billions
for a whole network, so `run_verilator` drops those lines instead of keeping them in the log.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from ivit_gemmini.errors import UserError
from ivit_gemmini.io import atomic_write_text

FAILURE_TIMEOUT = "timeout"
FAILURE_TRUNCATED = "missing PASSED line (truncated log)"

_PASSED = re.compile(r"\*\*\* PASSED \*\*\* Completed after\s+(\d+)\s+simulation cycles")
# `reason` is a fixed-width Verilog string register: %s may pad it with spaces.
_TIMEOUT = re.compile(r"\*\*\* FAILED \*\*\*\s*\(timeout\)\s+after\s+(\d+)\s+simulation cycles")
_EXIT_CODE = re.compile(r"\*\*\* FAILED \*\*\*\s*\((?:exit code|tohost)\s*=\s*(\d+)\)")
_OTHER_FAILED = re.compile(r"\*\*\* FAILED \*\*\*.*")
# Rocket's commit trace under +verbose: `C0:      1234 [1] pc=[0000000080000000] W[r...`.
_COMMIT_TRACE = re.compile(r"^C\d+:\s+\d+\s+\[\d+\]\s+pc=\[")
# Lines the harness itself prints, never the program.
_HARNESS_LINE = re.compile(
    r"^(%Error|%Warning|%Fatal|Assertion failed|\*\*\* |using random seed|"
    r"This emulator compiled with|Listening on port|\[UART\] UART0 is here)"
)


@dataclass(frozen=True)
class VerilatorResult:
    """The verdict of one simulation, read from its log."""

    passed: bool
    cycles: int | None  # simulation cycles from the PASSED/FAILED line, None if not printed
    failure: str | None  # why it failed: "timeout", FAILURE_TRUNCATED, "exit code N", ...
    program_lines: list[str]  # the program's output before the verdict (prediction block etc.)

    @property
    def program_output(self) -> str:
        """The program's output as text, for the same parser as Spike's output."""
        return "".join(line + "\n" for line in self.program_lines)


@dataclass(frozen=True)
class VerilatorRun:
    """One finished (or killed) simulator process."""

    command: list[str]
    returncode: int | None  # None when killed for the wall-clock timeout
    log_text: str
    result: VerilatorResult
    elapsed_s: float
    dropped_trace_lines: int = 0
    wall_timed_out: bool = field(default=False)


def verilator_command(
    simulator: Path, elf: Path, *, dramsim_ini_dir: Path | None, max_cycles: int
) -> list[str]:
    """Chipyard's command line for running `elf` on `simulator` (as `make run-binary` does).

    Without a dramsim ini folder the DRAMSim2 plusargs are left out and Chipyard's SimDRAM
    falls back to its simple fixed-latency memory model.
    """
    if max_cycles <= 0:
        raise UserError(f"verilator max_cycles must be positive, got {max_cycles}: fix the config")
    dramsim = [] if dramsim_ini_dir is None else ["+dramsim", f"+dramsim_ini_dir={dramsim_ini_dir}"]
    return [
        str(simulator),
        "+permissive",
        *dramsim,
        f"+max-cycles={max_cycles}",
        f"+loadmem={elf}",
        "+verbose",
        "+permissive-off",
        str(elf),
    ]


def check_simulator(simulator: Path, dramsim_ini_dir: Path | None = None) -> Path:
    """Fail early, with one clear line, if the configured simulator cannot be run."""
    path = Path(simulator)
    hint = "set config verilator.simulator to a Chipyard sims/verilator/simulator-chipyard-* binary"
    if not path.exists():
        raise UserError(f"Verilator simulator {path} does not exist: {hint}")
    if not path.is_file():
        raise UserError(f"Verilator simulator {path} is not a file: {hint}")
    if not os.access(path, os.X_OK):
        raise UserError(f"Verilator simulator {path} is not executable: run chmod +x {path}")
    if dramsim_ini_dir is not None and not Path(dramsim_ini_dir).is_dir():
        raise UserError(
            f"dramsim ini folder {dramsim_ini_dir} does not exist: set config "
            "verilator.dramsim_ini_dir (in Chipyard: "
            "generators/testchipip/src/main/resources/dramsim2_ini)"
        )
    return path


def parse_verilator_log(text: str, returncode: int | None = None) -> VerilatorResult:
    """Read the verdict, cycle count and program output from a simulator log.

    `returncode` (the simulator's exit status, if known) only matters when the log has no
    verdict line or contradicts one: a PASSED line from a process that exited non-zero fails.
    """
    lines = text.splitlines()
    verdict_at = len(lines)
    passed = False
    cycles: int | None = None
    failure: str | None = FAILURE_TRUNCATED
    for i, line in enumerate(lines):
        if m := _PASSED.search(line):
            passed, cycles, failure = True, int(m.group(1)), None
        elif m := _TIMEOUT.search(line):
            cycles, failure = int(m.group(1)), FAILURE_TIMEOUT
        elif m := _EXIT_CODE.search(line):
            failure = f"exit code {int(m.group(1))}"
        elif m := _OTHER_FAILED.search(line):
            failure = m.group(0).strip()
        else:
            continue
        verdict_at = i
        break
    if failure == FAILURE_TRUNCATED and returncode not in (None, 0):
        failure = f"simulator exit code {returncode} without a verdict line"
    if passed and returncode not in (None, 0):
        passed, failure = False, f"simulator exit code {returncode} after the PASSED line"
    program = [
        line
        for line in lines[:verdict_at]
        if not _COMMIT_TRACE.match(line) and not _HARNESS_LINE.match(line)
    ]
    return VerilatorResult(passed=passed, cycles=cycles, failure=failure, program_lines=program)


def _pump(stream: IO[str], keep: list[str], dropped: list[int]) -> None:
    """Copy `stream` line by line into `keep`, counting (not keeping) commit-trace lines."""
    for line in stream:
        if _COMMIT_TRACE.match(line):
            dropped[0] += 1
        else:
            keep.append(line)


def run_verilator(
    simulator: Path,
    elf: Path,
    *,
    dramsim_ini_dir: Path | None,
    max_cycles: int,
    timeout_s: float,
    log_path: Path | None = None,
    env: dict[str, str] | None = None,
) -> VerilatorRun:
    """Run `elf` on the simulator, kill it after `timeout_s` wall seconds, parse its log.

    The log holds the program's output (stdout) followed by the harness messages (stderr), so
    the verdict line follows the program output. It is written to `log_path` if given.
    """
    check_simulator(simulator, dramsim_ini_dir)
    if not Path(elf).is_file():
        raise UserError(f"ELF {elf} does not exist: build the firmware first")
    command = verilator_command(
        simulator, elf, dramsim_ini_dir=dramsim_ini_dir, max_cycles=max_cycles
    )
    out: list[str] = []
    err: list[str] = []
    dropped = [0]
    start = time.monotonic()
    # Own session, so a timeout kills the simulator and anything it started, nothing else.
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
        env=env,
        start_new_session=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    pumps = [
        threading.Thread(target=_pump, args=(proc.stdout, out, [0]), daemon=True),
        threading.Thread(target=_pump, args=(proc.stderr, err, dropped), daemon=True),
    ]
    for t in pumps:
        t.start()
    wall_timed_out = False
    try:
        returncode: int | None = proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        wall_timed_out = True
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        returncode = None
    for t in pumps:
        t.join(timeout=10)
    proc.stdout.close()
    proc.stderr.close()
    elapsed = time.monotonic() - start
    log_text = "".join(out) + "".join(err)
    if wall_timed_out:
        log_text += f"[ivit-gemmini] simulator killed after the wall timeout of {timeout_s} s\n"
    if log_path is not None:
        atomic_write_text(log_path, log_text)
    result = parse_verilator_log(log_text, returncode)
    if wall_timed_out:
        result = VerilatorResult(
            passed=False,
            cycles=None,
            failure=f"wall timeout after {timeout_s:g} s",
            program_lines=result.program_lines,
        )
    return VerilatorRun(
        command=command,
        returncode=returncode,
        log_text=log_text,
        result=result,
        elapsed_s=elapsed,
        dropped_trace_lines=dropped[0],
        wall_timed_out=wall_timed_out,
    )


def require_passed(run: VerilatorRun, log_path: Path | str) -> VerilatorResult:
    """Return the result of a passing run; otherwise raise a one-line UserError naming why."""
    res = run.result
    if res.passed:
        return res
    if res.failure == FAILURE_TIMEOUT:
        hint = f"raise config verilator.max_cycles (stopped after {res.cycles} cycles)"
    elif res.failure and res.failure.startswith("wall timeout"):
        hint = "raise config verilator.timeout_s (and the SLURM runtime)"
    else:
        hint = "see the log"
    raise UserError(f"Verilator simulation failed ({res.failure}): {hint}; log: {log_path}")
