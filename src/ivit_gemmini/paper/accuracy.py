"""The accuracy table: top-1/top-5 of FP32 and of every backend on one labelled image set,
beside I-ViT's published ImageNet numbers (clearly marked as the paper's, not ours)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ivit_gemmini.errors import UserError
from ivit_gemmini.evaluate.topk import topk
from ivit_gemmini.io import atomic_write_text
from ivit_gemmini.paper.published import IVIT_IMAGENET_TOP1, SOURCE

FP32 = "fp32"
REFERENCE = "torch-int"  # the specification: every integer backend must predict as it does
COLUMN_ORDER = (FP32, "torch-fakequant", REFERENCE, "tvm-cpu", "spike", "verilator")
COLUMNS = ("source", "model", "data", "column", "images", "top1", "top5",
           "same_top1_as_torch_int")


@dataclass(frozen=True)
class Score:
    """Accuracy of one column (FP32 or a backend) over `images` labelled images."""

    column: str
    images: int
    top1: float  # percent
    top5: float  # percent
    same_top1_as_reference: int | None  # images whose top-1 equals torch-int's (None: n/a)


def score(top5: Mapping[str, Sequence[int]], labels: Mapping[str, int], column: str,
          reference: Mapping[str, Sequence[int]] | None = None) -> Score:
    """Top-1/top-5 accuracy of per-image top-5 lists against `labels`."""
    images = list(labels)
    missing = [i for i in images if i not in top5]
    if missing:
        raise UserError(f"{column} has no result for {len(missing)} labelled images "
                        f"(e.g. {missing[0]}): rerun the workflow")
    n = len(images)
    hit1 = sum(top5[i][0] == labels[i] for i in images)
    hit5 = sum(labels[i] in top5[i][:5] for i in images)
    same = None if reference is None else sum(top5[i][0] == reference[i][0] for i in images)
    return Score(column, n, 100.0 * hit1 / n, 100.0 * hit5 / n, same)


def logit_top5(logits: Mapping[str, np.ndarray]) -> dict[str, list[int]]:
    return {image: topk(vec, 5) for image, vec in logits.items()}


def read_fp32_predictions(path: str | Path) -> dict[str, list[int]]:
    """{image: top-5} from the training rule's fp32_predictions.csv (image,label,top5)."""
    rows = csv.DictReader(Path(path).read_text(encoding="utf-8").splitlines())
    return {r["image"]: [int(c) for c in r["top5"].split()] for r in rows}


def score_all(logits: Mapping[str, Mapping[str, np.ndarray]], labels: Mapping[str, int],
              fp32: Mapping[str, Sequence[int]] | None) -> list[Score]:
    """Scores in COLUMN_ORDER (then any other backend), only for the columns present."""
    tops = {backend: logit_top5(per_image) for backend, per_image in logits.items()}
    if fp32 is not None:
        tops[FP32] = {i: list(fp32[i]) for i in labels if i in fp32}
    reference = tops.get(REFERENCE)
    order = [c for c in COLUMN_ORDER if c in tops] + sorted(set(tops) - set(COLUMN_ORDER))
    return [score(tops[c], labels, c, reference if c != FP32 else None) for c in order]


def accuracy_csv(scores: Sequence[Score], model: str, data: str) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for s in scores:
        same = "" if s.same_top1_as_reference is None else s.same_top1_as_reference
        w.writerow(("ours", model, data, s.column, s.images, f"{s.top1:.2f}", f"{s.top5:.2f}",
                    same))
    for name, (fp32, int8) in IVIT_IMAGENET_TOP1.items():
        w.writerow((SOURCE, name, "ImageNet val", FP32, 50000, f"{fp32:.2f}", "", ""))
        w.writerow((SOURCE, name, "ImageNet val", "I-ViT INT8", 50000, f"{int8:.2f}", "", ""))
    return buf.getvalue()


def accuracy_markdown(scores: Sequence[Score], model: str, data: str, notes: Sequence[str]
                      ) -> str:
    cols = [s.column for s in scores]
    n = scores[0].images if scores else 0
    lines = ["# Accuracy: FP32 vs INT8 on every backend", "",
             f"**Ours** (measured by this workflow): {model} on {data}, {n} labelled images.", ""]
    lines += ["| metric | " + " | ".join(cols) + " |", "|---|" + "---:|" * len(cols)]
    lines.append("| top-1 (%) | " + " | ".join(f"{s.top1:.2f}" for s in scores) + " |")
    lines.append("| top-5 (%) | " + " | ".join(f"{s.top5:.2f}" for s in scores) + " |")
    lines.append("| same top-1 as torch-int | " + " | ".join(
        "-" if s.same_top1_as_reference is None else f"{s.same_top1_as_reference}/{s.images}"
        for s in scores) + " |")
    lines.append("")
    integer = [s for s in scores if s.column in ("tvm-cpu", "spike", "verilator")]
    if integer:
        bad = [s.column for s in integer if s.same_top1_as_reference != s.images]
        lines += [("**Integer backends disagree with torch-int: " + ", ".join(bad) + ".**")
                  if bad else "Every integer backend predicts exactly what torch-int predicts "
                  "on every image.", ""]
    lines += [*notes, ""] if notes else []
    lines += ["## For context: I-ViT's published ImageNet top-1", "",
              f"Source: {SOURCE}. These are the paper's numbers on ImageNet, **not** results of "
              "this workflow (no ImageNet and no pretrained DeiT weights are available here).", "",
              "| model | FP32 | I-ViT INT8 | change |", "|---|---:|---:|---:|"]
    for name, (fp32, int8) in IVIT_IMAGENET_TOP1.items():
        lines.append(f"| {name} | {fp32:.2f} | {int8:.2f} | {int8 - fp32:+.2f} |")
    return "\n".join(lines) + "\n"


def describe_model(manifest: Mapping[str, object]) -> str:
    arch = manifest["arch"]
    assert isinstance(arch, Mapping)
    return (f"ViT depth {arch['depth']}, dim {arch['dim']}, {arch['num_heads']} heads, "
            f"{arch['image_size']}px/{arch['patch_size']}, {arch['num_classes']} classes")


def tabulate_accuracy(logit_paths: Sequence[str | Path], labels_csv: str | Path,
                      manifest: str | Path, data: str, *, fp32_csv: str | Path | None,
                      metrics_json: str | Path | None, csv_out: str | Path,
                      md_out: str | Path) -> list[Score]:
    """The `tabulate_accuracy` rule."""
    from ivit_gemmini.evaluate.logits import load_logit_set
    from ivit_gemmini.paper.dataset import read_labels_csv

    info = json.loads(Path(manifest).read_text(encoding="utf-8"))
    labels = read_labels_csv(labels_csv)
    logits = load_logit_set(list(logit_paths), int(info["arch"]["num_classes"]))
    fp32 = read_fp32_predictions(fp32_csv) if fp32_csv else None
    scores = score_all(logits, labels, fp32)
    model = describe_model(info)
    notes = []
    if metrics_json:
        m = json.loads(Path(metrics_json).read_text(encoding="utf-8"))
        cpu = (f" (CPU time {m['float_train_cpu_s']:.0f} s + {m['qat_train_cpu_s']:.0f} s)"
               if "float_train_cpu_s" in m else "")
        notes.append(f"Training on {m['torch_threads']} CPU thread: FP32 {m['float_train_s']:.0f} "
                     f"s wall ({m['config']['float_epochs']} epochs on {m['train_images']} "
                     f"images), then I-ViT QAT {m['qat_train_s']:.0f} s wall "
                     f"({m['config']['qat_epochs']} epochs){cpu}; seed {m['config']['seed']}.")
    if fp32 is not None:
        notes.append("FP32 is the float model before quantization-aware fine-tuning (timm's "
                     "VisionTransformer, exact GELU/softmax/LayerNorm), on the same images.")
    atomic_write_text(csv_out, accuracy_csv(scores, model, data))
    atomic_write_text(md_out, accuracy_markdown(scores, model, data, notes))
    return scores
