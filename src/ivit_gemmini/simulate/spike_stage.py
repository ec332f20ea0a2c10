"""The `spike` backend for one image: run its ELF, keep the log, parse it, write the logits.

Order matters: the log is written first (also after a timeout, with what Spike printed until
then), the statistics next, and the logits last, only when the run is complete and parsed.
A trap, a timeout, a missing marker or a cut log raises a one-line `UserError` and leaves no
logits file behind.
"""

from __future__ import annotations

import dataclasses
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ivit_gemmini.errors import UserError
from ivit_gemmini.evaluate.logits import save_logits
from ivit_gemmini.firmware.toolchain import DEFAULT_MEMORY_MB
from ivit_gemmini.io import atomic_path, atomic_write_text
from ivit_gemmini.simulate import spike
from ivit_gemmini.simulate.prediction_log import PredictionLog, parse_prediction_log


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode("utf-8", "replace")


def write_run_log(path: Path, stdout: str, stderr: str, header: str) -> None:
    """The kept Spike log: the command line, then stdout, then stderr."""
    atomic_write_text(path, f"# {header}\n{stdout}\n# --- spike stderr ---\n{stderr}")


def _children_cpu() -> float:
    """CPU seconds of this process's finished children (Spike's, measured by the kernel)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_spike_logged(elf: Path, extension: Path | None, timeout_s: float,
                     log_path: Path, memory_mb: int = DEFAULT_MEMORY_MB,
                     ) -> tuple[spike.SpikeRun, dict[str, Any]]:
    """Run `elf` on Spike; always keep the log at `log_path`; raise UserError on any failure.

    Returns the checked run and the Gemmini extension's statistics (empty without one).
    """
    if not Path(elf).is_file():
        raise UserError(f"ELF {elf} does not exist: run build_firmware_elf first")
    cmd = spike.spike_command(Path(elf), extension, memory_mb=memory_mb)
    with tempfile.TemporaryDirectory(prefix="ivit-spike-") as tmp:
        stats_path = Path(tmp) / "gemmini_stats.json"
        env = dict(os.environ, GEMMINI_STATS=str(stats_path))
        start, children_before = time.monotonic(), _children_cpu()
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s,
                                  env=env, check=False)
        except subprocess.TimeoutExpired as exc:
            write_run_log(log_path, _text(exc.stdout), _text(exc.stderr),
                          f"TIMEOUT after {timeout_s:g} s: {' '.join(cmd)}")
            raise UserError(
                f"spike timed out after {timeout_s:g} s on {Path(elf).name} (log: {log_path}): "
                "raise config spike.timeout_s or look for an endless loop"
            ) from None
        wall, cpu = time.monotonic() - start, _children_cpu() - children_before
        write_run_log(log_path, proc.stdout, proc.stderr,
                      f"exit {proc.returncode} after {wall:.3f} s: {' '.join(cmd)}")
        stats: dict[str, Any] = {}
        if stats_path.is_file():
            stats = json.loads(stats_path.read_text(encoding="utf-8"))
    try:
        run = spike.check_run(Path(elf), proc.stdout, proc.stderr, proc.returncode, wall, stats)
        run = dataclasses.replace(run, cpu_s=round(cpu, 3))
    except UserError as err:
        raise UserError(f"{err} (log: {log_path})") from None
    return run, stats


def run_spike_image(
    elf: Path,
    extension: Path | None,
    *,
    timeout_s: float,
    log_path: Path,
    logits_path: Path,
    stats_path: Path,
    num_classes: int | None = None,
    memory_mb: int = DEFAULT_MEMORY_MB,
) -> PredictionLog:
    """The whole `run_spike` rule: log, statistics JSON, then logits."""
    run, gemmini_stats = run_spike_logged(Path(elf), extension, timeout_s, Path(log_path),
                                          memory_mb)
    block = parse_prediction_log(run.stdout, source=f"spike log {log_path}",
                                 num_classes=num_classes)
    stats = {
        "elf": str(elf),
        "wall_s": run.wall_s,
        "cpu_s": run.cpu_s,
        "kernels": block.counters_json(),
        "steps": block.steps_json(),
        "gemmini": gemmini_stats,
    }
    if "rtl" in gemmini_stats:  # spike-rtl: the mesh clock counted by the RTL, its utilization
        stats["rtl"] = gemmini_stats["rtl"]
    atomic_write_text(stats_path, json.dumps(stats, indent=2, sort_keys=True) + "\n")
    save_logits(logits_path, block.logits)
    return block


def run_spike_stage(elf: str, extension: str, manifest: str, *, timeout_s: float,
                    log_path: str, logits_path: str, stats_path: str,
                    memory_mb: int = DEFAULT_MEMORY_MB, backend: str = "spike") -> None:
    """The `run_spike` and `run_spike_rtl` rules (`backend` names which, for the message):
    sizes from the manifest, then `run_spike_image`."""
    arch = json.loads(Path(manifest).read_text(encoding="utf-8"))["arch"]
    block = run_spike_image(Path(elf), Path(extension), timeout_s=float(timeout_s),
                            log_path=Path(log_path), logits_path=Path(logits_path),
                            stats_path=Path(stats_path), num_classes=int(arch["num_classes"]),
                            memory_mb=int(memory_mb))
    total = block.counters["total"]
    print(f"{backend} {Path(elf).name}: top-5 {block.top}, {total.instret} instructions",
          file=sys.stderr)


def install_extension(cache_dir: str, out: str, *, params_header: str | None = None,
                      mesh: str = "functional", broken_pe: bool = False) -> Path:
    """Build the extension into `cache_dir` (reused when its sources and params header are
    unchanged) and copy it to `out`, the fixed path the workflow's rules depend on.
    `params_header`: a generated gemmini_params.h (None: the committed default).
    `mesh="rtl"`: the `spike-rtl` build, our RTL mesh Verilated for the header's DIM;
    `broken_pe`: its PE (0,0) with a wrong sign extension (fault injection for tests)."""
    params_dir = Path(params_header).parent if params_header is not None else None
    if params_header is not None and Path(params_header).name != "gemmini_params.h":
        raise UserError(f"{params_header} is not a gemmini_params.h: pass the generated header")
    built = spike.build_extension(Path(cache_dir), params_dir=params_dir, mesh=mesh,
                                  broken_pe=broken_pe)
    with atomic_path(out) as tmp:
        shutil.copyfile(built, tmp)
    return Path(out)
