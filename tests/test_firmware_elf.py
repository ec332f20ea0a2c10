"""ELF stage end to end with the stand-in model (a TEST DOUBLE of the compiled DeiT library):
library once, per-image link, Spike run, parsed logits equal to numpy's, and clean failures."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from firmware_helpers import (
    CLASSES,
    INPUT_BYTES,
    make_standin_archive,
    random_input,
    standin_defines,
    standin_golden,
)

from ivit_gemmini.errors import UserError
from ivit_gemmini.firmware.elf import build_model_library, input_assembly, link_firmware_elf
from ivit_gemmini.simulate.prediction_log import parse_prediction_log
from ivit_gemmini.simulate.spike_stage import run_spike_image


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_standin_archive(tmp_path_factory.mktemp("standin") / "model.tar")


@pytest.fixture(scope="module")
def library(archive: Path) -> Path:
    return build_model_library(archive, archive.parent / "libmodel.a", defines=standin_defines())


def _link(library: Path, tmp: Path, name: str, data: np.ndarray) -> Path:
    inp = tmp / f"{name}.bin"
    data.astype(np.int8).tofile(inp)
    return link_firmware_elf(library, inp, tmp / f"{name}.elf", num_classes=CLASSES,
                             input_bytes=INPUT_BYTES)


def _run(elf: Path, tmp: Path, timeout_s: float = 30.0):
    name = elf.stem
    return run_spike_image(elf, None, timeout_s=timeout_s, log_path=tmp / f"{name}.log",
                           logits_path=tmp / f"{name}.npy", stats_path=tmp / f"{name}.json",
                           num_classes=CLASSES)


def test_library_is_a_static_archive_of_the_sources(library: Path) -> None:
    assert library.read_bytes().startswith(b"!<arch>\n")
    assert b"ivit_model_run" in library.read_bytes()
    assert b"standin_bias" in library.read_bytes()


def test_input_assembly_refuses_quotes(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="quote"):
        input_assembly(tmp_path / 'a"b.bin')


@pytest.mark.parametrize("seed", [0, 1])
def test_spike_logits_equal_numpy(library: Path, tmp_path: Path, seed: int) -> None:
    data = random_input(seed)
    elf = _link(library, tmp_path, f"img{seed}", data)
    block = _run(elf, tmp_path)
    golden = standin_golden(data)
    assert block.logits.tolist() == golden.tolist()
    saved = np.load(tmp_path / f"img{seed}.npy")
    assert saved.dtype == np.int64 and saved.tolist() == golden.tolist()
    stats = json.loads((tmp_path / f"img{seed}.json").read_text())
    assert stats["kernels"]["core"]["calls"] == 1
    assert stats["kernels"]["total"]["instret"] >= stats["kernels"]["core"]["instret"] > 0
    assert [s["name"] for s in stats["steps"]] == ["standin_dense"]
    assert stats["steps"][0]["instret"] == stats["kernels"]["core"]["instret"]
    assert "IVIT-DONE status=0" in (tmp_path / f"img{seed}.log").read_text()


def test_extreme_inputs_saturate_nothing(library: Path, tmp_path: Path) -> None:
    for name, value in (("lo", -128), ("hi", 127)):
        data = np.full(INPUT_BYTES, value, dtype=np.int8)
        block = _run(_link(library, tmp_path, name, data), tmp_path)
        assert block.logits.tolist() == standin_golden(data).tolist()


def test_new_image_is_a_link_not_a_rebuild(library: Path, tmp_path: Path) -> None:
    before = library.stat().st_mtime_ns
    start = time.monotonic()
    _link(library, tmp_path, "quick", random_input(5))
    assert time.monotonic() - start < 10.0
    assert library.stat().st_mtime_ns == before


def test_wrong_input_size_is_refused(library: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="has 5 bytes but the model expects 192"):
        _link(library, tmp_path, "short", np.zeros(5, dtype=np.int8))


@pytest.mark.parametrize(
    ("mode", "message"),
    [("STANDIN_TRAP", "illegal instruction"), ("STANDIN_FAIL", "status 3")],
)
def test_failing_model_leaves_log_but_no_logits(archive: Path, tmp_path: Path, mode: str,
                                                message: str) -> None:
    lib = build_model_library(archive, tmp_path / "lib.a", defines=standin_defines(**{mode: 1}))
    elf = _link(lib, tmp_path, "bad", random_input(2))
    with pytest.raises(UserError, match=message):
        _run(elf, tmp_path)
    assert not (tmp_path / "bad.npy").exists()
    assert (tmp_path / "bad.log").is_file()


def test_timeout_leaves_log_but_no_logits(archive: Path, tmp_path: Path) -> None:
    lib = build_model_library(archive, tmp_path / "lib.a", defines=standin_defines(STANDIN_HANG=1))
    elf = _link(lib, tmp_path, "hang", random_input(3))
    with pytest.raises(UserError, match="timed out after 1 s"):
        _run(elf, tmp_path, timeout_s=1.0)
    assert not (tmp_path / "hang.npy").exists()
    assert "TIMEOUT" in (tmp_path / "hang.log").read_text()


def test_cut_log_is_refused_even_if_spike_succeeded(library: Path, tmp_path: Path) -> None:
    _run(_link(library, tmp_path, "cut", random_input(4)), tmp_path)
    text = (tmp_path / "cut.log").read_text()
    cut = text[: text.index("IVIT-END")]
    with pytest.raises(UserError, match="truncated"):
        parse_prediction_log(cut)
