"""The sweep's tables: one row per model and Gemmini configuration (`make sweep`).

Each run (one model, several configurations) writes its rows to results/sweep/points.csv
(`sweep_points`); `aggregate_sweep` joins the points of one or more runs into sweep.csv,
sweep.md and two figures. Every figure per image is the mean over the run's images.
What each column is: counted (instructions retired, bytes the extension moved), modelled (the
Gemmini timing model, the core-cycle model) or measured (Spike's wall clock).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ivit_gemmini.errors import UserError
from ivit_gemmini.io import atomic_write_text
from ivit_gemmini.model.architecture import DEIT_BASE, DEIT_SMALL, DEIT_TINY, Architecture
from ivit_gemmini.simulate.core_cycles import gemmini_cycles, image_cycles

MODEL_NAMES = {DEIT_TINY: "deit-tiny", DEIT_SMALL: "deit-small", DEIT_BASE: "deit-base"}

# (csv column, sweep.md header); the md header says counted / modelled / measured.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("model", "model"),
    ("config", "configuration"),
    ("labels", "names"),
    ("dim", "DIM"),
    ("scratchpad_kib", "scratchpad KiB"),
    ("accumulator_kib", "accumulator KiB"),
    ("max_bytes", "DMA bytes"),
    ("images", "images"),
    ("instructions", "instructions (counted)"),
    ("gemmini_cycles", "Gemmini cycles (modelled)"),
    ("core_cycles", "core cycles (modelled)"),
    ("total_cycles", "total cycles (modelled)"),
    ("utilization", "mesh utilization (modelled)"),
    ("bytes_moved", "bytes moved (counted)"),
    ("spike_wall_s", "Spike s (measured)"),
    ("exact", "logits == torch-int"),
)
FIELDS = tuple(c for c, _ in COLUMNS)


def model_name(arch: Mapping[str, Any]) -> str:
    """deit-tiny / deit-small / deit-base for those architectures, else a descriptive name."""
    a = Architecture(**arch)
    return MODEL_NAMES.get(a, f"vit-d{a.depth}-w{a.dim}-p{a.patch_size}-{a.image_size}px")


def image_figures(stats: Mapping[str, Any], profile: Mapping[str, Any] | None
                  ) -> dict[str, float | None]:
    """One image's figures from its Spike stats JSON (and the core-cycle profile, if any)."""
    gem = stats.get("gemmini") or {}
    instret = int(stats["kernels"]["total"]["instret"])
    cycles = gemmini_cycles(stats)
    core: float | None = None
    total: float | None = None
    if profile is not None:  # the core-cycle model's one join (total = core + Gemmini wait)
        joined = image_cycles(stats, profile)
        core, total = float(joined["core_cycles"]), float(joined["total_cycles"])
    return {
        "instructions": float(instret),
        "gemmini_cycles": float(cycles),
        "core_cycles": core,
        "total_cycles": total,
        "macs_useful": float(gem.get("macs_useful", 0)),
        "bytes_moved": float(gem.get("bytes_in", 0) + gem.get("bytes_out", 0)),
        "spike_wall_s": float(stats["wall_s"]),
    }


def point_row(*, model: str, config: str, section: Mapping[str, int], labels: Sequence[str],
              stats: Sequence[str | Path], spike_logits: Sequence[str | Path],
              reference_logits: Sequence[str | Path],
              profile: str | Path | None = None) -> dict[str, Any]:
    """The row of one model on one configuration: means over its images' Spike runs; `exact`
    is true iff every image's Spike logits equal the reference's (torch-int) bit for bit."""
    if not stats or len(stats) != len(spike_logits) or len(stats) != len(reference_logits):
        raise UserError(f"sweep point {config}: need one stats, Spike and torch-int logits file "
                        f"per image (got {len(stats)}, {len(spike_logits)}, "
                        f"{len(reference_logits)})")
    missing = [str(p) for p in (*stats, *spike_logits, *reference_logits) if not Path(p).is_file()]
    if missing:
        raise UserError(f"sweep point {config}: {missing[0]} is missing (that image failed: see "
                        "results/tables/failures.md and the shard logs)")
    prof = json.loads(Path(profile).read_text(encoding="utf-8")) if profile else None
    per_image = [image_figures(json.loads(Path(p).read_text(encoding="utf-8")), prof)
                 for p in stats]
    exact = all(np.array_equal(np.load(a), np.load(b))
                for a, b in zip(spike_logits, reference_logits, strict=True))

    def mean(key: str) -> float | None:
        values = [f[key] for f in per_image]
        return None if any(v is None for v in values) else sum(values) / len(values)  # type: ignore[arg-type, misc]

    dim = int(section["dim"])
    gem, core, macs = mean("gemmini_cycles"), mean("core_cycles"), mean("macs_useful")
    sp_rows = int(section["bank_num"]) * int(section["bank_rows"])
    return {
        "model": model,
        "config": config,
        "labels": "/".join(labels),
        "dim": dim,
        "scratchpad_kib": sp_rows * dim / 1024,
        "accumulator_kib": int(section["acc_rows"]) * dim * 4 / 1024,
        "max_bytes": int(section["max_bytes"]),
        "images": len(per_image),
        "instructions": mean("instructions"),
        "gemmini_cycles": gem,
        "core_cycles": core,
        "total_cycles": mean("total_cycles"),
        # Useful MACs over what the DIM x DIM mesh could do in the modelled Gemmini cycles.
        "utilization": (macs / (dim * dim * gem)) if gem and macs is not None else None,
        "bytes_moved": mean("bytes_moved"),
        "spike_wall_s": mean("spike_wall_s"),
        "exact": exact,
    }


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def rows_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(FIELDS)
    for r in rows:
        writer.writerow([_csv_value(r[f]) for f in FIELDS])
    return buf.getvalue()


def write_points(rows: Sequence[Mapping[str, Any]], out: str | Path) -> None:
    atomic_write_text(out, rows_csv(rows))


def read_points(paths: Sequence[str | Path]) -> list[dict[str, Any]]:
    """Rows of points.csv files, typed back (empty cell = not available)."""
    rows: list[dict[str, Any]] = []
    for path in paths:
        text = Path(path).read_text(encoding="utf-8")
        reader = csv.DictReader(text.splitlines())
        if tuple(reader.fieldnames or ()) != FIELDS:
            raise UserError(f"{path} is not a sweep points table (columns {reader.fieldnames}): "
                            "rerun rule sweep_points of that run")
        for raw in reader:
            row: dict[str, Any] = {}
            for key, value in raw.items():
                if key in ("model", "config", "labels"):
                    row[key] = value
                elif key == "exact":
                    row[key] = value == "true"
                else:
                    row[key] = float(value) if value != "" else None
            rows.append(row)
    return rows


def _md_value(key: str, value: Any) -> str:
    if value is None:
        return "n/a"
    if key == "exact":
        return "yes" if value else "**NO**"
    if key == "utilization":
        return f"{100 * value:.1f} %"
    if key == "spike_wall_s":
        return f"{value:.2f}"
    if key in ("scratchpad_kib", "accumulator_kib"):
        return f"{value:g}"
    if isinstance(value, float):
        return f"{value:,.0f}"
    return str(value)


def sweep_markdown(rows: Sequence[Mapping[str, Any]]) -> str:
    lines = ["# Design-space sweep: DeiT models x Gemmini configurations", "",
             "| " + " | ".join(h for _, h in COLUMNS) + " |",
             "|" + "|".join("---" if k in ("model", "config", "labels") else "---:"
                            for k, _ in COLUMNS) + "|"]
    lines += ["| " + " | ".join(_md_value(k, r[k]) for k, _ in COLUMNS) + " |" for r in rows]
    images = sorted({int(r["images"]) for r in rows})
    lines += [
        "",
        f"Per image: the mean over each run's images ({', '.join(map(str, images))}). "
        "Instructions are counted (Spike's minstret); Gemmini cycles are modelled by the "
        "extension's timing model (docs/timing-model.md); core cycles are modelled from the "
        "retired instruction mix (docs/core-cycle-model.md; n/a without a core-cycle profile); "
        "total = core cycles + the Gemmini cycles the core waits for. Utilization = useful "
        "MACs / (DIM x DIM x Gemmini cycles), modelled. Bytes moved = what the extension's "
        "DMA moved in and out, counted. Spike s "
        "is Spike's wall clock on this machine, measured. The last column compares every "
        "image's Spike logits with torch-int's, bit for bit; the demo checkpoints have random "
        "weights, so their predictions mean nothing.",
    ]
    if not all(r["exact"] for r in rows):
        lines += ["", "**Some points are NOT bit-exact: see the last column.**"]
    return "\n".join(lines) + "\n"


def sort_rows(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    order = {name: i for i, name in enumerate(MODEL_NAMES.values())}
    return sorted(rows, key=lambda r: (order.get(str(r["model"]), len(order)), str(r["model"]),
                                       r["dim"], r["scratchpad_kib"], r["accumulator_kib"],
                                       str(r["config"])))


def aggregate_sweep(points: Sequence[str | Path], *, csv_out: str | Path, md_out: str | Path,
                    cycles_png: str | Path, utilization_png: str | Path,
                    on_mismatch: str = "fail") -> None:
    """The `aggregate_sweep` rule: the runs' points -> sweep.csv, sweep.md and the figures.

    With on_mismatch "fail", a point whose logits differ from torch-int's fails the rule (after
    saying which, in one line); "warn" writes the tables with the point marked."""
    from ivit_gemmini.sweep import figures  # noqa: PLC0415 - matplotlib only here

    rows = sort_rows(read_points(points))
    if not rows:
        raise UserError("the sweep has no points: list runs in config sweep.runs")
    wrong = [f"{r['model']} on {r['config']}" for r in rows if not r["exact"]]
    if wrong and on_mismatch == "fail":
        raise UserError(f"Spike's logits differ from torch-int's for {', '.join(wrong)}: every "
                        "configuration must be bit-exact (agreement.on_mismatch: warn to tabulate)")
    atomic_write_text(csv_out, rows_csv(rows))
    atomic_write_text(md_out, sweep_markdown(rows))
    figures.cycles_per_image(rows, cycles_png)
    figures.utilization(rows, utilization_png)


def sweep_points(manifest: str | Path, builds: Mapping[str, Mapping[str, Any]],
                 images: Sequence[str], *, stats: str, spike_logits: str, reference_logits: str,
                 profile: str | None, out: str | Path) -> None:
    """The `sweep_points` rule: this run's model on every build -> points.csv.

    `builds`: build name -> {"section": gemmini keys, "labels": config names}; `stats`,
    `spike_logits`, `profile` are path patterns with {config} (and {image}),
    `reference_logits` one with {image}."""
    arch = json.loads(Path(manifest).read_text(encoding="utf-8"))["arch"]
    model = model_name(arch)
    rows = [
        point_row(
            model=model, config=name, section=b["section"], labels=b["labels"],
            stats=[stats.format(config=name, image=i) for i in images],
            spike_logits=[spike_logits.format(config=name, image=i) for i in images],
            reference_logits=[reference_logits.format(image=i) for i in images],
            profile=profile.format(config=name) if profile else None,
        )
        for name, b in builds.items()
    ]
    write_points(rows, out)
