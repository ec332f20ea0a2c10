"""The top-5 prediction tables: `predictions.csv` and its Markdown twin."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ivit_gemmini.evaluate.topk import topk
from ivit_gemmini.io import atomic_write_text

COLUMNS = ("image", "source", "backend", "rank", "class_index", "class_name", "logit_int",
           "logit_float")
DEMO_WARNING = (
    "**Demo checkpoint:** seeded random weights (calibrated on the demo images), not a trained "
    "model. Its predictions mean nothing; only the agreement between backends does."
)


@dataclass(frozen=True)
class Prediction:
    """One row of predictions.csv."""

    image: str
    source: str  # the image's file (relative path), so a row can be traced back to it
    backend: str
    rank: int
    class_index: int
    class_name: str
    logit_int: int
    logit_float: float


def top5_rows(logits: dict[str, dict[str, np.ndarray]], backends: Sequence[str],
              images: Sequence[str], class_names: Sequence[str], logit_scale: float,
              k: int = 5, sources: Mapping[str, str] | None = None) -> list[Prediction]:
    """Rows ordered by image, then backend (config order), then rank."""
    rows = []
    for image in images:
        source = (sources or {}).get(image, "")
        for backend in backends:
            vec = logits[backend][image]
            for rank, cls in enumerate(topk(vec, k), start=1):
                value = int(vec[cls])
                rows.append(Prediction(image, source, backend, rank, cls, class_names[cls],
                                       value, value * logit_scale))
    return rows


def predictions_csv(rows: Sequence[Prediction]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow((r.image, r.source, r.backend, r.rank, r.class_index, r.class_name,
                         r.logit_int, f"{r.logit_float:.6g}"))
    return buf.getvalue()


def predictions_markdown(rows: Sequence[Prediction], *, demo: bool, checkpoint: str) -> str:
    """One "Top-5 Predictions:" block per image and backend, as the seed project printed it."""
    lines = ["# Top-5 predictions", ""]
    if demo:
        lines += [DEMO_WARNING, ""]
    lines += [f"Checkpoint: `{checkpoint}`. Logits are integers at one scale; the float value "
              "is integer x logit scale.", ""]
    current: tuple[str, str] | None = None
    for r in rows:
        if (r.image, r.backend) != current:
            if current is not None:
                lines += ["```", ""]
            current = (r.image, r.backend)
            source = f": `{r.source}`" if r.source else ""
            lines += [f"## {r.image} ({r.backend}){source}", "", "```text", "Top-5 Predictions:"]
        lines.append(f"  {r.rank}. Class {r.class_index}: {r.class_name}  "
                     f"(logit {r.logit_int} = {r.logit_float:.4f})")
    if current is not None:
        lines += ["```", ""]
    return "\n".join(lines)


def write_predictions(logits: dict[str, dict[str, np.ndarray]], backends: Sequence[str],
                      images: Sequence[str], class_names: Sequence[str], logit_scale: float, *,
                      demo: bool, checkpoint: str, csv_out: str | Path, md_out: str | Path,
                      sources: Mapping[str, str] | None = None) -> list[Prediction]:
    rows = top5_rows(logits, backends, images, class_names, logit_scale, sources=sources)
    atomic_write_text(csv_out, predictions_csv(rows))
    atomic_write_text(md_out, predictions_markdown(rows, demo=demo, checkpoint=checkpoint))
    return rows


def tabulate_predictions(logit_paths: Sequence[str | Path], manifest: str | Path,
                         backends: Sequence[str], images: Sequence[str],
                         class_names: str | Sequence[str] | None, *, demo: bool,
                         checkpoint: str, csv_out: str | Path, md_out: str | Path,
                         sources: Mapping[str, str] | None = None) -> None:
    """The `tabulate_predictions` stage: logit files -> predictions.csv + predictions.md
    (class count and logit scale from the params manifest)."""
    from ivit_gemmini.evaluate.class_names import resolve_class_names
    from ivit_gemmini.evaluate.logits import load_logit_set

    info = json.loads(Path(manifest).read_text(encoding="utf-8"))
    num_classes = int(info["arch"]["num_classes"])
    logits = load_logit_set(list(logit_paths), num_classes)
    names = resolve_class_names(class_names, num_classes)
    write_predictions(logits, backends, images, names, float(info["logit_scale"]), demo=demo,
                      checkpoint=checkpoint, csv_out=csv_out, md_out=md_out, sources=sources)
