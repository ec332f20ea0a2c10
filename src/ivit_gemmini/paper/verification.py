"""The verification table, like the seed project's (image, prediction, status), on every
backend: the exact integer backends must give torch-int's logits bit for bit."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ivit_gemmini.evaluate.agreement import EXACT_BACKENDS
from ivit_gemmini.evaluate.topk import topk
from ivit_gemmini.io import atomic_write_text

PASS, WARN, FAIL = "✅", "⚠️", "❌"
REFERENCE = "torch-int"


@dataclass(frozen=True)
class Verified:
    image: str
    label: int | None
    top1: dict[str, int]  # backend -> predicted class
    identical: dict[str, bool]  # backend -> logits equal to the reference's
    status: str
    source: str = ""  # the image's file (relative path)

    @property
    def correct(self) -> bool | None:
        return None if self.label is None else self.top1.get(REFERENCE) == self.label


def verify(logits: Mapping[str, Mapping[str, np.ndarray]], backends: Sequence[str],
           images: Sequence[str], labels: Mapping[str, int] | None,
           sources: Mapping[str, str] | None = None) -> list[Verified]:
    """Status per image: PASS when every exact backend equals the reference (the first exact
    backend configured, normally torch-int) and torch-fakequant has the same top-1; WARN when
    only torch-fakequant's top-1 differs; FAIL when an exact backend differs."""
    ref = REFERENCE if REFERENCE in backends else next(
        (b for b in backends if b in EXACT_BACKENDS), backends[0])
    rows = []
    for image in images:
        vecs = {b: logits[b][image] for b in backends}
        top1 = {b: topk(v, 1)[0] for b, v in vecs.items()}
        identical = {b: bool(np.array_equal(v, vecs[ref])) for b, v in vecs.items()}
        exact_ok = all(identical[b] for b in backends if b in EXACT_BACKENDS)
        status = PASS if exact_ok and len(set(top1.values())) == 1 else (
            WARN if exact_ok else FAIL)
        label = None if labels is None else labels.get(image)
        rows.append(Verified(image, label, top1, identical, status,
                             (sources or {}).get(image, "")))
    return rows


def verification_csv(rows: Sequence[Verified], backends: Sequence[str],
                     names: Sequence[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["image", "source", "label", "backend", "class_index", "class_name",
                "identical_to_ref", "status"])
    for r in rows:
        for b in backends:
            w.writerow([r.image, r.source, "" if r.label is None else r.label, b, r.top1[b],
                        names[r.top1[b]], int(r.identical[b]), r.status])
    return buf.getvalue()


def verification_markdown(rows: Sequence[Verified], backends: Sequence[str],
                          names: Sequence[str]) -> str:
    has_labels = any(r.label is not None for r in rows)
    head = ["image", "source"] + (["label"] if has_labels else [])
    head += [f"prediction ({b})" for b in backends]
    head += (["correct"] if has_labels else []) + ["status"]
    exact = ", ".join(b for b in backends if b in EXACT_BACKENDS) or "none configured"
    lines = ["# Verification", "",
             f"{PASS} every exact integer backend ({exact}) produced "
             f"torch-int's logits bit for bit and every backend predicts the same class; "
             f"{WARN} only torch-fakequant (I-ViT's float32 model) predicts another class; "
             f"{FAIL} an exact backend differs.", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r.image, f"`{r.source}`".replace("|", "\\|") if r.source else ""]
        if has_labels:
            cells.append(names[r.label] if r.label is not None else "")
        for b in backends:
            mark = "" if r.identical[b] or b not in EXACT_BACKENDS else " (differs)"
            cells.append(f"{names[r.top1[b]]}{mark}")
        if has_labels:
            cells.append("" if r.correct is None else ("yes" if r.correct else "no"))
        cells.append(r.status)
        lines.append("| " + " | ".join(cells) + " |")
    passed = sum(r.status == PASS for r in rows)
    lines += ["", f"{passed}/{len(rows)} images {PASS}.", ""]
    return "\n".join(lines)


def tabulate_verification(logit_paths: Sequence[str | Path], manifest: str | Path,
                          backends: Sequence[str], images: Sequence[str],
                          class_names: str | Sequence[str] | None,
                          labels_csv: str | Path | None, *, csv_out: str | Path,
                          md_out: str | Path, sources: Mapping[str, str] | None = None
                          ) -> list[Verified]:
    """The `tabulate_verification` rule."""
    import json

    from ivit_gemmini.evaluate.class_names import resolve_class_names
    from ivit_gemmini.evaluate.logits import load_logit_set
    from ivit_gemmini.paper.dataset import read_labels_csv

    num_classes = int(json.loads(Path(manifest).read_text(encoding="utf-8"))["arch"]
                      ["num_classes"])
    logits = load_logit_set(list(logit_paths), num_classes)
    labels = read_labels_csv(labels_csv) if labels_csv else None
    names = resolve_class_names(class_names, num_classes)
    rows = verify(logits, backends, images, labels, sources)
    atomic_write_text(csv_out, verification_csv(rows, backends, names))
    atomic_write_text(md_out, verification_markdown(rows, backends, names))
    return rows
