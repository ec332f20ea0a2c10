"""One stage on one shard: per image, reuse a current result, compute it, or record a failure.

The shard's declared Snakemake output is its summary `results/shards/<stage>/[<config>/]<shard>
.json` (flagged `update()` in the rules, so Snakemake does not delete it before the job); the
per-image files (inputs, logits, stats, simulator logs) are written by the job. Each summary entry
is either `{"status": "ok", "key": .., "files": {..}}` or `{"status": "failed", "reason": ..,
"log": ..}`. The key hashes the job's key (stage code, model files) with the image's own input:
an image whose key matches an ok entry of ANY summary of the same stage folder (the shard it was
in before the shard count doubled, or this shard's previous run) is not computed again, so a rerun
after adding images, changing `num_samples`/`seed` or fixing a failure computes only new, stale or
failed images. A failure never stops the job: the tables list it and the run ends non-zero.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ivit_gemmini.errors import UserError
from ivit_gemmini.io import atomic_write_text

OK = "ok"
FAILED = "failed"


def file_digest(path: str | Path) -> str:
    """sha256 of a file's bytes (UserError when it is missing)."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except FileNotFoundError:
        raise UserError(f"{path} does not exist") from None
    return h.hexdigest()


def job_key(stage: str, code: str, files: Iterable[str | Path], extra: Any = None) -> str:
    """The part of every image's key this job shares: stage, code hash, model files' bytes."""
    h = hashlib.sha256(f"{stage}\0{code}\0{json.dumps(extra, sort_keys=True)}\0".encode())
    for path in files:
        h.update(file_digest(path).encode())
    return h.hexdigest()


def read_summary(path: str | Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise UserError(f"cannot read shard summary {path} ({err}): delete it and rerun") from None
    return data


def prior_results(folder: Path) -> dict[str, dict[str, Any]]:
    """Ok entries of every earlier summary in `folder` (a stage's summaries), by image."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            entries = read_summary(path).get("images", {})
        except UserError:
            continue  # an unreadable old summary only costs recomputation
        for image, entry in entries.items():
            if entry.get("status") == OK:
                found[image] = entry
    return found


def _is_current(entry: Mapping[str, Any] | None, key: str) -> bool:
    return (entry is not None and entry.get("key") == key
            and all(Path(f).is_file() for f in entry.get("files", {}).values()))


def one_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


class _Tee:
    """The progress bar's stream: the job log, plus the terminal when it is one."""

    def __init__(self) -> None:
        from ivit_gemmini.cli import terminal_fd

        fd = terminal_fd()
        self.terminal = os.fdopen(os.dup(fd), "w") if fd is not None and os.isatty(fd) else None

    def write(self, text: str) -> None:
        sys.stderr.write(text)
        if self.terminal is not None:
            self.terminal.write(text)

    def flush(self) -> None:
        sys.stderr.flush()
        if self.terminal is not None:
            self.terminal.flush()


def progress(items: Sequence[str], label: str) -> Iterable[str]:
    """A progress bar (done, rate, time left) in the job log and on a local terminal."""
    from tqdm import tqdm

    return tqdm(items, desc=label, unit="img", file=_Tee(), mininterval=2.0, ascii=True,
                dynamic_ncols=False, ncols=100)


def process_cpu_seconds() -> tuple[float, float]:
    """(this process, its waited-for children): user + system CPU seconds since the process
    started, so a job's figure includes Python start-up, imports and model loading."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, kids.ru_utime + kids.ru_stime


def run_shard(
    *,
    stage: str,
    shard: str,
    images: Sequence[str],
    summary: str | Path,
    key: str,
    input_key: Callable[[str], str],
    compute: Callable[[str], dict[str, str]],
    failure_log: Callable[[str], str],
    prior_inputs: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Run `compute(image) -> {name: path}` for every image of the shard that needs it and write
    the summary. `input_key(image)` fingerprints the image's input (UserError: no input, which is
    recorded as a failure); `failure_log(image)` is the log a failure record points to;
    `prior_inputs`: failures of an earlier stage (the image is recorded as failed, not run)."""
    summary = Path(summary)
    prior = prior_results(summary.parent)
    entries: dict[str, dict[str, Any]] = {}
    computed = reused = failed = 0
    start = time.monotonic()
    for image in progress(images, f"{stage} {shard}"):
        upstream = (prior_inputs or {}).get(image)
        if upstream is not None and upstream.get("status") != OK:
            entries[image] = {"status": FAILED, "reason": f"no input: {upstream.get('reason')}",
                              "log": upstream.get("log", "")}
            failed += 1
            continue
        try:
            image_key = hashlib.sha256(f"{key}\0{input_key(image)}".encode()).hexdigest()[:32]
            if _is_current(prior.get(image), image_key):
                entries[image] = prior[image]
                reused += 1
                continue
            files = compute(image)
        except UserError as err:
            entries[image] = {"status": FAILED, "reason": one_line(err),
                              "log": failure_log(image)}
            failed += 1
            print(f"{stage} {image}: FAILED: {err}", file=sys.stderr)
            continue
        except Exception as err:  # a bug: keep the traceback in the log, record, go on
            traceback.print_exc()
            entries[image] = {"status": FAILED,
                              "reason": f"internal error {type(err).__name__}: {one_line(err)}",
                              "log": failure_log(image)}
            failed += 1
            continue
        entries[image] = {"status": OK, "key": image_key, "files": files}
        computed += 1
    wall = time.monotonic() - start
    print(f"{stage} {shard}: {computed} computed, {reused} reused, {failed} failed "
          f"in {wall:.2f} s", file=sys.stderr)
    own_cpu, children_cpu = process_cpu_seconds()
    # Measured by the job itself (getrusage): Snakemake's benchmark files sample the process
    # every 30 s after the first 15 s, so they miss the end of longer jobs.
    resources = {"computed": computed, "reused": reused, "failed": failed,
                 "loop_wall_s": round(wall, 3), "cpu_s": round(own_cpu, 3),
                 "children_cpu_s": round(children_cpu, 3)}
    data = {"stage": stage, "shard": shard, "images": entries, "resources": resources}
    atomic_write_text(summary, json.dumps(data, indent=1, sort_keys=True) + "\n")
    return data
