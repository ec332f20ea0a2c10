"""Benchmark: the `spike-rtl` backend (Spike + our RTL mesh, Verilated) and the timing model
checked against the RTL's clock.

1. One DeiT-tiny image (the ELF a workflow run built, e.g. `make demo`: the demo checkpoint of
   model/demo.py) on `spike` and on `spike-rtl`: wall time and CPU time of the Spike process
   (measured), the mesh cycles the RTL clocked (counted by the RTL driver), simulated cycles
   per second, mesh utilization (useful MACs / (DIM^2 x cycles)), and whether both gave the
   same logits. Goal: <= 60 s wall per image on this 2-core machine.
2. The execute stage, same programs, both figures from ONE run of the spike-rtl extension:
   the timing model's execute-stage busy cycles (modelled, gemmini/spike/timing.cc) beside
   the RTL's counted streaming cycles (all clocks minus the idle clocks of drains: this
   bridge drains the mesh when an mvout reads results, where the hardware keeps streaming),
   plus the streaming formula M + (Q-1)*max(M, DIM) + 3*DIM - 2 measured on Gemmini's RTL
   (shared notes). Programs: tiled_matmul_auto (LOOP_WS) of a few
   sizes through the case runner; a gap over 5% is a bug in one of them.

Run: .venv/bin/python benchmarks/bench_spike_rtl.py [--elf results/elf/<config>/<image>.elf]
         [--skip-image] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ivit_gemmini.errors import UserError
from ivit_gemmini.gemmini.case_blob import build_runner, matmul_case, run_case
from ivit_gemmini.simulate.spike import build_extension
from ivit_gemmini.simulate.spike_stage import run_spike_image

REPO = Path(__file__).resolve().parents[1]
TARGET_WALL_S = 60.0
DIM = 16
# (I, K, J): small to DeiT-sized (197 tokens x 192 channels, the MLP's 192 -> 768)
MATMULS = [(16, 16, 16), (64, 64, 64), (128, 128, 128), (197, 192, 192), (197, 192, 768)]


def _cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def default_elf() -> Path:
    found = sorted((REPO / "results" / "elf").glob("*/*.elf"))
    if not found:
        raise UserError("no ELF under results/elf: run the workflow with backend spike first "
                        "(make demo), or pass --elf")
    return found[0]


def bench_image(elf: Path, num_classes: int) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    logits = {}
    with tempfile.TemporaryDirectory(prefix="ivit-bench-rtl-") as tmp_name:
        tmp = Path(tmp_name)
        for backend, mesh in (("spike", "functional"), ("spike-rtl", "rtl")):
            ext = build_extension(REPO / "build" / "spike", mesh=mesh)
            before = _cpu()
            run_spike_image(elf, ext, timeout_s=1800, log_path=tmp / f"{backend}.log",
                            logits_path=tmp / f"{backend}.npy", stats_path=tmp / f"{backend}.json",
                            num_classes=num_classes)
            cpu = _cpu() - before
            stats = json.loads((tmp / f"{backend}.json").read_text())
            logits[backend] = np.load(tmp / f"{backend}.npy")
            rows[backend] = {"wall_s": stats["wall_s"], "cpu_s": cpu, "rtl": stats.get("rtl"),
                             "execute_modelled": stats["gemmini"]["cycles"].get("execute"),
                             "macs_useful": stats["gemmini"]["macs_useful"]}
    rows["identical_logits"] = bool(np.array_equal(logits["spike"], logits["spike-rtl"]))
    return rows


def formula(rows: int, q: int, dim: int = DIM) -> int:
    """The execute-stage formula measured on Gemmini's RTL: Q weight tiles of M rows each."""
    return rows + (q - 1) * max(rows, dim) + 3 * dim - 2


def bench_matmuls() -> list[dict[str, Any]]:
    ext = build_extension(REPO / "build" / "spike", mesh="rtl")
    out = []
    with tempfile.TemporaryDirectory(prefix="ivit-bench-rtl-mm-") as tmp_name:
        tmp = Path(tmp_name)
        runner = build_runner(tmp / "runner")
        for i, k, j in MATMULS:
            rng = np.random.default_rng(i + k + j)
            a = rng.integers(-128, 128, (i, k), dtype=np.int8)
            b = rng.integers(-128, 128, (k, j), dtype=np.int8)
            case = matmul_case(a, b, None, dataflow="WS", scale=1 / 1024, dump=False)
            stats_path = tmp / "stats.json"
            run_case(runner, case, tmp, extension=ext, stats_json=stats_path, timeout_s=600,
                     name="bench-rtl")
            stats = json.loads(stats_path.read_text())
            rtl = stats["rtl"]
            tiles_i, tiles_k, tiles_j = (-(-n // DIM) for n in (i, k, j))
            model = stats["cycles"].get("execute")
            out.append({
                "I": i, "K": k, "J": j, "rtl_cycles": rtl["rtl_cycles"],
                "rtl_streaming": rtl["streaming_cycles"],
                "execute_modelled": model,
                "formula": formula(tiles_i * DIM, tiles_k * tiles_j),
                "drains": rtl["drains"], "utilization": rtl["utilization"],
            })  # fmt: skip
    return out


def _gap(model: float | None, rtl: int) -> str:
    return "-" if not model else f"{(model - rtl) / rtl:+.1%}"


def print_tables(result: dict[str, Any]) -> None:
    image = result.get("image")
    if image:
        print(f"One DeiT-tiny image ({result['elf']}); logits identical: "
              f"{image['identical_logits']}")
        print("| backend | wall s | CPU s | RTL cycles M | RTL cycles/s (wall) | utilization "
              f"| <= {TARGET_WALL_S:.0f} s |")
        print("|---|---|---|---|---|---|---|")
        for backend in ("spike", "spike-rtl"):
            r = image[backend]
            rtl = r["rtl"] or {}
            cycles = rtl.get("rtl_cycles")
            speed = cycles / r["wall_s"] if cycles else None
            cyc = "-" if cycles is None else f"{cycles / 1e6:.2f}"
            spd = "-" if speed is None else f"{speed / 1e3:.0f} k"
            util = "-" if not rtl else f"{rtl['utilization']:.1%}"
            ok = "met" if r["wall_s"] <= TARGET_WALL_S else "MISSED"
            print(f"| {backend} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | {cyc} | {spd} | {util} "
                  f"| {ok} |")
        r = image["spike-rtl"]
        counted = r["rtl"]["streaming_cycles"]
        print(f"\nexecute stage, whole image: modelled {r['execute_modelled']} vs RTL streaming "
              f"{counted} cycles ({_gap(r['execute_modelled'], counted)}; all RTL cycles "
              f"{r['rtl']['rtl_cycles']})")
    print("\nExecute stage per tiled matmul (LOOP_WS, WS, DIM 16): timing model (modelled) and "
          "formula vs the RTL clock (counted)")
    print("| I x K x J | RTL cycles (all) | RTL streaming | timing model | gap | formula | gap "
          "| drains | utilization |")
    print("|---|---|---|---|---|---|---|---|---|")
    for m in result["matmuls"]:
        stream = m["rtl_streaming"]
        print(f"| {m['I']}x{m['K']}x{m['J']} | {m['rtl_cycles']} | {stream} | "
              f"{m['execute_modelled']} | {_gap(m['execute_modelled'], stream)} | {m['formula']} "
              f"| {_gap(m['formula'], stream)} | {m['drains']} | {m['utilization']:.1%} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--elf", type=Path, default=None, help="a DeiT-tiny ELF (default: the "
                        "first results/elf/*/*.elf)")
    parser.add_argument("--manifest", type=Path, default=REPO / "results/model/manifest.json")
    parser.add_argument("--skip-image", action="store_true", help="only the matmul table")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    result: dict[str, Any] = {}
    try:
        if not args.skip_image:
            elf = args.elf or default_elf()
            classes = 1000
            if args.manifest.is_file():
                classes = json.loads(args.manifest.read_text())["arch"]["num_classes"]
            result["elf"] = str(elf)
            result["image"] = bench_image(elf, classes)
        result["matmuls"] = bench_matmuls()
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print_tables(result)
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
