"""How many cycles does a matmul take on Gemmini? The MODELLED answer of our Spike extension.

`python -m ivit_gemmini.gemmini.cycles matmul I K J [--config FILE] [--dataflow WS|OS] [--bias]`
builds a bare-metal program that makes one cold `tiled_matmul_auto` call (gemmini.h, the same
header the firmware uses) of that shape, runs it on Spike with the extension, and prints one
JSON object: `cycles` (the extension's timing model, from the call's start to the return of its
fence), the busy cycles of the `load`, `execute` and `store` controllers, `utilization`
(I*J*K / (DIM^2 * cycles)) and the `config`. Every figure is modelled, never measured: the model
and its calibration against published RTL measurements are described in docs/timing-model.md.
The operands are zeros in a static buffer sized for the call (timing does not depend on values),
so any size that fits the firmware's RAM works.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ivit_gemmini.errors import UserError
from ivit_gemmini.gemmini.config import (
    GemminiConfig,
    config_fields,
    config_from_workflow,
    write_params_header,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
RUNNER_SOURCE = REPO_ROOT / "gemmini" / "tests" / "cycles_runner.c"
CACHE = Path(tempfile.gettempdir()) / "ivit-gemmini-cache" / "cycles"
# The extension builds where the tests and benchmarks build theirs (cached by content).
EXTENSION_DIR = REPO_ROOT / "build" / "spike"
# The firmware's RAM is 448 MiB (firmware/toolchain.py); leave room for code and stack.
MAX_ARENA_BYTES = 256 << 20
MAX_DIM = 65535 * 16  # LOOP_WS bounds are 16-bit block counts


@dataclass(frozen=True)
class MatmulCall:
    """One `tiled_matmul_auto` call: C (I x J) = act(A (I x K) @ B (K x J) [+ D])."""

    I: int  # noqa: E741 - the matmul's own letters
    K: int
    J: int
    dataflow: str = "WS"
    bias: bool = False
    relu: bool = False

    def __post_init__(self) -> None:
        for name in ("I", "K", "J"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_DIM:
                raise UserError(f"matmul {name} = {value!r} must be an integer in 1..{MAX_DIM}")
        if self.dataflow not in ("WS", "OS"):
            raise UserError(f"dataflow {self.dataflow!r} must be WS or OS")

    @property
    def arena_bytes(self) -> int:
        ab = (self.I * self.K + self.K * self.J + 63) & ~63
        return ab + self.I * self.J * 4 + self.I * self.J

    def c_row(self) -> str:
        return f"{{{self.I}, {self.K}, {self.J}, {int(self.dataflow == 'WS')}, " \
               f"{int(self.bias)}, {int(self.relu)}}}"


def _params_dir(config: GemminiConfig, cache: Path) -> Path | None:
    """None for the default configuration (the committed header), else a generated header."""
    if config == GemminiConfig():
        return None
    key = hashlib.sha256(json.dumps(config_fields(config), sort_keys=True).encode()).hexdigest()
    folder = cache / f"params-{key[:16]}"
    if not (folder / "gemmini_params.h").is_file():
        write_params_header(config, folder / "gemmini_params.h")
    return folder


def run_calls(
    calls: Sequence[MatmulCall],
    *,
    config: GemminiConfig | None = None,
    cache: Path = CACHE,
    timeout_s: float = 600.0,
) -> dict[str, Any]:
    """Run `calls` (in order, in one program) on Spike + the extension; return its stats JSON.

    The JSON's `gemmini_cycles_modelled` is the sum of the calls' modelled cycles (each call ends
    with a fence, so each is one segment, `gemmini_segments` = len(calls))."""
    from ivit_gemmini.firmware.toolchain import DEFAULT_MEMORY_MB, build_elf
    from ivit_gemmini.simulate.spike import build_extension, run_spike

    if not calls:
        raise UserError("no matmul to time")
    config = config or GemminiConfig()
    arena = max(call.arena_bytes for call in calls)
    if arena > MAX_ARENA_BYTES:
        raise UserError(f"the operands take {arena} bytes, more than the {MAX_ARENA_BYTES} the "
                        "program's RAM holds: time a smaller matmul")
    cache.mkdir(parents=True, exist_ok=True)
    params = _params_dir(config, cache)
    extension = build_extension(EXTENSION_DIR, params_dir=params)
    defines = {"CYCLES_CALLS": "{" + ", ".join(c.c_row() for c in calls) + "}",
               "CYCLES_ARENA_BYTES": str(arena)}
    includes = ([params] if params else []) + [REPO_ROOT / "gemmini" / "include",
                                               REPO_ROOT / "gemmini" / "isa"]
    # The arena is a static array: give the program room for it beside code, stack and heap.
    memory_mb = max(DEFAULT_MEMORY_MB, -(-arena // (1 << 20)) + 64)
    # The key covers everything the ELF is built from, the runtime and its linker script included
    # (an ELF cached before a runtime change would otherwise run with the wrong memory map).
    digest = hashlib.sha256(RUNNER_SOURCE.read_bytes())
    for folder in ("include", "runtime"):
        for source in sorted((REPO_ROOT / "gemmini" / folder).iterdir()):
            if source.is_file():
                digest.update(source.name.encode() + source.read_bytes())
    digest.update(json.dumps([defines, [str(i) for i in includes], memory_mb]).encode())
    elf = cache / f"cycles-{digest.hexdigest()[:16]}.elf"
    if not elf.is_file():
        build_elf([RUNNER_SOURCE], elf, includes, defines, memory_mb=memory_mb)
    with tempfile.TemporaryDirectory(prefix="ivit-cycles-") as tmp:
        stats_path = Path(tmp) / "stats.json"
        run = run_spike(elf, extension=extension, timeout_s=timeout_s, stats_json=stats_path,
                        memory_mb=memory_mb)
    if f"CYCLES-DONE {len(calls)}" not in run.stdout or not run.stats:
        raise UserError(f"the timing program did not finish; its output:\n{run.stdout[-2000:]}")
    return run.stats


def matmul_cycles(call: MatmulCall, config: GemminiConfig | None = None,
                  cache: Path = CACHE) -> dict[str, Any]:
    """The modelled cycles of one cold `tiled_matmul_auto` call, as the command prints them."""
    config = config or GemminiConfig()
    stats = run_calls([call], config=config, cache=cache)
    cycles = int(stats["gemmini_cycles_modelled"])
    peak = config.dim * config.dim * cycles
    return {
        "matmul": {"I": call.I, "K": call.K, "J": call.J, "dataflow": call.dataflow,
                   "bias": call.bias},
        "cycles": cycles,
        "load": int(stats["cycles"]["load"]),
        "execute": int(stats["cycles"]["execute"]),
        "store": int(stats["cycles"]["store"]),
        "utilization": round(call.I * call.J * call.K / peak, 4),
        "kind": "modelled (Spike extension timing model, calibrated on published RTL "
                "measurements: docs/timing-model.md)",
        "events": stats.get("events", {}),
        "timing_model": stats.get("timing_model", {}),
        "config": config_fields(config),
    }


def load_config_file(path: Path) -> GemminiConfig:
    """The GemminiConfig of a workflow config file's `gemmini:` section."""
    import yaml

    if not path.is_file():
        raise UserError(f"config file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise UserError(f"config file {path} is not valid YAML: {err}".replace("\n", " ")) from None
    if not isinstance(data, dict) or not isinstance(data.get("gemmini", {}), dict):
        raise UserError(f"config file {path} has no `gemmini:` mapping")
    return config_from_workflow(data.get("gemmini", {}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ivit_gemmini.gemmini.cycles",
        description="Modelled Gemmini cycles of one tiled_matmul_auto call (Spike + extension).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    mm = sub.add_parser("matmul", help="C (I x J) = A (I x K) @ B (K x J)")
    for name in ("I", "K", "J"):
        mm.add_argument(name, type=int)
    mm.add_argument("--config", type=Path, help="workflow config file (its gemmini: section)")
    mm.add_argument("--dataflow", choices=("WS", "OS"), default="WS")
    mm.add_argument("--bias", action="store_true", help="add an int32 bias D (I x J)")
    args = parser.parse_args(argv)
    try:
        config = load_config_file(args.config) if args.config else GemminiConfig()
        result = matmul_cycles(MatmulCall(args.I, args.K, args.J, args.dataflow, args.bias),
                               config)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
