"""The paper stage's file lists, from the validated config and the run's image ids.

Kept here rather than in workflow/rules/report.smk so that the .smk holds rules only (Snakemake's
linter asks for that) and so that the lists can be tested without Snakemake.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ivit_gemmini.model.architecture import DEMO_CHECKPOINTS

DIGITS_DIR = "results/paper/digits"


def is_digits_checkpoint(config: Mapping[str, Any]) -> bool:
    return config["checkpoint"] == "digits"


def has_dataset(config: Mapping[str, Any]) -> bool:
    return config["dataset"]["source"] is not None


def verify_images(config: Mapping[str, Any], images: Sequence[str]) -> list[str]:
    """The first `paper.verify_images` images of the run."""
    return list(images)[: config["paper"]["verify_images"]]


# Backends simulated per Gemmini configuration (benchmark files under .../<config>/).
SIMULATORS = ("spike", "spike-rtl", "verilator")


def stage_benchmarks(config: Mapping[str, Any], shards: Sequence[str], build_config: str
                     ) -> list[str]:
    """Benchmark TSVs of the jobs upstream of this run's logits (the shard jobs of `shards`,
    the builds of `build_config`): the performance table's declared inputs. Never a glob of
    results/benchmarks, which keeps the files of earlier configurations and shard plans (issue
    14, item 11). Declaring them adds no job: each belongs to a job that makes an input of the
    run's logits (or the core-cycle profile, another input of the table)."""
    b = "results/benchmarks"
    backends = list(config["backends"])
    out = [f"{b}/export_params/export_params.tsv"]
    demo = config["checkpoint"] in DEMO_CHECKPOINTS
    if demo:  # as rule make_demo_checkpoint names it: demo-small -> demo_small.tsv
        out.append(f"{b}/make_demo_checkpoint/{config['checkpoint'].replace('-', '_')}.tsv")
    if is_digits_checkpoint(config):
        out.append(f"{b}/train_digits_qat/train_digits_qat.tsv")
    if demo or (config["images"] == "demo" and not has_dataset(config)):
        out.append(f"{b}/export_demo_images/export_demo_images.tsv")
    out += [f"{b}/quantize_images/{s}.tsv" for s in shards]
    for backend in backends:
        folder = f"run_{backend.replace('-', '_')}"
        if backend in SIMULATORS:
            folder += f"/{build_config}"
        out += [f"{b}/{folder}/{s}.tsv" for s in shards]
    if "tvm-cpu" in backends:
        out.append(f"{b}/build_tvm_cpu_library/build_tvm_cpu_library.tsv")
    if set(SIMULATORS) & set(backends):
        out += [f"{b}/{rule}/{build_config}.tsv" for rule in ("emit_model_library",
                                                              "build_model_library")]
    if "spike" in backends:
        out += [f"{b}/build_spike_extension/{build_config}.tsv",
                f"{b}/profile_core_cycles/{build_config}.tsv"]
    if "spike-rtl" in backends:
        out.append(f"{b}/build_spike_rtl_extension/{build_config}.tsv")
    return out


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
