"""`ivit-infer`: options, the config it hands to the workflow, and the seed-style top-5 block.
The workflow itself is replaced by a TEST DOUBLE that writes the files Snakemake would."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from ivit_gemmini import cli_infer
from ivit_gemmini.config import load_schema, validate_config

REPO = Path(__file__).resolve().parents[1]


def test_help_explains_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli_infer.main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--image", "--checkpoint", "--simulator", "--output-dir", "--timeout",
                   "--verilator-binary", "--cores", "--class-names"):
        assert option in out
    assert "spike" in out and "verilator" in out and "Top-5" not in out


def test_top5_block_is_the_seeds_format() -> None:
    logits = [3, 9, 9, -1, 4, 12, 0]
    names = [f"name{i}" for i in range(7)]
    assert cli_infer.format_top5(logits, names) == (
        "Top-5 Predictions:\n"
        "  1. Class 5: name5\n"
        "  2. Class 1: name1\n"
        "  3. Class 2: name2\n"
        "  4. Class 4: name4\n"
        "  5. Class 0: name0"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--image", "missing.png"], "--image missing.png does not exist"),
        (["--image", "{img}", "--checkpoint", "nope.pth"], "--checkpoint nope.pth does not"),
        (["--image", "{img}", "--timeout", "0"], "--timeout 0 must be"),
        (["--image", "{img}", "--simulator", "verilator"], "needs --verilator-binary"),
    ],
)
def test_bad_options_give_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                   argv: list[str], message: str) -> None:
    img = tmp_path / "cat.png"
    img.write_bytes(b"x")
    argv = [a.replace("{img}", str(img)) for a in argv] + ["--output-dir", str(tmp_path / "o")]
    assert cli_infer.main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and message in err[-1]


def test_runs_the_workflow_for_one_image_and_prints_top5(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    img = tmp_path / "my cat.png"
    img.write_bytes(b"x")
    out = tmp_path / "out"
    seen: dict[str, list[str]] = {}

    def fake_workflow(cmd: list[str], log: Path) -> None:  # TEST DOUBLE of Snakemake
        seen["cmd"] = cmd
        work = Path(cmd[cmd.index("--directory") + 1])
        target = work / "results/logits/spike/cfg/my_cat.npy"
        target.parent.mkdir(parents=True)
        logits = np.zeros(1000, dtype=np.int64)
        logits[[282, 281, 285, 7, 999]] = [50, 40, 30, 20, 10]
        np.save(target, logits)
        summary = work / "results/shards/spike/cfg/0of1.json"
        summary.parent.mkdir(parents=True)
        summary.write_text(json.dumps({"stage": "spike", "images": {"my_cat": {
            "status": "ok", "key": "k", "files": {"logits": str(target.relative_to(work))}}}}))
        (work / "results/model").mkdir(parents=True)
        (work / "results/model/manifest.json").write_text(json.dumps({"arch": {
            "num_classes": 1000}}))

    monkeypatch.setattr(cli_infer, "run_workflow", fake_workflow)
    assert cli_infer.main(["--image", str(img), "--output-dir", str(out), "--timeout", "77",
                           "--cores", "1"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "Top-5 Predictions:"
    assert printed[1] == "  1. Class 282: tiger cat"
    assert [ln.split(":")[0] for ln in printed[2:6]] == [
        "  2. Class 281", "  3. Class 285", "  4. Class 7", "  5. Class 999"]

    cmd = seen["cmd"]
    assert cmd[-1] == "backend_outputs"
    assert cmd[cmd.index("-s") + 1] == str(REPO / "Snakefile")
    config = yaml.safe_load(Path(cmd[cmd.index("--configfile") + 1]).read_text())
    assert config["images"] == [str(img.resolve())]
    assert config["backends"] == ["spike"]
    assert config["spike"]["timeout_s"] == 77
    assert config["checkpoint"] == "demo"
    validate_config(config, load_schema(REPO / "workflow/schemas/config.schema.yaml"))


def test_stage_lines_name_what_the_workflow_does() -> None:
    assert cli_infer.stage_of("rule run_spike:") == cli_infer.STAGES["run_spike"]
    assert cli_infer.stage_of("localrule quantize_images:\n").startswith("quantizing")
    assert cli_infer.stage_of("rule some_new_rule:") == "some_new_rule"
    assert cli_infer.stage_of("    input: results/model/params.npz") is None
    assert cli_infer.stage_of("localrule backend_outputs:") is None


def _fake_workflow(seen: dict[str, list[str]]):  # TEST DOUBLE of Snakemake
    def run(cmd: list[str], log: Path) -> None:
        from ivit_gemmini.model.images import find_images

        seen["cmd"] = cmd
        work = Path(cmd[cmd.index("--directory") + 1])
        config = yaml.safe_load(Path(cmd[cmd.index("--configfile") + 1]).read_text())
        entries = {}
        for n, image in enumerate(sorted(find_images(config["images"]))):
            target = f"results/logits/spike/cfg/{image}.npy"
            (work / target).parent.mkdir(parents=True, exist_ok=True)
            logits = np.zeros(1000, dtype=np.int64)
            logits[n] = 5  # image n predicts class n
            np.save(work / target, logits)
            entries[image] = {"status": "ok", "key": "k", "files": {"logits": target}}
        summary = work / "results/shards/spike/cfg/0of1.json"
        summary.parent.mkdir(parents=True, exist_ok=True)
        summary.write_text(json.dumps({"stage": "spike", "images": entries}))
        (work / "results/model").mkdir(parents=True, exist_ok=True)
        (work / "results/model/manifest.json").write_text(json.dumps({"arch": {
            "num_classes": 1000}}))
    return run


def test_a_folder_classifies_every_image_in_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--image <folder>` said the folder does not exist; it now classifies each image."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("b dog.jpg", "a_cat.png"):
        (folder / name).write_bytes(b"x")
    (folder / "notes.txt").write_text("not an image")
    seen: dict[str, list[str]] = {}
    monkeypatch.setattr(cli_infer, "run_workflow", _fake_workflow(seen))
    assert cli_infer.main(["--image", str(folder), "--output-dir", str(tmp_path / "o")]) == 0
    cmd = seen["cmd"]
    assert cmd[cmd.index("--") + 1:] == ["backend_outputs"]
    config = yaml.safe_load(Path(cmd[cmd.index("--configfile") + 1]).read_text())
    assert config["images"] == [str(folder.resolve())]
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "a_cat.png:" and printed[2] == "  1. Class 0: tench, Tinca tinca"
    assert printed[8] == "b dog.jpg:" and printed[10].startswith("  1. Class 1: goldfish")


def test_a_folder_without_images_is_one_line(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    assert cli_infer.main(["--image", str(tmp_path / "empty"), "--output-dir",
                           str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: --image {tmp_path / 'empty'} is a folder without images (.jpg, "
                   ".png, ...): give an image file or a folder of images"]


def test_the_lock_of_a_killed_run_is_cleared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A killed ivit-infer leaves Snakemake's lock in --output-dir; the next run clears it
    (no Snakemake process works in that folder) instead of failing with the lock error."""
    img = tmp_path / "cat.png"
    img.write_bytes(b"x")
    locks = tmp_path / "o" / ".snakemake" / "locks"
    locks.mkdir(parents=True)
    (locks / "0.input.lock").write_text(str(tmp_path / "o" / "results/inputs/cat.bin"))
    monkeypatch.setattr(cli_infer, "run_workflow", _fake_workflow({}))
    assert cli_infer.main(["--image", str(img), "--output-dir", str(tmp_path / "o")]) == 0
    assert not locks.exists()
    assert "removed the lock a killed run left" in capsys.readouterr().err
