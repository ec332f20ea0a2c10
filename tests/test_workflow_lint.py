"""The workflow's own hygiene: snakefmt, `snakemake --lint`, a dry run, ruff on the shims."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def _run(repo: Path, *cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, cwd=repo, timeout=300)


def test_snakefmt_clean(repo):
    proc = _run(repo, str(BIN / "snakefmt"), "--check", "Snakefile", "workflow/rules")
    assert proc.returncode == 0, proc.stderr


def test_snakemake_lint_clean(repo, tmp_path):
    proc = _run(repo, sys.executable, "-m", "snakemake", "--lint", "--directory", str(tmp_path),
                "--configfile", str(repo / "config/config.yaml"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Lints for" not in proc.stdout + proc.stderr


def test_dry_run_of_the_demo(repo, tmp_path):
    proc = _run(repo, sys.executable, "-m", "snakemake", "--dry-run", "--cores", "2",
                "--directory", str(tmp_path), "--configfile", str(repo / "config/config.yaml"))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for rule, count in [("export_demo_images", 1), ("make_demo_checkpoint", 1),
                        ("export_params", 1), ("quantize_images", 1), ("run_torch_int", 1),
                        ("run_torch_fakequant", 1), ("build_tvm_cpu_library", 1),
                        ("run_tvm_cpu", 1), ("run_spike", 1), ("compute_agreement", 1),
                        ("tabulate_predictions", 1)]:
        assert any(line.split() == [rule, str(count)] for line in out.splitlines()), rule
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize("checkpoint", ["demo", "demo-small"])
def test_dry_run_of_the_paper_target_on_a_demo_checkpoint(repo, tmp_path, checkpoint):
    """`snakemake paper` after `make demo` (README): every benchmark file the performance table
    declares is one a rule writes (Snakemake refuses the DAG otherwise)."""
    config = tmp_path / "config.yaml"
    config.write_text(f"checkpoint: {checkpoint}\n")
    proc = _run(repo, sys.executable, "-m", "snakemake", "--dry-run", "--cores", "2",
                "--directory", str(tmp_path), "--configfile", str(repo / "config/config.yaml"),
                str(config), "--", "paper")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert any(line.split() == ["tabulate_performance", "1"] for line in proc.stdout.splitlines())


def test_ruff_on_shims_and_stage_code(repo):
    proc = _run(repo, str(BIN / "ruff"), "check", "workflow/scripts", "benchmarks/bench_stages.py",
                "src/ivit_gemmini/evaluate", "src/ivit_gemmini/cli.py",
                "src/ivit_gemmini/config.py", "src/ivit_gemmini/model/images.py",
                "src/ivit_gemmini/shards", "src/ivit_gemmini/codehash.py")
    assert proc.returncode == 0, proc.stdout


def test_script_shims_are_thin(repo):
    for shim in (repo / "workflow/scripts").glob("*.py"):
        code = [ln for ln in shim.read_text().splitlines() if ln.strip()]
        assert len(code) <= 20, f"{shim.name} holds logic: move it into the package"
        assert "run_stage(snakemake.log" in shim.read_text(), shim.name


def test_ci_runs_make_test(repo):
    lines = [ln for ln in (repo / ".ci/run").read_text().splitlines()
             if ln.strip() and not ln.startswith("#")]
    assert lines[-1] == "exec make test"


def test_scenario_configs_dry_run(repo):
    """Every `.test/*.yaml` scenario validates and plans (run from the repository root)."""
    scenarios = sorted((repo / ".test").glob("*.yaml"))
    assert len(scenarios) >= 3
    for config in scenarios:
        proc = _run(repo, sys.executable, "-m", "snakemake", "--dry-run", "--nolock", "--cores",
                    "2", "--configfile", str(config))
        assert proc.returncode == 0, f"{config.name}: {proc.stderr[-2000:]}"
        assert "tabulate_predictions" in proc.stdout
