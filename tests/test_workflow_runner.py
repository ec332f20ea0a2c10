"""The runner behind `make demo` / `make paper` (ivit_gemmini.runner): a missing config file in
one line, a stale lock cleared by itself, relative config paths taken from where the command was
run, and one line per failed job at the end of the output."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from ivit_gemmini.runner import QUIET, resolve_config_paths, with_quiet

REPO = Path(__file__).resolve().parents[1]


def _runner(cwd: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ivit_gemmini.runner", "--snakefile",
                           str(REPO / "Snakefile"), "--cores", "2", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=timeout)


def _photo(path: Path) -> Path:
    from PIL import Image
    from skimage import data

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(data.chelsea()[::4, ::4]).save(path)
    return path


def test_make_demo_with_a_missing_config_is_one_line(tmp_path):
    """`make demo CONFIG=missing.yaml` printed Snakemake's 25-line traceback."""
    missing = tmp_path / "missing.yaml"
    proc = subprocess.run(["make", "-s", "-C", str(REPO), "demo", f"CONFIG={missing}"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr + proc.stdout
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert errors == [f"error: config file {missing} not found ({missing}): check CONFIG=... "
                      "or --configfile"]


def test_config_that_is_not_yaml_is_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("images: [a.png\n")
    proc = _runner(tmp_path, "-n", "--configfile", str(bad))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith(f"error: config file {bad} line ")


def test_quiet_never_swallows_a_target():
    assert with_quiet(["sm"], ["paper", "-n", "--cores", "1"]) == [
        "sm", "paper", *QUIET, "-n", "--cores", "1"]
    assert with_quiet(["sm"], ["all"]) == ["sm", "all", *QUIET]


def test_relative_paths_are_resolved_against_the_caller(tmp_path):
    config = {"checkpoint": "ck/c.pth", "images": ["a.png", "/abs/b.png"], "class_names":
              ["x", "y"], "dataset": {"source": "folder", "folder": "val", "labels": None},
              "verilator": {"simulator": None}}
    out = resolve_config_paths(config, tmp_path)
    assert out["checkpoint"] == str(tmp_path / "ck/c.pth")
    assert out["images"] == [str(tmp_path / "a.png"), "/abs/b.png"]
    assert out["class_names"] == ["x", "y"] and out["dataset"]["labels"] is None
    assert out["dataset"]["folder"] == str(tmp_path / "val")
    assert resolve_config_paths({"checkpoint": "demo", "images": "demo"}, tmp_path) == {
        "checkpoint": "demo", "images": "demo"}


def test_directory_run_finds_relative_paths_from_where_it_was_started(tmp_path, toy_checkpoint):
    """`make paper` runs in runs/paper/: a relative dataset.folder / checkpoint was looked up
    there ("does not exist"), not where the user typed the command."""
    (tmp_path / "ck").mkdir()
    (tmp_path / "ck" / "toy.pth").write_bytes(toy_checkpoint.read_bytes())
    _photo(tmp_path / "photos" / "cat.png")
    (tmp_path / "my.yaml").write_text(yaml.safe_dump(
        {"checkpoint": "ck/toy.pth", "images": "photos", "spike": {"timeout_s": 7}}))
    (tmp_path / "more.yaml").write_text(yaml.safe_dump(
        {"backends": ["torch-int"], "spike": {"mem_mb": 123}}))
    plain = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--snakefile",
                            str(REPO / "Snakefile"), "--directory", "runs/x", "--configfile",
                            "my.yaml"], cwd=tmp_path, capture_output=True, text=True)
    assert plain.returncode != 0  # what `make paper` did before: runs/x/photos not found
    proc = _runner(tmp_path, "-n", "--directory", "runs/x", "--configfile", "my.yaml",
                   "more.yaml")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "quantize_image" in proc.stdout + proc.stderr
    resolved = yaml.safe_load((tmp_path / "runs/x/.ivit-gemmini/config.resolved.yaml")
                              .read_text())
    assert resolved["spike"] == {"timeout_s": 7, "mem_mb": 123}  # merged as Snakemake does
    assert resolved["checkpoint"] == str(tmp_path / "ck/toy.pth")


def _wait_for(predicate, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.2)


@pytest.mark.slow
def test_stale_lock_of_a_killed_run_is_cleared_and_a_live_run_is_named(tmp_path,
                                                                       toy_checkpoint):
    work = tmp_path / "w"
    work.mkdir()
    (work / "config.yaml").write_text(yaml.safe_dump(
        {"checkpoint": str(toy_checkpoint), "images": str(_photo(tmp_path / "cat.png")),
         "backends": ["torch-int"]}))
    locks = work / ".snakemake" / "locks"
    cmd = [sys.executable, "-m", "snakemake", "results/model/params.npz", "--snakefile",
           str(REPO / "Snakefile"), "--cores", "1", "--configfile", "config.yaml"]
    # The live run as the runner and ivit-infer start Snakemake (ivit_gemmini.snakemake_main).
    live = subprocess.Popen([sys.executable, "-m", "ivit_gemmini.snakemake_main", *cmd[3:]],
                            cwd=work, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_for(lambda: locks.is_dir() and any(locks.iterdir()))
        # A live run holds the folder: the runner names it and leaves its lock alone.
        held = _runner(work, "results/model/params.npz", "--configfile", "config.yaml")
        assert held.returncode == 1
        assert f"another Snakemake run (pid {live.pid}) is working in" in held.stderr
        assert any(locks.iterdir())
    finally:
        os.killpg(live.pid, signal.SIGKILL)  # as a killed `make demo` (Ctrl-\, OOM killer)
        live.wait()
    assert any(locks.iterdir())  # the killed run's lock stays behind
    plain = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
    assert plain.returncode != 0 and "cannot be locked" in plain.stderr  # the old behaviour
    proc = _runner(work, "results/model/params.npz", "--configfile", "config.yaml")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "removed the lock a killed run left" in proc.stderr
    assert (work / "results" / "model" / "params.npz").is_file()


@pytest.mark.slow
def test_failed_jobs_are_summarised_last_one_line_each(tmp_path, toy_checkpoint):
    bad = tmp_path / "broken.jpg"
    bad.write_text("a text file renamed to .jpg")
    work = tmp_path / "w"
    work.mkdir()
    (work / "config.yaml").write_text(yaml.safe_dump(
        {"checkpoint": str(toy_checkpoint), "backends": ["torch-int"],
         "images": [str(_photo(tmp_path / "cat.png")), str(bad)]}))
    # An unreadable image is a failure record, not a failed shard: the run goes to the end,
    # writes the tables for the rest, and its last job (check_failures) fails naming the list.
    proc = _runner(work, "--configfile", "config.yaml")
    assert proc.returncode != 0
    assert "Shell command: None" not in proc.stdout + proc.stderr
    assert (work / "results/tables/predictions.csv").is_file()
    tail = proc.stderr.rstrip().splitlines()[-2:]
    assert tail[0] == "1 job(s) failed:"
    assert tail[1].startswith("  check_failures") and "results/tables/failures.md" in tail[1]
    assert f"not an image file: {bad}" in (work / "results/tables/failures.md").read_text()


def test_snakemake_main_exits_without_waiting_for_timers(tmp_path):
    """Snakemake's scheduler leaves threading.Timer threads behind; started through
    ivit_gemmini.snakemake_main the process ends when Snakemake returns. This Snakefile starts a
    10-minute timer itself: plain `python -m snakemake` would wait for it."""
    (tmp_path / "Snakefile").write_text(
        "import threading\n"
        "threading.Timer(600, lambda: None).start()\n"
        "rule all:\n    output: 'done.txt'\n    shell: 'echo ok > {output}'\n")
    proc = subprocess.run([sys.executable, "-m", "ivit_gemmini.snakemake_main", "--cores", "1",
                           "--directory", str(tmp_path), "-s", str(tmp_path / "Snakefile")],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "done.txt").read_text() == "ok\n"
