"""`run_stage`: stderr into the rule's log, one line and exit 1 on failure."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _run(tmp_path, body: str) -> subprocess.CompletedProcess:
    script = textwrap.dedent(f"""
        import sys
        from ivit_gemmini.cli import run_stage
        from ivit_gemmini.errors import UserError
        {body}
    """)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=tmp_path, timeout=60)


def test_user_error_is_one_line_and_exit_1(tmp_path):
    proc = _run(tmp_path, textwrap.dedent("""
        def stage():
            print("noise from the stage", file=sys.stderr)
            raise UserError("image x.jpg is not an image: use JPEG or PNG")
        run_stage("logs/s.log", stage)
    """).replace("\n", "\n        "))
    assert proc.returncode == 1
    assert proc.stderr == "error: image x.jpg is not an image: use JPEG or PNG\n"
    log = (tmp_path / "logs/s.log").read_text()
    assert "noise from the stage" in log and "error: image x.jpg" in log


def test_bug_keeps_traceback_in_log(tmp_path):
    proc = _run(tmp_path, textwrap.dedent("""
        def stage():
            return {}["missing"]
        run_stage("s.log", stage)
    """).replace("\n", "\n        "))
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("internal error in stage: KeyError")
    assert "Traceback" in (tmp_path / "s.log").read_text()
    # The log ends with the same line, so the runner's failure summary finds it there.
    assert (tmp_path / "s.log").read_text().splitlines()[-1] == lines[0]


def test_success_returns_value_and_restores_stderr(tmp_path):
    proc = _run(tmp_path, textwrap.dedent("""
        value = run_stage("s.log", lambda a, b: a + b, 2, b=3)
        print("after", value, file=sys.stderr)
    """).replace("\n", "\n        "))
    assert proc.returncode == 0 and proc.stderr == "after 5\n"


def test_cli_predictions_missing_folder(tmp_path):
    from ivit_gemmini.cli import main

    assert main(["predictions", str(tmp_path)]) == 1
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables/predictions.md").write_text("# Top-5 predictions\n")
    assert main(["predictions", str(tmp_path)]) == 0
