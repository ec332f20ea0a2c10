"""The paper stage's file lists, from the validated config and the run's image ids.

Kept here rather than in workflow/rules/report.smk so that the .smk holds rules only (Snakemake's
linter asks for that) and so that the lists can be tested without Snakemake.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

DIGITS_DIR = "results/paper/digits"


def is_digits_checkpoint(config: Mapping[str, Any]) -> bool:
    return config["checkpoint"] == "digits"


def has_dataset(config: Mapping[str, Any]) -> bool:
    return config["dataset"]["source"] is not None


def logits(backends: Sequence[str], images: Sequence[str]) -> list[str]:
    return [f"results/logits/{b}/{i}.npy" for b in backends for i in images]


def verify_images(config: Mapping[str, Any], images: Sequence[str]) -> list[str]:
    """The first `paper.verify_images` images of the run."""
    return list(images)[: config["paper"]["verify_images"]]


def verify_logits(config: Mapping[str, Any], images: Sequence[str]) -> list[str]:
    return logits(config["backends"], verify_images(config, images))


def spike_stats(config: Mapping[str, Any], images: Sequence[str]) -> list[str]:
    """Spike statistics of every image, when spike is a configured backend."""
    if "spike" not in config["backends"]:
        return []
    return [f"results/stats/spike/{i}.json" for i in images]


def stage_benchmarks(config: Mapping[str, Any], images: Sequence[str], build_config: str
                     ) -> list[str]:
    """Benchmark TSVs of the jobs upstream of this run's logits: the performance table's
    declared inputs. Never a glob of results/benchmarks, which keeps the files of earlier
    configurations, images and batches (issue 14, item 11). Declaring them adds no job: each
    belongs to a job that makes an input of the run's logits."""
    b = "results/benchmarks"
    backends = list(config["backends"])
    out = [f"{b}/export_params/export_params.tsv"]
    if config["checkpoint"] == "demo":
        out.append(f"{b}/make_demo_checkpoint/make_demo_checkpoint.tsv")
    if is_digits_checkpoint(config):
        out.append(f"{b}/train_digits_qat/train_digits_qat.tsv")
    if config["checkpoint"] == "demo" or (config["images"] == "demo" and not has_dataset(config)):
        out.append(f"{b}/export_demo_images/export_demo_images.tsv")
    if config["dataset"]["source"] == "digits":
        out.append(f"{b}/prepare_digits_inputs/prepare_digits_inputs.tsv")
    else:
        out += [f"{b}/quantize_image/{i}.tsv" for i in images]
    batches = host_batches(config, images) + spike_batches(config, images)
    out += [batch.benchmark for batch in batches]
    batched = {batch.backend for batch in batches}
    for backend in backends:
        if backend not in batched:
            out += [f"{b}/run_{backend.replace('-', '_')}/{i}.tsv" for i in images]
    if "spike" in backends or "verilator" in backends:
        out += [f"{b}/{rule}/{build_config}.tsv" for rule in ("emit_model_library",
                                                                  "build_model_library")]
        if not batched & {"spike"} or "verilator" in backends:
            out += [f"{b}/build_firmware_elf/{build_config}/{i}.tsv" for i in images]
    if "spike" in backends:
        out += [f"{b}/build_spike_extension/{build_config}.tsv",
                f"{b}/profile_core_cycles/{build_config}.tsv"]
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
    out = [*tables, "results/paper/verification.md", "results/paper/verification.csv",
           "results/paper/performance.md", "results/paper/performance.csv",
           "results/paper/agreement.png"]
    if has_dataset(config):
        out += ["results/paper/accuracy.md", "results/paper/accuracy.csv",
                "results/paper/accuracy.png"]
    if "spike" in config["backends"]:
        out.append("results/paper/layer_costs.png")
    return out


@dataclass(frozen=True)
class Batch:
    """One batch job of a backend: its rule name, images, input and output files."""

    rule: str
    backend: str
    index: int
    images: tuple[str, ...]

    @property
    def inputs(self) -> list[str]:
        return [f"results/inputs/{i}.bin" for i in self.images]

    @property
    def logits(self) -> list[str]:
        return logits([self.backend], self.images)

    @property
    def benchmark(self) -> str:
        return f"results/benchmarks/{self.rule.rsplit('_', 1)[0]}/{self.index:03d}.tsv"

    def elfs(self, build_config: str) -> list[str]:
        return [f"results/elf/{build_config}/{i}.elf" for i in self.images]

    @property
    def stats(self) -> list[str]:
        return [f"results/stats/spike/{i}.json" for i in self.images]

    @property
    def spike_logs(self) -> list[str]:
        return [f"results/logs/spike/{i}.log" for i in self.images]


def _batches(config: Mapping[str, Any], images: Sequence[str], backends: Sequence[str]
             ) -> list[Batch]:
    """Batches of `backends` for a data-set run (`paper.batch_size` > 0), else none."""
    size = config["paper"].get("batch_size", 0)
    if not has_dataset(config) or size <= 0:
        return []
    out = []
    for backend in (b for b in config["backends"] if b in backends):
        stem = "run_" + backend.replace("-", "_") + "_batch"
        for k, start in enumerate(range(0, len(images), size), start=1):
            out.append(Batch(f"{stem}_{k:03d}", backend, k, tuple(images[start:start + size])))
    return out


def host_batches(config: Mapping[str, Any], images: Sequence[str]) -> list[Batch]:
    """Batch jobs of the host backends (torch-int, torch-fakequant)."""
    from ivit_gemmini.paper.batch import HOST_BACKENDS

    return _batches(config, images, HOST_BACKENDS)


def spike_batches(config: Mapping[str, Any], images: Sequence[str]) -> list[Batch]:
    """Batch jobs of the spike backend (ELF link + Spike run per image)."""
    return _batches(config, images, ["spike"])
