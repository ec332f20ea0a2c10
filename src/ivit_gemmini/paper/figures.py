"""The paper's figures (matplotlib, Agg backend, PNG), each from a table or stats file that an
earlier rule wrote: accuracy bars, the agreement heat map, per-layer cost of one Spike run."""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ivit_gemmini.io import atomic_path

KIND_COLORS = {"gemmini": "#1f77b4", "core": "#ff7f0e"}


def _pyplot():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, out: str | Path) -> None:  # type: ignore[no-untyped-def]
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight")


def accuracy_bars(accuracy_csv: str | Path, out: str | Path) -> None:
    """Top-1 and top-5 of FP32 and every backend (our rows of accuracy.csv)."""
    plt = _pyplot()
    rows = [r for r in csv.DictReader(Path(accuracy_csv).read_text(encoding="utf-8")
                                      .splitlines()) if r["source"] == "ours"]
    cols = [r["column"] for r in rows]
    top1 = [float(r["top1"]) for r in rows]
    top5 = [float(r["top5"]) for r in rows]
    fig, ax = plt.subplots(figsize=(1.3 * len(cols) + 2.5, 4))
    xs = range(len(cols))
    bars1 = ax.bar([x - 0.2 for x in xs], top1, 0.4, label="top-1")
    bars5 = ax.bar([x + 0.2 for x in xs], top5, 0.4, label="top-5", alpha=0.6)
    ax.bar_label(bars1, fmt="%.2f", fontsize=8)
    ax.bar_label(bars5, fmt="%.2f", fontsize=8)
    low = min(top1 + top5) if rows else 0.0
    ax.set_ylim(max(0.0, low - 10.0), 104.0)  # headroom for the labels above 100 %
    ax.set_yticks([t for t in ax.get_yticks() if t <= 100.0])
    ax.set_xticks(list(xs), cols)
    ax.set_ylabel("accuracy (%)")
    n = rows[0]["images"] if rows else 0
    ax.set_title(f"{rows[0]['data'] if rows else ''}: FP32 vs INT8 backends ({n} images)",
                 fontsize=10)
    ax.legend(loc="upper left", ncol=2, fontsize=8)
    _save(fig, out)
    plt.close(fig)


def agreement_matrix(agreement_csv: str | Path, backends: Sequence[str]
                     ) -> tuple[np.ndarray, np.ndarray]:
    """(share of images with identical logits, top-1 agreement) per backend pair, from the
    summary rows of the evaluate stage's agreement.csv."""
    from ivit_gemmini.evaluate.agreement import ALL_IMAGES

    rows = [r for r in csv.DictReader(Path(agreement_csv).read_text(encoding="utf-8")
                                      .splitlines()) if r["image"] == ALL_IMAGES]
    n = len(backends)
    same = np.eye(n)
    top1 = np.eye(n)
    index = {b: i for i, b in enumerate(backends)}
    for r in rows:
        if r["backend_a"] in index and r["backend_b"] in index:
            i, j = index[r["backend_a"]], index[r["backend_b"]]
            images = max(int(r["images"]), 1)
            same[i, j] = same[j, i] = int(r["logits_identical"]) / images
            top1[i, j] = top1[j, i] = float(r["top1_agreement"])
    return same, top1


def agreement_heatmap(agreement_csv: str | Path, backends: Sequence[str], out: str | Path
                      ) -> None:
    """Per backend pair: share of images with identical logits (colour) and top-1 agreement
    (text), from the evaluate stage's agreement.csv (its rows over all images)."""
    plt = _pyplot()

    same, top1 = agreement_matrix(agreement_csv, backends)
    n = len(backends)
    fig, ax = plt.subplots(figsize=(1.2 * n + 2.5, 1.0 * n + 1.5))
    im = ax.imshow(same, vmin=0.0, vmax=1.0, cmap="viridis")
    for i in range(n):
        for j in range(n):
            ax.text(j, i, f"{same[i, j]:.0%} identical\n{top1[i, j]:.0%} top-1", ha="center",
                    va="center", fontsize=8, color="white" if same[i, j] < 0.6 else "black")
    ax.set_xticks(range(n), backends, rotation=30, ha="right")
    ax.set_yticks(range(n), backends)
    fig.colorbar(im, ax=ax, label="images with identical integer logits")
    ax.set_title("Agreement between backends", fontsize=10)
    _save(fig, out)
    plt.close(fig)


def read_steps(stats_json: str | Path) -> list[dict[str, object]]:
    """Per-kernel steps of one Spike run; the Gemmini/core totals when no steps were kept."""
    stats = json.loads(Path(stats_json).read_text(encoding="utf-8"))
    steps = stats.get("steps") or []
    if steps:
        return list(steps)
    kernels = stats.get("kernels", {})
    return [{"name": f"all {k} kernels", "kind": k, "cycles": v.get("cycles", 0),
             "instret": v.get("instret", 0)} for k, v in kernels.items() if k in KIND_COLORS]


# What each kernel does (first matching name fragment wins), with its colour in the figure.
KERNEL_GROUPS = (
    ("matmul on Gemmini", ("gemmini_",), "#1f77b4"),
    ("Shiftmax", ("shiftmax",), "#2ca02c"),
    ("ShiftGELU", ("shiftgelu",), "#d62728"),
    ("LayerNorm", ("layernorm",), "#9467bd"),
    ("requantization", ("requant", "residual"), "#ff7f0e"),
    ("data movement", ("",), "#8c564b"),  # heads, token assembly, hi/lo splits, column sums
)
GEMMINI_WAIT = ("Gemmini (modelled, core waits)", "#17becf")


def kernel_group(name: str) -> str:
    return next(g for g, keys, _ in KERNEL_GROUPS if any(k in name for k in keys))


def step_blocks(names: Sequence[str]) -> list[str]:
    """Which part of the network each step belongs to: every transformer block has two
    LayerNorms, so the 2i-th LayerNorm starts block i; steps before the first one are the
    patch embedding, and a last, odd LayerNorm starts the head."""
    norms = sum("layernorm" in n for n in names)
    depth = norms // 2
    out, seen = [], 0
    for n in names:
        if "layernorm" in n:
            seen += 1
        index = (seen - 1) // 2
        out.append("embedding" if seen == 0 else "head" if index >= depth else f"block {index}")
    return out


def _macs(name: str) -> int:
    """Multiply-accumulates of a Gemmini kernel from its name (gemmini_matmul_b2x3_197x64x197:
    2 x 3 batches of 197 x 64 x 197)."""
    out = 1
    for n in re.findall(r"\d+", name.split("gemmini_matmul", 1)[-1]):
        out *= int(n)
    return out


def block_costs(stats: Mapping[str, Any], profile: Mapping[str, Any] | None
                ) -> tuple[dict[str, dict[str, float]], str]:
    """Per block and kernel group: modelled core cycles (counted instructions without a
    profile), plus the modelled Gemmini cycles the core waits for, split over the Gemmini
    kernels by MACs."""
    from ivit_gemmini.simulate.core_cycles import GEMMINI_WAIT_KEYS, gemmini_cycles

    steps = list(stats.get("steps") or [])
    names = [str(s["name"]) for s in steps]
    cpi = profile.get("kernel_cpi", {}) if profile else {}
    glue = float(profile.get("glue_cpi", 1.0)) if profile else 1.0
    costs: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    blocks = step_blocks(names)
    for s, block in zip(steps, blocks, strict=True):
        factor = float(cpi.get(str(s["name"]), glue)) if profile else 1.0
        costs[block][kernel_group(str(s["name"]))] += int(s["instret"]) * factor
    total = int((stats.get("kernels") or {}).get("total", {}).get("instret", 0))
    rest = total - sum(int(s["instret"]) for s in steps)
    if rest > 0:  # the run function's own input/output copies and calls
        costs["outside kernels"]["data movement"] += rest * glue
    wait = gemmini_cycles(stats, GEMMINI_WAIT_KEYS)
    gemmini = [(b, _macs(n)) for n, b in zip(names, blocks, strict=True) if n.startswith("gemmini")]
    total_macs = sum(m for _, m in gemmini)
    for block, macs in gemmini:
        costs[block][GEMMINI_WAIT[0]] += wait * macs / total_macs
    unit = "modelled cycles" if profile else "instructions (counted) and modelled Gemmini cycles"
    return {b: dict(g) for b, g in costs.items()}, unit


def layer_costs(stats_json: str | Path, out: str | Path,
                profile_json: str | Path | None = None) -> None:
    """Where one image's cycles go: per block of the network, stacked by what the kernels do,
    from the core-cycle profile (modelled) and the Gemmini timing model (modelled)."""
    plt = _pyplot()
    stats = json.loads(Path(stats_json).read_text(encoding="utf-8"))
    if not stats.get("steps"):
        stats = {**stats, "steps": read_steps(stats_json)}
    profile = (json.loads(Path(profile_json).read_text(encoding="utf-8"))
               if profile_json else None)
    costs, unit = block_costs(stats, profile)
    blocks = list(costs)
    groups = [(g, c) for g, _, c in KERNEL_GROUPS] + [GEMMINI_WAIT]
    fig, ax = plt.subplots(figsize=(9, 0.32 * len(blocks) + 2.0))
    left = [0.0] * len(blocks)
    for group, colour in groups:
        values = [costs[b].get(group, 0.0) for b in blocks]
        if any(values):
            label = f"{group} (core)" if group == "matmul on Gemmini" else group
            ax.barh(range(len(blocks)), values, left=left, color=colour, label=label)
            left = [a + v for a, v in zip(left, values, strict=True)]
    ax.set_yticks(range(len(blocks)), blocks, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(unit)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7)
    total = sum(left)
    shares = defaultdict(float)
    for g in costs.values():
        for k, v in g.items():
            shares[k] += v
    top = ", ".join(f"{k} {v / total:.0%}" for k, v in sorted(shares.items(),
                                                                key=lambda kv: -kv[1])[:4])
    ax.set_title(f"Where the cycles of {Path(stats_json).stem} go ({_big_number(total)} {unit})"
                 f"\n{top}", fontsize=9)
    _save(fig, out)
    plt.close(fig)


def _big_number(n: float) -> str:
    for div, unit in ((1e9, " B"), (1e6, " M"), (1e3, " k")):
        if abs(n) >= div:
            return f"{n / div:.2f}{unit}"
    return f"{n:.0f}"
