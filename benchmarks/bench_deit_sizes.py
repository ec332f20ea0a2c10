"""Benchmark: DeiT-small and DeiT-base end to end within the configured SoC memory.

Per size: a seeded demo checkpoint with the real DeiT architecture (model/demo.py; random
weights, predictions mean nothing), then the real workflow (Snakemake, backends torch-int and
spike) on one demo photograph with `firmware.memory_mb` (default 256, rocket-chip's default
memory port). Prints, per size: whether Spike's logits equal torch-int's (compared here with
numpy, besides the workflow's own agreement check), the ELF's memory (parameters + code,
data + bss, the whole linked footprint up to the top of the stack, from the ELF's symbols),
Spike's wall time (measured, a clock), retired instructions (counted) and the workflow's wall
time (measured). It also links the model for too small a memory and checks that the build is
refused with one line naming firmware.memory_mb.

    python benchmarks/bench_deit_sizes.py [--sizes small base] [--memory-mb 256]
        [--workdir DIR] [--json out.json]

Heavy (DeiT-base: minutes of TVM compilation and a few GB of RAM): not part of the tests.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ivit_gemmini.errors import UserError
from ivit_gemmini.firmware.elf import build_firmware_elf_from_manifest
from ivit_gemmini.firmware.toolchain import MEMORY_BASE
from ivit_gemmini.model.architecture import DEIT_BASE, DEIT_SMALL, DEIT_TINY, Architecture

REPO = Path(__file__).resolve().parents[1]
SIZES: dict[str, Architecture] = {"tiny": DEIT_TINY, "small": DEIT_SMALL, "base": DEIT_BASE}
IMAGE = "chelsea"  # the demo cat
MIB = 1 << 20


def make_checkpoint(arch: Architecture, folder: Path) -> tuple[Path, Path]:
    """The demo photographs and a demo checkpoint of `arch` calibrated on them."""
    from ivit_gemmini.model.demo import make_demo_checkpoint
    from ivit_gemmini.model.images import export_demo_images, load_preprocessed

    images = export_demo_images(folder / "images")
    checkpoint = folder / "checkpoint.pth"
    if not checkpoint.is_file():
        make_demo_checkpoint(load_preprocessed(images, arch.image_size), checkpoint, arch=arch)
    return folder / "images", checkpoint


def elf_memory(elf: Path) -> dict[str, float]:
    """MiB of the ELF's parts, from its symbols (ivit.ld's layout)."""
    out = subprocess.run(["riscv64-unknown-elf-nm", str(elf)], capture_output=True, text=True,
                         check=True).stdout
    sym = {p[2]: int(p[0], 16) for p in map(str.split, out.splitlines()) if len(p) == 3}
    return {
        "code_params_mib": (sym["__data_start"] - MEMORY_BASE) / MIB,
        "data_bss_mib": (sym["__bss_end"] - sym["__data_start"]) / MIB,
        "footprint_mib": (sym["__stack"] - MEMORY_BASE) / MIB,
    }


def bench_size(name: str, workdir: Path, memory_mb: int, timeout_s: float) -> dict[str, Any]:
    arch = SIZES[name]
    workdir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    images, checkpoint = make_checkpoint(arch, workdir)
    checkpoint_s = time.perf_counter() - start
    config = {
        "checkpoint": str(checkpoint),
        "images": [str(p) for p in sorted(images.iterdir()) if p.stem == IMAGE],
        "backends": ["torch-int", "spike"],
        "firmware": {"memory_mb": memory_mb},
        "spike": {"timeout_s": timeout_s},
    }
    (workdir / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
         "--directory", str(workdir), "--configfile", str(workdir / "config.yaml"),
         "--cores", "2"],
        capture_output=True, text=True, check=False, cwd=workdir)
    workflow_s = time.perf_counter() - start
    if proc.returncode != 0:
        errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error")]
        raise UserError(f"DeiT-{name}: the workflow failed: {errors or proc.stderr[-2000:]}")
    res = workdir / "results"
    torch_int = np.load(res / "logits" / "torch-int" / f"{IMAGE}.npy")
    spike_file = next((res / "logits" / "spike").glob(f"*/{IMAGE}.npy"))  # <config>/<image>
    cfg = spike_file.parent.name
    spike = np.load(spike_file)
    stats = json.loads((res / "stats" / "spike" / cfg / f"{IMAGE}.json").read_text(
        encoding="utf-8"))
    # The workflow's ELFs are temporary (one copy of the params per configuration): link the
    # image's ELF again, as the spike shard job did, to measure its memory.
    from ivit_gemmini.firmware.elf import build_firmware_elf_from_manifest

    elf = build_firmware_elf_from_manifest(
        res / "build" / cfg / "libmodel.a", res / "inputs" / f"{IMAGE}.bin",
        res / "model" / "manifest.json", res / "elf" / cfg / f"{IMAGE}.elf", memory_mb=memory_mb)
    row: dict[str, Any] = {
        "size": name,
        "memory_mb": memory_mb,
        "identical": bool(np.array_equal(torch_int, spike)),
        "checkpoint_s": checkpoint_s,
        "workflow_s": workflow_s,
        "spike_wall_s": stats["wall_s"],
        "instret": stats["kernels"]["total"]["instret"],
        **elf_memory(elf),
    }
    row["refused_below"] = refusal(elf.parent.parent.parent / "build" / elf.parent.name,
                                   res, int(row["footprint_mib"]) // 2)
    return row


def refusal(build: Path, res: Path, memory_mb: int) -> str:
    """Link the model for `memory_mb` MiB (too small): the one-line error, or 'NOT REFUSED'."""
    with tempfile.TemporaryDirectory(prefix="ivit-small-") as tmp:
        try:
            build_firmware_elf_from_manifest(build / "libmodel.a", res / "inputs" / f"{IMAGE}.bin",
                                             res / "model" / "manifest.json",
                                             Path(tmp) / "x.elf", memory_mb=memory_mb)
        except UserError as err:
            return str(err)
    return "NOT REFUSED"


def print_table(rows: list[dict[str, Any]]) -> None:
    head = ("DeiT", "memory_mb", "spike == torch-int", "params+code MiB", "data+bss MiB",
            "footprint MiB", "spike s", "instr M", "workflow s")
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" for _ in head) + "|")
    for r in rows:
        print(f"| {r['size']} | {r['memory_mb']} | {'yes' if r['identical'] else 'NO'} "
              f"| {r['code_params_mib']:.1f} | {r['data_bss_mib']:.1f} "
              f"| {r['footprint_mib']:.1f} | {r['spike_wall_s']:.1f} | {r['instret'] / 1e6:.0f} "
              f"| {r['workflow_s']:.0f} |")
    for r in rows:
        print(f"DeiT-{r['size']} linked for half its footprint: {r['refused_below']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="*", default=["small", "base"], choices=list(SIZES))
    parser.add_argument("--memory-mb", type=int, default=256,
                        help="firmware.memory_mb of the runs (default 256)")
    parser.add_argument("--timeout", type=float, default=1200.0, help="Spike limit, s")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="keep the runs here (default: a temporary folder)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ivit-deit-sizes-") as tmp:
        root = args.workdir or Path(tmp)
        try:
            rows = [bench_size(s, root / s, args.memory_mb, args.timeout) for s in args.sizes]
        except UserError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
    print_table(rows)
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0 if all(r["identical"] and r["refused_below"] != "NOT REFUSED" for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
