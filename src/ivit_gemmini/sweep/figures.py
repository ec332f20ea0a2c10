"""The sweep's figures (matplotlib, Agg, PNG): modelled cycles per image against the Gemmini
configuration, one panel per model (core and Gemmini stacked), and the mesh utilization."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ivit_gemmini.paper.figures import KIND_COLORS, _pyplot, _save


def _models(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    return list(dict.fromkeys(str(r["model"]) for r in rows))


def cycles_per_image(rows: Sequence[Mapping[str, Any]], out: str | Path) -> None:
    """Per model a panel: per configuration the modelled cycles per image, core and Gemmini
    stacked (Gemmini alone, said on the axis, without a core-cycle profile)."""
    plt = _pyplot()
    models = _models(rows)
    fig, axes = plt.subplots(1, len(models), figsize=(4.5 * len(models), 4.2), squeeze=False)
    for ax, model in zip(axes[0], models, strict=True):
        mine = [r for r in rows if r["model"] == model]
        xs = range(len(mine))
        gem = [(r["gemmini_cycles"] or 0) / 1e6 for r in mine]
        core = [(r["core_cycles"] or 0) / 1e6 for r in mine]
        if any(r["core_cycles"] is not None for r in mine):
            ax.bar(xs, core, color=KIND_COLORS["core"], label="core (modelled)")
        else:  # no core-cycle profile: say so rather than draw zeros
            ax.set_xlabel("core cycles: n/a (no core-cycle profile)", fontsize=8)
        ax.bar(xs, gem, bottom=core, color=KIND_COLORS["gemmini"], label="Gemmini (modelled)")
        ax.set_xticks(list(xs), [str(r["config"]) for r in mine], rotation=60, ha="right",
                      fontsize=7)
        ax.set_ylabel("M cycles per image")
        ax.set_title(model, fontsize=10)
        ax.legend(fontsize=7)
    _save(fig, out)
    plt.close(fig)


def utilization(rows: Sequence[Mapping[str, Any]], out: str | Path) -> None:
    """Modelled mesh utilization (useful MACs / (DIM^2 x Gemmini cycles)) per configuration,
    one line per model."""
    plt = _pyplot()
    configs = list(dict.fromkeys(str(r["config"]) for r in rows))
    fig, ax = plt.subplots(figsize=(max(5.0, 0.9 * len(configs) + 2), 4.2))
    for model in _models(rows):
        mine = {str(r["config"]): r["utilization"] for r in rows if r["model"] == model}
        xs = [i for i, c in enumerate(configs) if mine.get(c) is not None]
        ax.plot(xs, [100 * mine[configs[i]] for i in xs], marker="o", label=model)
    ax.set_xticks(range(len(configs)), configs, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("mesh utilization, % (modelled)")
    ax.set_ylim(0, 100)
    ax.set_title("Gemmini mesh utilization per configuration", fontsize=10)
    ax.legend(fontsize=8)
    _save(fig, out)
    plt.close(fig)
