"""The MLF-style archive: contents, and a host build of it (gcc + ctypes) equal to forward_int.

The host build replaces the Gemmini wrappers by plain C (IVIT_GEMMINI_HOST_REF); everything
else (TVM's kernels, the AOT run function, memory plan, parameter blob) is what RISC-V builds.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile

import numpy as np
import pytest
from compile_helpers import ODD, ONE_BLOCK, TWO_BLOCK, random_image, random_params

from ivit_gemmini.compile import host_build, mlf
from ivit_gemmini.spec.network import forward_int


def _build(params, tmp_path, offload: bool = True):  # noqa: ANN001, ANN202
    tar = tmp_path / "build" / "model.tar"
    meta = mlf.emit_model_library(params, tar, offload=offload)
    root = mlf.unpack_archive(tar, tmp_path / "unpacked")
    so = host_build.build_host_library(root)
    model = host_build.HostModel(so, int(np.prod(meta["input"]["shape"])), params.arch.num_classes)
    return tar, root, meta, model


@pytest.mark.parametrize("arch", [ONE_BLOCK, TWO_BLOCK, ODD], ids=["one-block", "two-block", "odd"])
def test_host_build_of_the_archive_equals_forward_int(arch, tmp_path) -> None:  # noqa: ANN001
    params = random_params(arch, seed=7)
    _, _, meta, model = _build(params, tmp_path)
    for seed in range(3):
        image = random_image(arch, seed)
        np.testing.assert_array_equal(model(image), forward_int(params, image))
    kinds = {k["kind"] for k in meta["kernels"]}
    assert kinds == {"gemmini", "core"}


def test_archive_layout_and_metadata(tmp_path) -> None:  # noqa: ANN001
    params = random_params(ONE_BLOCK, seed=8)
    tar, root, meta, _ = _build(params, tmp_path)
    with tarfile.open(tar) as t:
        names = set(t.getnames())
    for required in (
        "codegen/host/src/kernels.c",
        "codegen/host/src/model.c",
        "codegen/host/src/ivit_gemmini_ops.c",
        "codegen/host/src/params.S",
        "codegen/host/include/ivit_model.h",
        "codegen/host/include/tvm/ffi/c_api.h",
        "parameters/params.bin",
        "metadata.json",
        "graph.py",
    ):
        assert required in names, required
    on_disk = json.loads((root / "metadata.json").read_text())
    assert on_disk["tvm_version"] == "0.27.0.post1" and on_disk["gemmini"]["dim"] == 16
    # Every weight byte is in params.bin, not in C: the blob holds at least all weights.
    weights = sum(a.nbytes for k, a in params.arrays.items() if k.endswith(".weight"))
    blob = (root / "parameters/params.bin").read_bytes()
    assert (
        len(blob)
        >= weights
        == sum(a.nbytes for k, a in params.arrays.items() if k.endswith(".weight"))
    )
    qkv = params["blocks.0.qkv.weight"]
    assert np.ascontiguousarray(qkv.T).tobytes() in blob  # stored (in, out) for Gemmini's B
    c_bytes = sum(p.stat().st_size for p in (root / "codegen/host/src").glob("*.c"))
    assert c_bytes < 400_000
    plan = meta["memory_plan"]
    arena = [b for b in plan["buffers"] if b["where"] == "arena"]
    assert plan["arena_bytes"] < sum(b["bytes"] for b in arena)  # buffers share memory
    # The archive is deterministic: same params -> same bytes.
    again = mlf.generate_library(params)
    assert (
        again.files["codegen/host/src/model.c"] == (root / "codegen/host/src/model.c").read_bytes()
    )


def test_core_only_archive_is_exact_too(tmp_path) -> None:  # noqa: ANN001
    params = random_params(ONE_BLOCK, seed=9)
    _, _, meta, model = _build(params, tmp_path, offload=False)
    assert {k["kind"] for k in meta["kernels"]} == {"core"}
    image = random_image(ONE_BLOCK, 1)
    np.testing.assert_array_equal(model(image), forward_int(params, image))


def test_corrupted_parameter_blob_changes_the_logits(tmp_path) -> None:  # noqa: ANN001
    params = random_params(ONE_BLOCK, seed=10)
    _, root, meta, _ = _build(params, tmp_path)
    blob = bytearray((root / "parameters/params.bin").read_bytes())
    first = next(b for b in meta["memory_plan"]["buffers"] if b["where"] == "params")
    blob[first["offset"] : first["offset"] + 64] = bytes(64)  # zero part of the first constant
    (root / "parameters/params.bin").write_bytes(bytes(blob))
    model = host_build.HostModel(
        host_build.build_host_library(root, root / "bad.so"),
        int(np.prod(meta["input"]["shape"])),
        10,
    )
    image = random_image(ONE_BLOCK, 0)
    assert not np.array_equal(model(image), forward_int(params, image))


@pytest.mark.skipif(shutil.which("riscv64-unknown-elf-gcc") is None, reason="no RISC-V gcc")
def test_archive_sources_compile_for_riscv(tmp_path) -> None:  # noqa: ANN001
    _, root, _, _ = _build(random_params(ONE_BLOCK, seed=11), tmp_path)
    flags = [
        "-march=rv64gc",
        "-mabi=lp64d",
        "-mcmodel=medany",
        "-O2",
        "--specs=picolibc.specs",
        "-DIVIT_GEMMINI_HOST_REF",
        "-DIVIT_COUNTERS",
        "-Werror=implicit-function-declaration",
        f"-I{root / 'codegen/host/include'}",
        f"-Wa,-I{root / 'parameters'}",
        "-c",
    ]
    for src in sorted((root / "codegen/host/src").iterdir()):
        out = tmp_path / f"{src.name}.o"
        subprocess.run(["riscv64-unknown-elf-gcc", *flags, str(src), "-o", str(out)], check=True)
        assert out.stat().st_size > 0
