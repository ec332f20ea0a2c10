"""`--sdm conda`: Snakemake copies each envs/<stage>.yaml (and its post-deploy script) under
.snakemake/conda/, so nothing in them may be relative to envs/. Conda channels are not
reachable here, so the envs are not solved; this checks what can be checked: every env a rule
uses is valid YAML without a relative pip entry, has the post-deploy script, and that script,
run the way Snakemake runs it (copied, from the run's working directory, in an environment
with pip), installs the package from the checkout the workflow names."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml


def _env_files(repo: Path) -> list[Path]:
    """Every env file a rule names (`conda: "../../envs/x.yaml"`)."""
    rules = "".join(p.read_text() for p in (repo / "workflow" / "rules").glob("*.smk"))
    names = sorted(set(re.findall(r'"\.\./\.\./envs/([a-z]+\.yaml)"', rules)))
    assert names, "no rule names a conda env"
    return [repo / "envs" / n for n in names]


def test_envs_have_no_relative_install_and_a_post_deploy_script(repo: Path) -> None:
    for env in _env_files(repo):
        spec = yaml.safe_load(env.read_text())
        pip = next(d["pip"] for d in spec["dependencies"] if isinstance(d, dict))
        assert not [p for p in pip if p.startswith("-") or "/" in p or ".." in p], env.name
        script = env.with_name(env.stem + ".post-deploy.sh")
        assert script.resolve() == repo / "envs" / "install-package.sh", script


def test_workflow_exports_its_checkout(repo: Path) -> None:
    common = (repo / "workflow" / "rules" / "common.smk").read_text()
    assert "os.environ.update(IVIT_GEMMINI_REPO=str(Path(workflow.basedir).resolve()))" in common
    assert (repo / "Snakefile").is_file()  # workflow.basedir is the Snakefile's folder


def test_post_deploy_installs_the_checkout_when_copied(repo: Path, tmp_path: Path) -> None:
    # A checkout elsewhere (only what the install needs), an env with pip, a run folder.
    checkout = tmp_path / "checkout"
    shutil.copytree(repo / "src", checkout / "src", ignore=shutil.ignore_patterns(
        "__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(repo / name, checkout / name)
    env = tmp_path / "env"
    subprocess.run([sys.base_prefix + "/bin/python3", "-m", "venv", str(env)], check=True)
    run = tmp_path / "run"
    deployed = run / ".snakemake" / "conda"
    deployed.mkdir(parents=True)
    # As Snakemake deploys it: <hash>.yaml and <hash>.post-deploy.sh, run as `sh <file>`.
    shutil.copy(repo / "envs" / "firmware.yaml", deployed / "0123abcd.yaml")
    shutil.copy(repo / "envs" / "firmware.post-deploy.sh", deployed / "0123abcd.post-deploy.sh")
    environ = dict(os.environ, PATH=f"{env / 'bin'}:{os.environ['PATH']}",
                   IVIT_GEMMINI_REPO=str(checkout))
    environ.pop("PYTHONPATH", None)
    proc = subprocess.run(["sh", str(deployed / "0123abcd.post-deploy.sh")], cwd=run,
                          env=environ, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    where = subprocess.run([str(env / "bin" / "python"), "-c",
                            "import ivit_gemmini.paths as p; print(p.__file__)"],
                           cwd=run, env=environ, capture_output=True, text=True, check=True)
    assert Path(where.stdout.strip()) == checkout / "src" / "ivit_gemmini" / "paths.py"


def test_post_deploy_without_the_checkout_fails_with_one_line(tmp_path: Path,
                                                              repo: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if k != "IVIT_GEMMINI_REPO"}
    proc = subprocess.run(["sh", str(repo / "envs" / "install-package.sh")], cwd=tmp_path,
                          env=environ, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "IVIT_GEMMINI_REPO" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
