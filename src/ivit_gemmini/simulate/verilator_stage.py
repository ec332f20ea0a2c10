"""The `verilator` backend for one image: the same ELF as Spike on a Chipyard simulator.

Order matters, as for Spike: the simulator log is written first (also when the run fails),
the statistics next (with the harness's cycle count, for the performance table), the logits
last, only after a PASSED verdict and a complete prediction block. Any failure is a one-line
`UserError` and leaves no logits file.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ivit_gemmini.errors import UserError
from ivit_gemmini.evaluate.logits import save_logits
from ivit_gemmini.io import atomic_write_text
from ivit_gemmini.simulate.prediction_log import PredictionLog, parse_prediction_log
from ivit_gemmini.simulate.verilator import check_simulator, require_passed, run_verilator

README_SECTION = "README 'Running on a cluster (SLURM) and on RTL (Verilator)'"


def _optional_path(value: str | None) -> Path | None:
    return None if value in (None, "") else Path(str(value))


def check_verilator_config(section: Mapping[str, Any], backends: Sequence[str]) -> Path | None:
    """At workflow start-up: the configured simulator (None if there is none), or UserError.

    A simulator is checked whenever one is configured; the `verilator` backend needs one.
    """
    simulator = _optional_path(section.get("simulator"))
    if simulator is None:
        if "verilator" in backends:
            raise UserError(
                "backend verilator needs a Chipyard simulator: set config verilator.simulator "
                f"(see {README_SECTION}) or remove verilator from backends"
            )
        return None
    return check_simulator(simulator, _optional_path(section.get("dramsim_ini_dir")))


def run_verilator_image(
    elf: Path,
    *,
    simulator: Path,
    dramsim_ini_dir: Path | None,
    max_cycles: int,
    timeout_s: float,
    log_path: Path,
    logits_path: Path,
    stats_path: Path,
    num_classes: int | None = None,
) -> tuple[PredictionLog, int]:
    """The whole `run_verilator` rule: log, statistics JSON, then logits; returns the parsed
    block and the harness's simulation cycle count."""
    run = run_verilator(simulator, elf, dramsim_ini_dir=dramsim_ini_dir, max_cycles=max_cycles,
                        timeout_s=timeout_s, log_path=log_path)
    # The exact command into the stage log (stderr), so a failure can be rerun by hand.
    print(f"$ {shlex.join(run.command)}", file=sys.stderr)
    result = require_passed(run, log_path)
    block = parse_prediction_log(result.program_output, source=f"verilator log {log_path}",
                                 num_classes=num_classes)
    assert result.cycles is not None  # a PASSED line always carries its cycle count
    stats = {
        "elf": str(elf),
        "simulator": str(simulator),
        "max_cycles": max_cycles,
        "cycles": result.cycles,
        "wall_s": run.elapsed_s,
        "dropped_trace_lines": run.dropped_trace_lines,
        # Provenance: which SLURM job ran it (None for a local run).
        "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
        "kernels": block.counters_json(),
        "steps": block.steps_json(),
    }
    atomic_write_text(stats_path, json.dumps(stats, indent=2, sort_keys=True) + "\n")
    save_logits(logits_path, block.logits)
    return block, result.cycles


def run_verilator_stage(elf: str, manifest: str, *, simulator: str | None,
                        dramsim_ini_dir: str | None, max_cycles: int, timeout_s: float,
                        log_path: str, logits_path: str, stats_path: str) -> None:
    """The `run_verilator` rule: sizes from the manifest, then `run_verilator_image`."""
    sim = check_verilator_config({"simulator": simulator, "dramsim_ini_dir": dramsim_ini_dir},
                                 ["verilator"])
    assert sim is not None
    arch = json.loads(Path(manifest).read_text(encoding="utf-8"))["arch"]
    block, cycles = run_verilator_image(
        Path(elf), simulator=sim, dramsim_ini_dir=_optional_path(dramsim_ini_dir),
        max_cycles=int(max_cycles), timeout_s=float(timeout_s), log_path=Path(log_path),
        logits_path=Path(logits_path), stats_path=Path(stats_path),
        num_classes=int(arch["num_classes"]))
    print(f"verilator {Path(elf).name}: top-5 {block.top}, {cycles} simulation cycles",
          file=sys.stderr)
