"""The real compile-stage archive (model.tar of ivit_gemmini.compile.mlf) through the firmware
stage and Spike with our Gemmini extension: logits identical to torch-int (the specification),
per-kind counters present, Gemmini really used."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
from compile_helpers import ODD, ONE_BLOCK, TWO_BLOCK, random_params

from ivit_gemmini.compile.mlf import emit_model_library
from ivit_gemmini.errors import UserError
from ivit_gemmini.evaluate.agreement import write_agreement
from ivit_gemmini.firmware.elf import build_model_library, link_firmware_elf
from ivit_gemmini.simulate.spike import build_extension
from ivit_gemmini.simulate.spike_stage import run_spike_image
from ivit_gemmini.spec.network import forward_int

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(("arch", "seed"), [(TWO_BLOCK, 0), (ODD, 3)], ids=["two-block", "odd"])
def test_spike_logits_equal_torch_int(tmp_path: Path, arch, seed: int) -> None:
    params = random_params(arch, seed=seed)
    emit_model_library(params, tmp_path / "model.tar")
    library = build_model_library(tmp_path / "model.tar", tmp_path / "libmodel.a")
    extension = build_extension(REPO / "build" / "spike")
    rng = np.random.default_rng(seed + 10)
    for n in range(2):
        image = rng.integers(-128, 128, (arch.in_chans, arch.image_size, arch.image_size))
        image = image.astype(np.int8)
        image.tofile(tmp_path / f"in{n}.bin")
        elf = link_firmware_elf(library, tmp_path / f"in{n}.bin", tmp_path / f"m{n}.elf",
                                num_classes=arch.num_classes, input_bytes=image.size)
        block = run_spike_image(elf, extension, timeout_s=300, log_path=tmp_path / f"m{n}.log",
                                logits_path=tmp_path / f"m{n}.npy",
                                stats_path=tmp_path / f"m{n}.json", num_classes=arch.num_classes)
        expected = np.asarray(forward_int(params, image)).astype(np.int64)
        assert block.logits.tolist() == expected.tolist()
        assert np.load(tmp_path / f"m{n}.npy").tolist() == expected.tolist()
        gemmini, core = block.counters["gemmini"], block.counters["core"]
        assert gemmini.calls > 0 and core.calls > 0
        assert block.counters["total"].instret >= gemmini.instret + core.instret
        assert len(block.steps) == gemmini.calls + core.calls
        assert sum(s.instret for s in block.steps if s.kind == "gemmini") == gemmini.instret


def test_corrupted_gemmini_weight_is_caught_by_agreement(tmp_path: Path) -> None:
    """Flip one byte of the patch-embedding weight (a Gemmini matmul operand) inside the archive:
    the Spike logits must differ from torch-int, and the agreement check must refuse them."""
    arch = ONE_BLOCK
    params = random_params(arch, seed=1)
    emit_model_library(params, tmp_path / "good.tar")
    with tarfile.open(tmp_path / "good.tar") as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    meta = json.loads(members["metadata.json"])
    shape = [arch.dim, arch.in_chans * arch.patch_size**2]  # patch.weight, int8
    patch = next(b for b in meta["memory_plan"]["buffers"]
                 if b["where"] == "params" and b["dtype"] == "int8"
                 and sorted(b["shape"]) == sorted(shape))  # stored (out, in) or (in, out)
    blob = bytearray(members["parameters/params.bin"])
    blob[patch["offset"] + 5] ^= 0x40
    members["parameters/params.bin"] = bytes(blob)
    with tarfile.open(tmp_path / "bad.tar", "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    library = build_model_library(tmp_path / "bad.tar", tmp_path / "libbad.a")
    image = np.random.default_rng(7).integers(-128, 128, (arch.in_chans, arch.image_size,
                                                           arch.image_size)).astype(np.int8)
    image.tofile(tmp_path / "in.bin")
    elf = link_firmware_elf(library, tmp_path / "in.bin", tmp_path / "bad.elf",
                            num_classes=arch.num_classes, input_bytes=image.size)
    block = run_spike_image(elf, build_extension(REPO / "build" / "spike"), timeout_s=300,
                            log_path=tmp_path / "bad.log", logits_path=tmp_path / "bad.npy",
                            stats_path=tmp_path / "bad.json", num_classes=arch.num_classes)
    expected = np.asarray(forward_int(params, image)).astype(np.int64)
    assert block.logits.tolist() != expected.tolist()
    logits = {"torch-int": {"img": expected}, "spike": {"img": block.logits}}
    with pytest.raises(UserError, match="torch-int vs spike differ on 1 of 1 images"):
        write_agreement(logits, ["torch-int", "spike"], ["img"], on_mismatch="fail", demo=False,
                        csv_out=tmp_path / "a.csv", md_out=tmp_path / "a.md")
    assert not (tmp_path / "a.csv").exists()
