"""Benchmark: the model on Spike, per image, split per kernel kind; plus build and link times.

Measures, from a results tree the workflow has built (model.tar, manifest, int8 inputs):
  - build time of the model library (model.tar -> libmodel.a, compiled from scratch),
  - link time per image (input object + main + runtime + libmodel.a -> ELF),
  - per image on Spike with our Gemmini extension: retired instructions in total, on Gemmini
    kernels (the core's instructions that drive Gemmini) and on core kernels (Shiftmax, GELU,
    LayerNorm, requantization, ...), Spike wall time, and the extension's MAC count.
Targets for DeiT-tiny (issue 5): <= 400 M instructions and <= 10 s per image (aim 250 M / 2 s).

    python benchmarks/bench_spike_inference.py [--results results] [--config NAME]
        [--images chelsea coffee] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ivit_gemmini.errors import UserError
from ivit_gemmini.firmware.elf import (
    build_firmware_elf_from_manifest,
    build_model_library,
    default_jobs,
)
from ivit_gemmini.simulate.spike import build_extension
from ivit_gemmini.simulate.spike_stage import run_spike_image

REPO = Path(__file__).resolve().parents[1]
TARGET_INSTRET = 400e6
TARGET_WALL_S = 10.0


def _macs(stats: dict[str, Any]) -> int | None:
    """Useful MACs done by the extension (gemmini/spike/stats.cc), None without it."""
    value = stats.get("macs_useful")
    return value if isinstance(value, int) else None


def _gemmini_cycles(stats: dict[str, Any]) -> int | None:
    """The extension's modelled Gemmini cycles (its timing model, docs/timing-model.md)."""
    value = stats.get("gemmini_cycles_modelled")
    return value if isinstance(value, int) else None


def _instret(counters: dict[str, Any], kind: str) -> int | None:
    return counters[kind].instret if kind in counters else None


def _by_kernel(steps: list[Any]) -> dict[str, dict[str, Any]]:
    """Instructions per kernel family (TVM's numeric suffixes stripped: fused_add3 -> fused_add),
    so the table shows where the core's instructions go."""
    out: dict[str, dict[str, Any]] = {}
    for step in steps:
        family = re.sub(r"\d+(?=_|$)", "", step.name)
        entry = out.setdefault(family, {"kind": step.kind, "calls": 0, "instret": 0})
        entry["calls"] += 1
        entry["instret"] += step.instret
    return dict(sorted(out.items(), key=lambda kv: -kv[1]["instret"]))


def bench(
    results: Path, config: str, images: list[str], timeout_s: float, archive: Path | None
) -> dict[str, Any]:
    archive = archive or results / "build" / config / "model.tar"
    manifest = results / "model" / "manifest.json"
    extension = build_extension(REPO / "build" / "spike")
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="ivit-bench-") as tmp_name:
        tmp = Path(tmp_name)
        start = time.perf_counter()
        library = build_model_library(archive, tmp / "libmodel.a", jobs=default_jobs())
        build_s = time.perf_counter() - start
        for image in images:
            start = time.perf_counter()
            elf = build_firmware_elf_from_manifest(
                library, results / "inputs" / f"{image}.bin", manifest, tmp / f"{image}.elf"
            )
            link_s = time.perf_counter() - start
            num_classes = json.loads(manifest.read_text())["arch"]["num_classes"]
            block = run_spike_image(
                elf,
                extension,
                timeout_s=timeout_s,
                log_path=tmp / f"{image}.log",
                logits_path=tmp / f"{image}.npy",
                stats_path=tmp / f"{image}.json",
                num_classes=num_classes,
            )
            stats = json.loads((tmp / f"{image}.json").read_text())
            counters = block.counters
            rows.append(
                {
                    "image": image,
                    "link_s": link_s,
                    "wall_s": stats["wall_s"],
                    "instret_total": counters["total"].instret,
                    "instret_gemmini": _instret(counters, "gemmini"),
                    "instret_core": _instret(counters, "core"),
                    "kernels": block.counters_json(),
                    "gemmini_macs": _macs(stats.get("gemmini", {})),
                    "gemmini_model_cycles": _gemmini_cycles(stats.get("gemmini", {})),
                    "top5": block.top,
                "kernels_by_name": _by_kernel(block.steps),
                }
            )
    return {
        "archive": str(archive),
        "library_build_s": build_s,
        "images": rows,
        "target_instret": TARGET_INSTRET,
        "target_wall_s": TARGET_WALL_S,
    }


def _m(value: int | None) -> str:
    return "-" if value is None else f"{value / 1e6:.1f}"


def print_table(result: dict[str, Any]) -> None:
    print(f"model library build: {result['library_build_s']:.2f} s  ({result['archive']})")
    head = (
        "image",
        "link s",
        "spike s",
        "instr M",
        "gemmini-kernel instr M",
        "core instr M",
        "Gemmini MACs M",
        "Gemmini model cycles M",
        "<= 400 M",
        "<= 10 s",
    )
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" for _ in head) + "|")
    for r in result["images"]:
        instr_ok = "met" if r["instret_total"] <= TARGET_INSTRET else "MISSED"
        wall_ok = "met" if r["wall_s"] <= TARGET_WALL_S else "MISSED"
        print(
            f"| {r['image']} | {r['link_s']:.2f} | {r['wall_s']:.2f} | "
            f"{_m(r['instret_total'])} | {_m(r['instret_gemmini'])} | {_m(r['instret_core'])} "
            f"| {_m(r['gemmini_macs'])} | {_m(r['gemmini_model_cycles'])} "
            f"| {instr_ok} | {wall_ok} |"
        )


def print_kernels(result: dict[str, Any], top: int) -> None:
    """The `top` most expensive kernel families of the first image."""
    if not result["images"] or top <= 0:
        return
    first = result["images"][0]
    print(f"\nwhere the instructions go ({first['image']}, top {top} kernel families):")
    print("| kernel | kind | calls | instr M | share |")
    print("|---|---|---|---|---|")
    for name, k in list(first["kernels_by_name"].items())[:top]:
        share = k["instret"] / first["instret_total"] if first["instret_total"] else 0.0
        print(f"| {name} | {k['kind']} | {k['calls']} | {k['instret'] / 1e6:.1f} "
              f"| {share:.1%} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--results",
        type=Path,
        default=Path("results"),
        help="results folder of a workflow run (default: results)",
    )
    parser.add_argument("--config", default=None,
                        help="build config (results/build/<it>; default: the only one there)")
    parser.add_argument(
        "--archive",
        type=Path,
        default=None,
        help="model.tar to use instead of results/build/<config>/model.tar",
    )
    parser.add_argument(
        "--images", nargs="*", default=None, help="image ids (default: every results/inputs/*.bin)"
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="per-image Spike limit, s")
    parser.add_argument("--kernels", type=int, default=12,
                        help="list this many most expensive kernel families (0: none)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    images = args.images or sorted(p.stem for p in (args.results / "inputs").glob("*.bin"))
    try:
        if not images:
            raise UserError(f"no inputs in {args.results / 'inputs'}: run the workflow first")
        if args.config is None and args.archive is None:
            built = sorted(p.parent.name for p in (args.results / "build").glob("*/model.tar"))
            if len(built) != 1:
                raise UserError(f"{len(built)} model libraries in {args.results / 'build'}: "
                                "name one with --config")
            args.config = built[0]
        result = bench(args.results, args.config, images, args.timeout, args.archive)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print_table(result)
    print_kernels(result, args.kernels)
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
