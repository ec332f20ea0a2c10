"""One linked ELF per shard job: writing an image's input into the ELF (firmware/input_slot.py)
must give exactly what a fresh link for that image loads, and the logits numpy computes.
The model is the stand-in library (a TEST DOUBLE of the compiled DeiT library)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from elftools.elf.elffile import ELFFile
from firmware_helpers import (
    CLASSES,
    INPUT_BYTES,
    make_standin_archive,
    random_input,
    standin_defines,
    standin_golden,
)

from ivit_gemmini.errors import UserError
from ivit_gemmini.firmware.elf import build_model_library, link_firmware_elf
from ivit_gemmini.firmware.input_slot import find_input_slot, write_input
from ivit_gemmini.shards.stages import shard_firmware
from ivit_gemmini.simulate.spike_stage import run_spike_image


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    archive = make_standin_archive(tmp_path_factory.mktemp("standin") / "model.tar")
    return build_model_library(archive, archive.parent / "libmodel.a", defines=standin_defines())


def _input(tmp: Path, name: str, seed: int) -> Path:
    path = tmp / f"{name}.bin"
    random_input(seed).astype(np.int8).tofile(path)
    return path


def _link(library: Path, inp: Path, out: Path) -> Path:
    return link_firmware_elf(library, inp, out, num_classes=CLASSES, input_bytes=INPUT_BYTES)


def _loaded(elf: Path) -> list[tuple[int, int, bytes]]:
    """What a loader puts in memory: (address, size in memory, file bytes) per PT_LOAD."""
    with open(elf, "rb") as fh:
        image = ELFFile(fh)
        return [(seg["p_paddr"], seg["p_memsz"], seg.data())
                for seg in image.iter_segments("PT_LOAD")] + [(image["e_entry"], 0, b"")]


def test_patched_elf_loads_exactly_what_a_fresh_link_loads(library: Path, tmp_path: Path) -> None:
    a, b = _input(tmp_path, "a", 1), _input(tmp_path, "b", 2)
    patched = _link(library, a, tmp_path / "patched.elf")
    fresh = _link(library, b, tmp_path / "fresh.elf")
    assert _loaded(patched) != _loaded(fresh)  # the two inputs differ in a loaded segment
    slot = find_input_slot(patched)
    assert slot.size == INPUT_BYTES
    assert patched.read_bytes()[slot.offset:slot.offset + slot.size] == a.read_bytes()
    write_input(patched, slot, b)
    assert _loaded(patched) == _loaded(fresh)


def test_shard_firmware_gives_each_image_its_logits(library: Path, tmp_path: Path) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"arch": {"num_classes": CLASSES, "in_chans": 3,
                                             "image_size": 8}}))
    seeds = {"first": 3, "second": 4, "third": 5}
    for name, seed in seeds.items():
        _input(inputs, name, seed)
    with shard_firmware(library, manifest, memory_mb=256, stack_kb=512,
                        inputs=inputs) as firmware:
        for name, seed in seeds.items():
            elf = firmware(name)
            assert elf.name == f"{name}.elf" and len(list(elf.parent.iterdir())) == 1
            block = run_spike_image(elf, None, timeout_s=30.0, log_path=tmp_path / f"{name}.log",
                                    logits_path=tmp_path / f"{name}.npy",
                                    stats_path=tmp_path / f"{name}.json", num_classes=CLASSES)
            assert block.logits.tolist() == standin_golden(random_input(seed)).tolist()
        (inputs / "short.bin").write_bytes(b"\0" * 5)
        with pytest.raises(UserError, match="has 5 bytes but the model expects 192"):
            firmware("short")
        with pytest.raises(UserError, match="missing.bin does not exist"):
            firmware("missing")
    assert not elf.parent.exists()  # the temporary folder is gone


def test_elf_without_input_symbol_is_refused(tmp_path: Path) -> None:
    elf = tmp_path / "spike.elf"
    shutil.copyfile(shutil.which("true") or "/bin/true", elf)  # a host ELF, stripped
    with pytest.raises(UserError, match="symbol table|no symbol ivit_input"):
        find_input_slot(elf)
