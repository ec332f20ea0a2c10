"""The shard summaries -> what the tables read (logit files of the images that succeeded on every
backend) and the failure list (`results/tables/failures.{csv,md}`).

A summary holding failures is given modification time 0 once its failures are listed: the next
run sees it older than its inputs, so Snakemake reruns that shard job (which recomputes only its
failed images) and everything after it. Snakemake touches a job's outputs when the job ends, so
this cannot be done by the shard job itself.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ivit_gemmini.errors import UserError
from ivit_gemmini.io import atomic_write_text
from ivit_gemmini.shards.job import OK, read_summary

FAILURE_FIELDS = ("image", "stage", "reason", "log")


@dataclass(frozen=True)
class Failure:
    image: str
    stage: str
    reason: str
    log: str


@dataclass
class Collected:
    logits: dict[str, dict[str, str]]  # backend -> image -> logit file
    stats: dict[str, dict[str, str]]  # backend -> image -> stats file (simulators)
    failures: list[Failure]

    def ok_images(self, images: Sequence[str], backends: Sequence[str]) -> list[str]:
        """`images` (in order) that have logits on every backend."""
        return [i for i in images if all(i in self.logits.get(b, {}) for b in backends)]

    def logit_files(self, images: Sequence[str], backends: Sequence[str]) -> list[str]:
        return [self.logits[b][i] for b in backends for i in images]


def collect(summaries: Sequence[str | Path]) -> Collected:
    logits: dict[str, dict[str, str]] = {}
    stats: dict[str, dict[str, str]] = {}
    failures: list[Failure] = []
    for path in summaries:
        data = read_summary(path)
        stage = data["stage"]
        for image, entry in sorted(data.get("images", {}).items()):
            if entry.get("status") == OK:
                files = entry.get("files", {})
                if "logits" in files:
                    logits.setdefault(stage, {})[image] = files["logits"]
                if "stats" in files:
                    stats.setdefault(stage, {})[image] = files["stats"]
            elif stage == "quantize" or not str(entry.get("reason", "")).startswith("no input"):
                # An image the quantization failed on is listed once (as quantize).
                failures.append(Failure(image, stage, str(entry.get("reason", "")),
                                        str(entry.get("log", ""))))
    return Collected(logits, stats, failures)


def failures_csv(failures: Sequence[Failure]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(FAILURE_FIELDS)
    for f in failures:
        writer.writerow((f.image, f.stage, f.reason, f.log))
    return buf.getvalue()


def failures_markdown(failures: Sequence[Failure]) -> str:
    if not failures:
        return "# Failures\n\nEvery image succeeded on every backend.\n"
    lines = ["# Failures", "",
             f"{len({f.image for f in failures})} image(s) failed; the tables leave them out. "
             "Fix the cause and rerun: only these images are computed again.", "",
             "| image | stage | reason | log |", "|---|---|---|---|"]
    for f in failures:
        reason = f.reason.replace("|", "\\|")
        lines.append(f"| {f.image} | {f.stage} | {reason} | {f.log} |")
    return "\n".join(lines) + "\n"


def write_failures(summaries: Sequence[str], csv_out: str, md_out: str) -> None:
    """The `collect_failures` rule: the list, then mark the summaries holding failures stale."""
    failures = collect(summaries).failures
    atomic_write_text(csv_out, failures_csv(failures))
    atomic_write_text(md_out, failures_markdown(failures))
    for path in summaries:
        entries = read_summary(path).get("images", {}).values()
        if any(e.get("status") != OK for e in entries):
            os.utime(path, (0, 0))


def check_failures(failures_csv_path: str, out: str) -> None:
    """The last rule: one line and a non-zero exit when any image failed."""
    with open(failures_csv_path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    if rows:
        images = len({r["image"] for r in rows})
        raise UserError(f"{images} image(s) failed ({len(rows)} failure(s)); the tables hold the "
                        f"rest; list: {Path(failures_csv_path).with_suffix('.md')}")
    atomic_write_text(out, "every image succeeded on every backend\n")


def table_stage(kind: str, summaries: Sequence[str], images: Sequence[str],
                backends: Sequence[str], **kwargs: object) -> None:
    """A table rule on the images that succeeded on every backend: `kind` is predictions,
    agreement, accuracy or verification; `kwargs` go to that table's function."""
    found = collect(summaries)
    ok = found.ok_images(images, backends)
    if not ok:
        raise UserError(f"no image succeeded on every backend ({', '.join(backends)}): "
                        "see results/tables/failures.md")
    files = found.logit_files(ok, backends)
    if kind == "predictions":
        from ivit_gemmini.evaluate.predictions import tabulate_predictions

        tabulate_predictions(files, kwargs.pop("manifest"), backends, ok,
                             kwargs.pop("class_names"), **kwargs)
    elif kind == "agreement":
        from ivit_gemmini.evaluate.agreement import compute_agreement

        compute_agreement(files, backends, ok, **kwargs)
    elif kind == "accuracy":
        from ivit_gemmini.paper.accuracy import tabulate_accuracy

        tabulate_accuracy(files, kwargs.pop("labels"), kwargs.pop("manifest"),
                          kwargs.pop("data"), **kwargs)
    elif kind == "verification":
        from ivit_gemmini.paper.verification import tabulate_verification

        tabulate_verification(files, kwargs.pop("manifest"), backends, ok,
                              kwargs.pop("class_names"), kwargs.pop("labels"), **kwargs)
    else:
        raise ValueError(f"unknown table {kind!r}")


def spike_stats_files(summaries: Sequence[str], images: Sequence[str],
                      backend: str = "spike") -> list[str]:
    """Stats files of `images` (in order) that the simulator backend wrote."""
    stats = collect(summaries).stats.get(backend, {})
    return [stats[i] for i in images if i in stats]


def performance_stage(summaries: Sequence[str], bench_files: Sequence[str], images: Sequence[str],
                      manifest: str, *, profile: Sequence[str] = (), csv_out: str,
                      md_out: str) -> None:
    """The performance table from the Spike stats the shard jobs wrote, the core-cycle profile
    and exactly the benchmark files the rule declared."""
    from ivit_gemmini.paper.performance import tabulate_performance

    tabulate_performance(spike_stats_files(summaries, images), bench_files, images, manifest,
                         profile=profile, csv_out=csv_out, md_out=md_out)


def cycles_stage(summaries: Sequence[str], images: Sequence[str], profile: Sequence[str], *,
                 md_out: str, csv_out: str) -> None:
    """The per-image cycle table from the Spike stats the shard jobs wrote."""
    from ivit_gemmini.simulate.core_cycles import tabulate_cycles

    tabulate_cycles(spike_stats_files(summaries, images), profile, md_out=md_out,
                    csv_out=csv_out)


def first_spike_image(summary: str) -> tuple[str, dict[str, str]]:
    """(image, files) of the first image of a spike shard summary that succeeded."""
    entries = collect([summary])
    stats = sorted(entries.stats.get("spike", {}).items())
    if not stats:
        raise UserError(f"no image of {summary} ran on Spike: see results/tables/failures.md")
    image = stats[0][0]
    return image, {"stats": stats[0][1], "logits": entries.logits["spike"][image]}


def layer_costs_stage(summary: str, out: str, profile: Sequence[str] = ()) -> None:
    """The per-kernel cost figure of the first image of a spike shard that succeeded (with
    the core-cycle profile, modelled core cycles beside the counted instructions)."""
    from ivit_gemmini.paper import figures

    _, files = first_spike_image(summary)
    figures.layer_costs(files["stats"], out, profile[0] if profile else None)
