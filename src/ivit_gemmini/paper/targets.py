"""The paper stage's file lists, from the validated config and the run's image ids.

Kept here rather than in workflow/rules/report.smk so that the .smk holds rules only (Snakemake's
linter asks for that) and so that the lists can be tested without Snakemake.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

DIGITS_DIR = "results/paper/digits"


def is_digits_checkpoint(config: Mapping[str, Any]) -> bool:
    return config["checkpoint"] == "digits"


def has_dataset(config: Mapping[str, Any]) -> bool:
    return config["dataset"]["source"] is not None


def verify_images(config: Mapping[str, Any], images: Sequence[str]) -> list[str]:
    """The first `paper.verify_images` images of the run."""
    return list(images)[: config["paper"]["verify_images"]]


def fp32_predictions(config: Mapping[str, Any]) -> list[str]:
    """The FP32 model's test predictions exist only for the checkpoint trained here."""
    return [f"{DIGITS_DIR}/fp32_predictions.csv"] if is_digits_checkpoint(config) else []


def training_metrics(config: Mapping[str, Any]) -> list[str]:
    return [f"{DIGITS_DIR}/metrics.json"] if is_digits_checkpoint(config) else []


def labels(config: Mapping[str, Any]) -> list[str]:
    return ["results/paper/labels.csv"] if has_dataset(config) else []


def dataset_description(config: Mapping[str, Any]) -> str:
    if config["dataset"]["source"] == "digits":
        return "scikit-learn digits, test split"
    return f"folder {config['dataset']['folder']}"


def paper_outputs(config: Mapping[str, Any], tables: Sequence[str]) -> list[str]:
    """Everything `rule paper` builds: the evaluate stage's `tables` plus the paper's own."""
    out = [*tables, "results/tables/complete.txt", "results/paper/verification.md",
           "results/paper/verification.csv",
           "results/paper/performance.md", "results/paper/performance.csv",
           "results/paper/agreement.png"]
    if has_dataset(config):
        out += ["results/paper/accuracy.md", "results/paper/accuracy.csv",
                "results/paper/accuracy.png"]
    if "spike" in config["backends"]:
        out.append("results/paper/layer_costs.png")
    return out
