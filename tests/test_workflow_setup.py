"""The set-up behind `make demo` / `make test`: a no-op, fast, when nothing changed."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time


def test_setup_is_a_fast_noop_when_stamp_matches(repo, tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(sys.executable)
    # the stamp is the SHA-256 of requirements.txt followed by pyproject.toml
    digest = hashlib.sha256((repo / "requirements.txt").read_bytes()
                            + (repo / "pyproject.toml").read_bytes()).hexdigest()
    (venv / ".ivit-gemmini-installed").write_text(digest + "\n")
    start = time.perf_counter()
    # g++: a name with regex characters must still match exactly (installed by make setup)
    proc = subprocess.run([str(repo / "scripts" / "setup.sh"), "python3", "coreutils", "g++"],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "VENV": str(venv)})
    elapsed = time.perf_counter() - start
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and proc.stderr == ""  # nothing installed, nothing to say
    assert elapsed < 2.0


def test_makefile_targets(repo):
    proc = subprocess.run(["make", "-n", "demo", "test"], cwd=repo, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.count("scripts/setup.sh") == 1  # setup once, before both
    # make demo runs Snakemake through our runner (one-line failure summary, stale-lock recovery)
    assert "-m ivit_gemmini.runner --cores all --configfile config/config.yaml" in out
    assert "-m pytest" in out and "|| true" not in out
