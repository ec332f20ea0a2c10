"""The shard jobs of each stage: set the model up once, then one small function per image.

Every function here is what one Snakemake shard job runs (through a `workflow/scripts` shim):
the model (params, checkpoint, compiled tvm-cpu library, libmodel.a + Spike extension) is loaded
once per job, so an image costs its own arithmetic only. Imports are per stage: quantization and
tvm-cpu import no torch.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ivit_gemmini.errors import UserError
from ivit_gemmini.shards.job import file_digest, job_key, read_summary, run_shard

INPUTS = "results/inputs"


def input_path(image: str) -> str:
    return f"{INPUTS}/{image}.bin"


@contextmanager
def shard_firmware(library: str | Path, manifest: str | Path, *, memory_mb: int, stack_kb: int,
                   inputs: str | Path = INPUTS) -> Iterator[Callable[[str], Path]]:
    """`firmware(image)` -> that image's ELF, for the images of one shard job: linked once (for
    the first image), then each next image's input bytes are written into the same ELF
    (`firmware.input_slot`), which saves three GCC runs per image. The ELF lives in a temporary
    folder, renamed after the image it holds so that messages name it."""
    from ivit_gemmini.firmware.elf import build_firmware_elf_from_manifest
    from ivit_gemmini.firmware.input_slot import InputSlot, find_input_slot, write_input

    with tempfile.TemporaryDirectory(prefix="ivit-elf-") as tmp:
        current: Path | None = None
        slot: InputSlot | None = None

        def firmware(image: str) -> Path:
            nonlocal current, slot
            source, elf = Path(inputs) / f"{image}.bin", Path(tmp) / f"{image}.elf"
            if current is None or slot is None:
                build_firmware_elf_from_manifest(Path(library), source, Path(manifest), elf,
                                                 memory_mb=memory_mb, stack_kb=stack_kb)
                current, slot = elf, find_input_slot(elf)
                return elf
            write_input(current, slot, source)
            current = current.rename(elf)
            return elf

        yield firmware


@contextmanager
def temporary_elf(image: str, library: str | Path, manifest: str | Path, *, memory_mb: int,
                  stack_kb: int, inputs: str | Path = INPUTS) -> Iterator[Path]:
    """One image's firmware ELF in a temporary folder, deleted afterwards: one libmodel.a per
    configuration is the only copy of the parameters on disk (`inputs`: the folder of the
    quantized images, another results tree's for the benchmarks)."""
    with shard_firmware(library, manifest, memory_mb=memory_mb, stack_kb=stack_kb,
                        inputs=inputs) as firmware:
        yield firmware(image)


def _simulator_files(backend: str, config: str, image: str) -> dict[str, str]:
    """Where a simulator backend keeps an image's logits, stats and log."""
    return {"logits": f"results/logits/{backend}/{config}/{image}.npy",
            "stats": f"results/stats/{backend}/{config}/{image}.json",
            "log": f"results/logs/{backend}/{config}/{image}.log"}


def _upstream(summaries: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Per-image entries of the quantize shard summaries this job reads."""
    entries: dict[str, dict[str, Any]] = {}
    for path in summaries:
        entries.update(read_summary(path).get("images", {}))
    return entries


def _input_key(image: str) -> str:
    return file_digest(input_path(image))


def _arch(manifest: str) -> dict[str, Any]:
    return json.loads(Path(manifest).read_text(encoding="utf-8"))["arch"]


def quantize_shard(shard: str, sources: Mapping[str, str], manifest: str, summary: str, *,
                   code: str, job_log: str, exif_orientation: bool = True) -> None:
    """Images (files, or digits test ids) -> `results/inputs/<image>.bin` (numpy + Pillow)."""
    from ivit_gemmini.model.images import (
        input_scale_and_arch,
        quantize_array,
        quantize_image_file,
        write_input,
    )
    from ivit_gemmini.paper.dataset import DIGITS_SOURCE

    scale, arch = input_scale_and_arch(manifest)
    digits: dict[str, np.ndarray] = {}

    def source_key(image: str) -> str:
        src = sources[image]
        return src if src == DIGITS_SOURCE else file_digest(src)

    def compute(image: str) -> dict[str, str]:
        out = input_path(image)
        if sources[image] == DIGITS_SOURCE:
            if not digits:
                digits.update(_digits_images(arch))
            if image not in digits:
                raise UserError(f"{image} is not a digits image id")
            size = int(arch["image_size"])
            write_input(out, quantize_array(digits[image], scale).reshape(1, size, size))
        else:
            quantize_image_file(sources[image], scale, arch, out,
                                exif_orientation=exif_orientation)
        return {"input": out}

    run_shard(stage="quantize", shard=shard, images=list(sources), summary=summary,
              key=job_key("quantize", code, [manifest], exif_orientation), input_key=source_key,
              compute=compute,
              failure_log=lambda image: job_log)


def _digits_images(arch: Mapping[str, Any]) -> dict[str, np.ndarray]:
    from ivit_gemmini.paper.digits import IMAGE_SIZE, images_by_id

    if (int(arch["in_chans"]), int(arch["image_size"])) != (1, IMAGE_SIZE):
        raise UserError(f"the checkpoint takes {arch['in_chans']}x{arch['image_size']}px images, "
                        "digits are 1x8x8: use 'checkpoint: digits' with 'dataset.source: digits'")
    return {image: x for image, (x, _) in images_by_id().items()}


def host_shard(backend: str, shard: str, images: Sequence[str], inputs: Sequence[str],
               model: Mapping[str, str], summary: str, *, code: str, job_log: str,
               num_heads: int | None = None) -> None:
    """torch-int, torch-fakequant or tvm-cpu on a shard: logits in results/logits/<backend>/."""
    from ivit_gemmini.evaluate.logits import float_to_int_logits, save_logits
    from ivit_gemmini.model.images import read_input

    arch = _arch(model["manifest"])
    shape = (int(arch["in_chans"]), int(arch["image_size"]))
    if backend == "torch-int":
        from ivit_gemmini.model.params import load_params
        from ivit_gemmini.spec.network import forward_int

        params = load_params(Path(model["npz"]), Path(model["manifest"]))

        def logits_of(x: np.ndarray) -> np.ndarray:
            out = np.asarray(forward_int(params, x)).reshape(-1)
            if out.dtype != np.int64:
                raise TypeError(f"forward_int returned {out.dtype}, expected int64")
            return out
        files = [model["npz"], model["manifest"]]
    elif backend == "torch-fakequant":
        from ivit_gemmini.model.checkpoint import load_checkpoint
        from ivit_gemmini.model.fakequant import forward_fakequant

        ckpt = load_checkpoint(Path(model["checkpoint"]), num_heads=num_heads)
        scale = float(json.loads(Path(model["manifest"]).read_text())["logit_scale"])

        def logits_of(x: np.ndarray) -> np.ndarray:
            return float_to_int_logits(np.asarray(forward_fakequant(ckpt, x), np.float64), scale)
        files = [model["checkpoint"], model["manifest"]]
    elif backend == "tvm-cpu":
        from ivit_gemmini.compile import tvm_adapter

        vm = tvm_adapter.load_vm(Path(model["library"]))

        def logits_of(x: np.ndarray) -> np.ndarray:
            return tvm_adapter.run_vm(vm, x).astype(np.int64).reshape(-1)
        files = [model["library"], model["manifest"]]
    else:
        raise UserError(f"backend {backend!r} is not a host backend")

    def compute(image: str) -> dict[str, str]:
        out = f"results/logits/{backend}/{image}.npy"
        save_logits(out, logits_of(read_input(input_path(image), shape[0], shape[1])))
        return {"logits": out}

    run_shard(stage=backend, shard=shard, images=images, summary=summary,
              key=job_key(backend, code, files, num_heads), input_key=_input_key,
              compute=compute, failure_log=lambda image: job_log, prior_inputs=_upstream(inputs))


def spike_shard(config: str, shard: str, images: Sequence[str], inputs: Sequence[str],
                library: str, extension: str, manifest: str, summary: str, *, code: str,
                job_log: str, timeout_s: float, memory_mb: int, stack_kb: int,
                backend: str = "spike") -> None:
    """spike on a shard: per image, its ELF (`shard_firmware`), run on Spike; its log, stats and
    logits under results/{logs,stats,logits}/<backend>/<config>/. `backend` "spike-rtl": the
    same with the extension whose mesh is our RTL."""
    from ivit_gemmini.simulate.spike_stage import run_spike_image

    num_classes = int(_arch(manifest)["num_classes"])
    with shard_firmware(library, manifest, memory_mb=memory_mb, stack_kb=stack_kb) as firmware:

        def compute(image: str) -> dict[str, str]:
            files = _simulator_files(backend, config, image)
            block = run_spike_image(firmware(image), Path(extension),
                                    timeout_s=float(timeout_s), log_path=Path(files["log"]),
                                    logits_path=Path(files["logits"]),
                                    stats_path=Path(files["stats"]), num_classes=num_classes,
                                    memory_mb=int(memory_mb))
            print(f"{backend} {image}: top-5 {block.top}, {block.counters['total'].instret} "
                  "instructions", file=sys.stderr)
            return files

        run_shard(stage=backend, shard=shard, images=images, summary=summary,
                  key=job_key(backend, code, [library, extension, manifest],
                              [memory_mb, stack_kb]),
                  input_key=_input_key, compute=compute,
                  failure_log=lambda image: _simulator_files(backend, config, image)["log"],
                  prior_inputs=_upstream(inputs))


def verilator_shard(config: str, shard: str, images: Sequence[str], inputs: Sequence[str],
                    library: str, manifest: str, summary: str, *, code: str, job_log: str,
                    simulator: str | None, dramsim_ini_dir: str | None, max_cycles: int,
                    timeout_s: float, memory_mb: int, stack_kb: int) -> None:
    """verilator on a shard, as `spike_shard`."""
    from ivit_gemmini.simulate.verilator_stage import check_verilator_config, run_verilator_image

    sim = check_verilator_config({"simulator": simulator, "dramsim_ini_dir": dramsim_ini_dir},
                                 ["verilator"])
    assert sim is not None
    num_classes = int(_arch(manifest)["num_classes"])
    with shard_firmware(library, manifest, memory_mb=memory_mb, stack_kb=stack_kb) as firmware:

        def compute(image: str) -> dict[str, str]:
            files = _simulator_files("verilator", config, image)
            run_verilator_image(
                firmware(image), simulator=sim,
                dramsim_ini_dir=Path(dramsim_ini_dir) if dramsim_ini_dir else None,
                max_cycles=int(max_cycles), timeout_s=float(timeout_s),
                log_path=Path(files["log"]), logits_path=Path(files["logits"]),
                stats_path=Path(files["stats"]), num_classes=num_classes)
            return files

        run_shard(stage="verilator", shard=shard, images=images, summary=summary,
                  key=job_key("verilator", code, [library, manifest, str(sim)],
                              [memory_mb, stack_kb]),
                  input_key=_input_key, compute=compute,
                  failure_log=lambda image: _simulator_files("verilator", config, image)["log"],
                  prior_inputs=_upstream(inputs))
