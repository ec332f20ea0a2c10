"""Host backends in batches: one job computes many images' logits, each kept in its own file.

A Snakemake job starts Python and imports torch (about 3 CPU seconds) before any work, which
for a model as small as the digits ViT is 100 times the inference itself: 360 test images on
two host backends would be 720 such jobs. For data-set runs the paper stage therefore runs the
host backends in batches of `paper.batch_size` images, calling the very same per-image stage
functions (`evaluate.host_backends`) in one process; the outputs are the usual
`results/logits/{backend}/{image}.npy`, so every table reads them unchanged. tvm-cpu does what
the compile stage's `run_tvm_cpu` does, with its compiled library loaded once per batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ivit_gemmini.errors import UserError

HOST_BACKENDS = ("torch-int", "torch-fakequant", "tvm-cpu")
TVM_CACHE = "results/build/tvm-cpu"  # the compile stage's cache of the compiled host library


def run_host_batch(backend: str, npz: str, manifest: str, checkpoint: str | None,
                   num_heads: int | None, inputs: Sequence[str], outputs: Sequence[str]) -> None:
    """Logits of every `inputs[i]` (an int8 input file) into `outputs[i]`."""
    from ivit_gemmini.evaluate.host_backends import run_torch_fakequant, run_torch_int

    if len(inputs) != len(outputs):
        raise ValueError(f"{len(inputs)} inputs but {len(outputs)} outputs")
    if backend == "tvm-cpu":
        _run_tvm_cpu_batch(npz, manifest, inputs, outputs)
        return
    for image_bin, out in zip(inputs, outputs, strict=True):
        if Path(image_bin).stem != Path(out).stem:
            raise ValueError(f"input {image_bin} does not match output {out}")
        if backend == "torch-int":
            run_torch_int(npz, manifest, image_bin, out)
        elif backend == "torch-fakequant":
            if checkpoint is None:
                raise UserError("torch-fakequant needs the checkpoint")
            run_torch_fakequant(checkpoint, num_heads, npz, manifest, image_bin, out)
        else:
            raise UserError(f"backend {backend!r} cannot run in host batches "
                            f"(only {', '.join(HOST_BACKENDS)})")


def _run_tvm_cpu_batch(npz: str, manifest: str, inputs: Sequence[str],
                       outputs: Sequence[str]) -> None:
    """What the compile stage's `run_tvm_cpu` does per image, with its compiled library
    (`CpuBackend`, cached on disk) loaded once for the batch instead of once per image."""
    from ivit_gemmini.compile.cpu_backend import CpuBackend
    from ivit_gemmini.evaluate.logits import save_logits
    from ivit_gemmini.model.images import read_input
    from ivit_gemmini.model.params import load_params

    params = load_params(Path(npz), Path(manifest))
    backend = CpuBackend(params, Path(TVM_CACHE))
    for image_bin, out in zip(inputs, outputs, strict=True):
        if Path(image_bin).stem != Path(out).stem:
            raise ValueError(f"input {image_bin} does not match output {out}")
        image = read_input(image_bin, params.arch.in_chans, params.arch.image_size)
        save_logits(out, backend(image))


def run_spike_batch(library: str, extension: str, manifest: str, inputs: Sequence[str],
                    elfs: Sequence[str], logits: Sequence[str], stats: Sequence[str],
                    spike_logs: Sequence[str], *, timeout_s: float, memory_mb: int,
                    stack_kb: int) -> None:
    """The spike backend on a batch: per image, link its ELF (the firmware stage's function)
    and run it on Spike (the simulate stage's function), keeping each image's Spike log,
    statistics and logits exactly as `build_firmware_elf` + `run_spike` would."""
    from ivit_gemmini.firmware.elf import build_firmware_elf_from_manifest
    from ivit_gemmini.simulate.spike_stage import run_spike_stage

    files = list(zip(inputs, elfs, logits, stats, spike_logs, strict=True))
    for image_bin, elf, out, stat, log in files:
        if len({Path(p).stem for p in (image_bin, elf, out, stat, log)}) != 1:
            raise ValueError(f"files of different images in one batch row: {image_bin}, {out}")
        build_firmware_elf_from_manifest(Path(library), Path(image_bin), Path(manifest),
                                         Path(elf), memory_mb=memory_mb, stack_kb=stack_kb)
        run_spike_stage(elf, extension, manifest, timeout_s=timeout_s, log_path=log,
                        logits_path=out, stats_path=stat, memory_mb=memory_mb)
