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
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from ivit_gemmini.paths import REPO_ENV


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


@dataclass
class Deployed:
    python: Path  # the env's interpreter
    checkout: Path  # the package's sources only (src/, pyproject.toml): no gemmini/ C sources
    run: Path  # the run's working directory
    environ: dict[str, str]  # the env's PATH, IVIT_GEMMINI_REPO unset


@pytest.fixture(scope="module")
def deployed(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Deployed:
    """An env with pip, and the package installed into it by the post-deploy script run the
    way Snakemake runs it (copied to .snakemake/conda/<hash>.post-deploy.sh, `sh <file>` from
    the run's folder), from a checkout elsewhere named by IVIT_GEMMINI_REPO."""
    tmp_path = tmp_path_factory.mktemp("conda")
    checkout = tmp_path / "checkout"
    shutil.copytree(repo / "src", checkout / "src", ignore=shutil.ignore_patterns(
        "__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(repo / name, checkout / name)
    env = tmp_path / "env"
    subprocess.run([sys.base_prefix + "/bin/python3", "-m", "venv", str(env)], check=True)
    run = tmp_path / "run"
    conda_dir = run / ".snakemake" / "conda"
    conda_dir.mkdir(parents=True)
    shutil.copy(repo / "envs" / "firmware.yaml", conda_dir / "0123abcd.yaml")
    shutil.copy(repo / "envs" / "firmware.post-deploy.sh", conda_dir / "0123abcd.post-deploy.sh")
    environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", REPO_ENV)}
    environ["PATH"] = f"{env / 'bin'}:{os.environ['PATH']}"
    proc = subprocess.run(["sh", str(conda_dir / "0123abcd.post-deploy.sh")], cwd=run,
                          env={**environ, REPO_ENV: str(checkout)}, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return Deployed(env / "bin" / "python", checkout, run, environ)


def test_post_deploy_installs_the_checkout_when_copied(deployed: Deployed) -> None:
    where = subprocess.run([str(deployed.python), "-c",
                            "import ivit_gemmini.paths as p; print(p.__file__)"],
                           cwd=deployed.run, env=deployed.environ, capture_output=True,
                           text=True, check=True)
    assert Path(where.stdout.strip()) == deployed.checkout / "src" / "ivit_gemmini" / "paths.py"


BUILD = """
import sys
from pathlib import Path
from ivit_gemmini.errors import UserError
from ivit_gemmini.firmware.toolchain import build_elf
try:
    build_elf([Path(sys.argv[1])], Path(sys.argv[2]), [])
except UserError as err:
    sys.exit(f"error: {err}")
"""


def test_package_outside_the_checkout_finds_the_c_sources_via_the_workflow(
        deployed: Deployed, repo: Path, tmp_path: Path) -> None:
    # The installed package's folder has no gemmini/ (as with any non-editable install): the
    # runtime's C sources come from the checkout the workflow exports.
    cmd = [str(deployed.python), "-c", BUILD, str(repo / "tests/spike_programs/runtime_silent.c"),
           str(tmp_path / "x.elf")]
    alone = subprocess.run(cmd, cwd=deployed.run, env=deployed.environ, capture_output=True,
                           text=True, check=False)
    assert alone.returncode != 0 and not (tmp_path / "x.elf").exists()
    assert alone.stderr.strip().count("\n") == 0 and REPO_ENV in alone.stderr, alone.stderr
    named = subprocess.run(cmd, cwd=deployed.run, env={**deployed.environ, REPO_ENV: str(repo)},
                           capture_output=True, text=True, check=False)
    assert named.returncode == 0, named.stderr
    assert (tmp_path / "x.elf").is_file()


def test_post_deploy_without_the_checkout_fails_with_one_line(tmp_path: Path,
                                                              repo: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if k != REPO_ENV}
    proc = subprocess.run(["sh", str(repo / "envs" / "install-package.sh")], cwd=tmp_path,
                          env=environ, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "IVIT_GEMMINI_REPO" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
