"""The sweep rules' file lists and parameters (workflow/rules/sweep.smk; kept here so the rule
file holds rules only)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ivit_gemmini.sweep.configs import Build

POINTS = "results/sweep/points.csv"


def builds_param(builds: Mapping[str, Build]) -> dict[str, dict[str, Any]]:
    """Build name -> its gemmini section and the configuration names asking for it."""
    return {n: {"section": dict(b.section), "labels": list(b.labels)} for n, b in builds.items()}


def points_files(config: Mapping[str, Any]) -> list[str]:
    """The points tables the sweep joins: those of config sweep.runs, or this run's own."""
    runs = config["sweep"]["runs"]
    return [str(Path(run) / POINTS) for run in runs] if runs else [POINTS]
