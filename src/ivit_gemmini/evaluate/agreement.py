"""Agreement between backends: top-1, top-5 overlap, identical logits, largest difference.

The exact family (torch-int, tvm-cpu, spike, spike-rtl, verilator) implements the integer
specification and must produce identical logits; torch-fakequant follows I-ViT's float32
semantics and is only reported (about 1 in 20 of its nonlinear outputs differs by one unit
from an exact evaluation).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ivit_gemmini.errors import UserError
from ivit_gemmini.evaluate.topk import topk
from ivit_gemmini.io import atomic_write_text

EXACT_BACKENDS = frozenset({"torch-int", "tvm-cpu", "spike", "spike-rtl", "verilator"})
# The summary row's "image": parentheses never occur in an image id (ids are [A-Za-z0-9_]+,
# images.ID_PATTERN), so no image, not even one named `all`, can be taken for it.
ALL_IMAGES = "(all)"
COLUMNS = ("backend_a", "backend_b", "image", "images", "top1_agreement", "top5_overlap",
           "logits_identical", "max_abs_logit_diff")


@dataclass(frozen=True)
class PairStats:
    """Agreement of two backends over one image (images == 1) or all images."""

    backend_a: str
    backend_b: str
    image: str
    images: int
    top1_agreement: float  # fraction of images with the same top-1 class
    top5_overlap: float  # mean |top5(a) & top5(b)| / 5
    logits_identical: int  # number of images whose logit vectors are equal
    max_abs_logit_diff: int

    @property
    def must_match(self) -> bool:
        return self.backend_a in EXACT_BACKENDS and self.backend_b in EXACT_BACKENDS

    @property
    def mismatch(self) -> bool:
        return self.must_match and self.logits_identical < self.images


def compare_one(a: np.ndarray, b: np.ndarray, k: int = 5) -> tuple[bool, float, bool, int]:
    """(same top-1, top-k overlap fraction, identical, max |a - b|) for one image."""
    ta, tb = topk(a, k), topk(b, k)
    diff = int(np.max(np.abs(a.astype(np.int64) - b.astype(np.int64)))) if a.size else 0
    return ta[0] == tb[0], len(set(ta) & set(tb)) / k, bool(np.array_equal(a, b)), diff


def compare(logits: dict[str, dict[str, np.ndarray]], backends: Sequence[str],
            images: Sequence[str]) -> list[PairStats]:
    """For every pair of backends: one row over all images, then one row per image."""
    rows: list[PairStats] = []
    for a, b in itertools.combinations(backends, 2):
        per_image = []
        for image in images:
            top1, top5, same, diff = compare_one(logits[a][image], logits[b][image])
            per_image.append(PairStats(a, b, image, 1, float(top1), top5, int(same), diff))
        n = len(per_image)
        rows.append(PairStats(
            a, b, ALL_IMAGES, n,
            sum(r.top1_agreement for r in per_image) / n if n else 0.0,
            sum(r.top5_overlap for r in per_image) / n if n else 0.0,
            sum(r.logits_identical for r in per_image),
            max((r.max_abs_logit_diff for r in per_image), default=0),
        ))
        rows.extend(per_image)
    return rows


def agreement_csv(rows: Sequence[PairStats]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow((r.backend_a, r.backend_b, r.image, r.images, f"{r.top1_agreement:.4f}",
                         f"{r.top5_overlap:.4f}", r.logits_identical, r.max_abs_logit_diff))
    return buf.getvalue()


def _table(rows: Sequence[PairStats], logit_scale: float | None) -> list[str]:
    out = ["| backend A | backend B | image | top-1 agreement | top-5 overlap | identical logits "
           "| max abs logit diff | must match |",
           "|---|---|---|---:|---:|---:|---:|---|"]
    for r in rows:
        status = ("MISMATCH" if r.mismatch else "yes") if r.must_match else "no (reported)"
        out.append(f"| {r.backend_a} | {r.backend_b} | {r.image} | {r.top1_agreement:.1%} | "
                   f"{r.top5_overlap:.1%} | {r.logits_identical}/{r.images} | "
                   f"{_diff(r.max_abs_logit_diff, logit_scale)} | {status} |")
    return out


def _diff(value: int, logit_scale: float | None) -> str:
    return f"{value} ({value * logit_scale:.4g})" if logit_scale else str(value)


# What the system this project replaces reported (its README): two implementations of the
# integer arithmetic that disagreed. Printed beside our figures so the difference is visible.
SEED_AGREEMENT = ("the I-ViT-Gemmini system this project replaces reported 78.6% top-1 and 93.4% "
                  "top-5 agreement between its PyTorch and TVM results.")


def agreement_markdown(rows: Sequence[PairStats], *, demo: bool,
                       logit_scale: float | None = None) -> str:
    lines = ["# Agreement between backends", ""]
    summary = [r for r in rows if r.image == ALL_IMAGES]
    if not summary:
        return "\n".join(lines + ["Only one backend is configured: nothing to compare.", ""])
    bad = [r for r in summary if r.mismatch]
    pairs = ", ".join(f"{r.backend_a} vs {r.backend_b}" for r in bad)
    lines.append(f"**Exact backends disagree: {pairs}.**" if bad
                 else "Every pair of exact integer backends produced identical logits.")
    lines += ["", "Exact backends (must be identical): " + ", ".join(sorted(EXACT_BACKENDS))
              + ". torch-fakequant follows I-ViT's float32 semantics and is reported only.", ""]
    lines += [f"For comparison, {SEED_AGREEMENT}", ""]
    if demo:
        lines += ["The demo checkpoint has random weights: small logit differences can flip its "
                  "near-tied rankings more often than a trained model's.", ""]
    if logit_scale:
        lines += [f"Logit differences are in integer units of the logit scale {logit_scale:.6g}; "
                  "the float value follows in brackets.", ""]
    lines += ["## Over all images", "", *_table(summary, logit_scale), "", "## Per image", "",
              *_table([r for r in rows if r.image != ALL_IMAGES], logit_scale), ""]
    return "\n".join(lines)


def mismatch_message(rows: Sequence[PairStats]) -> str | None:
    """One line naming the exact-backend pairs that disagree, or None when all agree."""
    bad = [r for r in rows if r.image == ALL_IMAGES and r.mismatch]
    if not bad:
        return None
    parts = [f"{r.backend_a} vs {r.backend_b} differ on {r.images - r.logits_identical} of "
             f"{r.images} images (max |logit diff| {r.max_abs_logit_diff})" for r in bad]
    return "integer backends disagree: " + "; ".join(parts)


def write_agreement(logits: dict[str, dict[str, np.ndarray]], backends: Sequence[str],
                    images: Sequence[str], *, on_mismatch: str, demo: bool,
                    csv_out: str | Path, md_out: str | Path,
                    logit_scale: float | None = None) -> list[PairStats]:
    """Write both tables, or, when exact backends disagree and on_mismatch is "fail", write
    nothing, print the Markdown table to stderr (the rule's log) and raise UserError."""
    if on_mismatch not in ("fail", "warn"):
        raise UserError(f"agreement.on_mismatch must be 'fail' or 'warn', got {on_mismatch!r}")
    rows = compare(logits, backends, images)
    md = agreement_markdown(rows, demo=demo, logit_scale=logit_scale)
    message = mismatch_message(rows)
    if message and on_mismatch == "fail":
        print(md, file=sys.stderr)
        raise UserError(f"{message}; the full table is in the log of compute_agreement "
                        "(set agreement.on_mismatch: warn to keep the tables anyway)")
    atomic_write_text(csv_out, agreement_csv(rows))
    atomic_write_text(md_out, md)
    return rows


def compute_agreement(logit_paths: Sequence[str | Path], backends: Sequence[str],
                      images: Sequence[str], *, on_mismatch: str, demo: bool,
                      csv_out: str | Path, md_out: str | Path,
                      manifest: str | Path | None = None) -> None:
    """The `compute_agreement` stage: logit files -> agreement.csv + agreement.md.

    `manifest` (optional) supplies the logit scale, to show differences as floats too."""
    from ivit_gemmini.evaluate.logits import load_logit_set

    logit_scale = None
    if manifest is not None:
        logit_scale = float(json.loads(Path(manifest).read_text(encoding="utf-8"))["logit_scale"])
    logits = load_logit_set(list(logit_paths))
    sizes = {v.shape[0] for per_image in logits.values() for v in per_image.values()}
    if len(sizes) > 1:
        raise UserError(f"logit files have different lengths {sorted(sizes)}: rerun the backends")
    write_agreement(logits, backends, images, on_mismatch=on_mismatch, demo=demo,
                    csv_out=csv_out, md_out=md_out, logit_scale=logit_scale)
