"""The paper's figures (matplotlib, Agg backend, PNG), each from a table or stats file that an
earlier rule wrote: accuracy bars, the agreement heat map, per-layer cost of one Spike run."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ivit_gemmini.io import atomic_path

KIND_COLORS = {"gemmini": "#1f77b4", "core": "#ff7f0e"}
MAX_KERNELS = 30  # kernels shown in the per-layer figure (the most expensive ones)


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


def layer_costs(stats_json: str | Path, out: str | Path) -> None:
    """Cycles of one image on Spike per kernel, coloured Gemmini vs core."""
    plt = _pyplot()
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for s in read_steps(stats_json):
        totals[(str(s["name"]), str(s["kind"]))] += int(s["cycles"])  # type: ignore[call-overload]
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])
    shown, rest = ranked[:MAX_KERNELS], ranked[MAX_KERNELS:]
    labels = [name for (name, _), _ in shown]
    if rest:
        labels.append(f"{len(rest)} other kernels")
    values = [v for _, v in shown] + ([sum(v for _, v in rest)] if rest else [])
    colors = [KIND_COLORS.get(kind, "grey") for (_, kind), _ in shown] + (
        ["grey"] if rest else [])
    fig, ax = plt.subplots(figsize=(8, 0.28 * len(values) + 1.5))
    ax.barh(range(len(values)), values, color=colors)
    ax.set_yticks(range(len(values)), [lb[:48] for lb in labels], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("cycles on Spike (1 instruction = 1 cycle)")
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in KIND_COLORS.values()]
    ax.legend(handles, ["Gemmini kernels", "core kernels"], loc="lower right")
    total = sum(values)
    by_kind = {k: sum(v for (_, kind), v in totals.items() if kind == k) for k in KIND_COLORS}
    share = ", ".join(f"{k} {v / total:.0%}" for k, v in by_kind.items()) if total else ""
    accel = (json.loads(Path(stats_json).read_text(encoding="utf-8")).get("gemmini") or {}
             ).get("gemmini_cycles_modelled")
    extra = f"; Gemmini: {accel:,} modelled accelerator cycles" if accel else ""
    ax.set_title(f"Core cycles per kernel of {Path(stats_json).stem} on Spike\n"
                 f"(share: {share}{extra})", fontsize=10)
    _save(fig, out)
    plt.close(fig)
