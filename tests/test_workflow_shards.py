"""Shards, failures and reruns on the real workflow (toy checkpoint, torch-int; dry runs for the
rest): a corrupt image is a failure record, the tables hold the other images and the run ends
non-zero naming the list; fixing it reruns only that image; adding an image reruns one shard;
the tvm-cpu library is built once for every shard; moving the folder or editing the package."""

from __future__ import annotations

import csv
import re
import shutil

import pytest
from PIL import Image
from workflow_helpers import run_workflow

pytestmark = pytest.mark.slow


def _jobs(run) -> dict[str, int]:
    """Snakemake's job-stats table of a (dry) run: {rule: count}."""
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", run.stdout + run.stderr,
                                                 re.M) if m[1] != "total"}


def _photo(path, seed: int) -> None:
    from skimage import data

    img = Image.fromarray(data.chelsea()).resize((48 + seed, 40))
    img.save(path)


@pytest.fixture(scope="module")
def failed_run(tmp_path_factory, toy_checkpoint):
    work = tmp_path_factory.mktemp("shards")
    photos = work / "photos"
    photos.mkdir()
    _photo(photos / "a.png", 0)
    _photo(photos / "b.png", 1)
    (photos / "bad.jpg").write_bytes(b"not a jpeg at all")
    config = {"checkpoint": str(toy_checkpoint), "backends": ["torch-int"],
              "images": "photos", "shards": {"size": 1}}  # relative: the folder may move
    run = run_workflow(work, config)
    return run, config


def test_corrupt_image_is_recorded_and_the_run_fails_at_the_end(failed_run):
    run, _ = failed_run
    res = run.workdir / "results"
    assert run.returncode != 0
    assert any("1 image(s) failed" in ln and "results/tables/failures.md" in ln
               for ln in run.error_lines()), run.stderr[-2000:]
    rows = list(csv.DictReader((res / "tables" / "predictions.csv").read_text().splitlines()))
    assert sorted({r["image"] for r in rows}) == ["a", "b"]
    failures = list(csv.DictReader((res / "tables" / "failures.csv").read_text().splitlines()))
    assert [(f["image"], f["stage"]) for f in failures] == [("bad", "quantize")]
    assert "not an image file" in failures[0]["reason"]
    assert "| bad | quantize |" in (res / "tables" / "failures.md").read_text()


def test_fix_reruns_only_the_failed_image_and_adding_one_reruns_one_shard(failed_run):
    run, config = failed_run
    work = run.workdir
    logits = {i: work / f"results/logits/torch-int/{i}.npy" for i in ("a", "b")}
    before = {i: p.stat().st_mtime_ns for i, p in logits.items()}
    _photo(work / "photos" / "bad.jpg", 2)  # the cause fixed
    dry = run_workflow(work, None, "--dry-run")
    assert _jobs(dry).get("quantize_images") == 1 and _jobs(dry).get("run_torch_int") == 1
    again = run_workflow(work, None)
    assert again.returncode == 0, again.stderr[-3000:]
    assert {i: p.stat().st_mtime_ns for i, p in logits.items()} == before
    assert (work / "results/logits/torch-int/bad.npy").is_file()
    assert "Every image succeeded" in (work / "results/tables/failures.md").read_text()
    assert "Nothing to be done" in run_workflow(work, None, "--dry-run").stdout

    _photo(work / "photos" / "c.png", 3)  # 4 images, still 4 shards of size 1
    dry = run_workflow(work, None, "--dry-run")
    jobs = _jobs(dry)
    assert jobs.get("quantize_images") == 1 and jobs.get("run_torch_int") == 1, jobs

    # tvm-cpu: one library build for all the (non-empty) shards.
    from ivit_gemmini.shards.plan import plan_shards

    shards = plan_shards(["a", "b", "bad", "c"], 1)
    assert len(shards) >= 2
    dry = run_workflow(work, {**config, "backends": ["torch-int", "tvm-cpu"]}, "--dry-run")
    jobs = _jobs(dry)
    assert jobs.get("build_tvm_cpu_library") == 1 and jobs.get("run_tvm_cpu") == len(shards)


def test_moved_folder_reruns_nothing_and_a_code_edit_reruns_its_stage(failed_run, tmp_path,
                                                                     repo):
    work = failed_run[0].workdir
    run_workflow(work, {**failed_run[1]})  # complete (c.png may have been added)
    moved = tmp_path / "moved"
    shutil.copytree(work, moved, symlinks=True)
    dry = run_workflow(moved, None, "--dry-run")
    assert "Nothing to be done" in dry.stdout, dry.stdout[-3000:]

    # A copy of the repository whose logit-file code differs: the backends rerun, not the
    # params export or the quantization (which do not use that module).
    copy = tmp_path / "repo"
    shutil.copytree(repo, copy, ignore=shutil.ignore_patterns(".venv", "results", "logs",
                                                              ".snakemake", ".git"))
    network = copy / "src/ivit_gemmini/evaluate/logits.py"
    network.write_text(network.read_text() + "\n# edited\n")
    import os
    import subprocess
    import sys

    env = dict(os.environ, PYTHONPATH=str(copy / "src"))
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(copy / "Snakefile"),
                           "--directory", str(work), "--configfile", str(work / "config.yaml"),
                           "--cores", "1", "--dry-run"], capture_output=True, text=True,
                          env=env, timeout=300)
    jobs = _jobs(subprocess.CompletedProcess([], 0, proc.stdout, proc.stderr))
    assert jobs.get("run_torch_int", 0) >= 1, proc.stdout
    assert "quantize_images" not in jobs and "export_params" not in jobs, jobs
