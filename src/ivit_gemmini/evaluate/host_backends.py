"""The two host reference backends, one stage function each: int8 input file -> logit file.

`torch-int` runs the integer specification on the exported params (no float after input
quantization). `torch-fakequant` runs I-ViT's own fake-quant float semantics on the checkpoint;
its float logits are brought to the common integer logit scale by round-half-to-even.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ivit_gemmini.evaluate.logits import float_to_int_logits, save_logits
from ivit_gemmini.model.images import read_input


def run_torch_int(params_npz: str | Path, manifest: str | Path, image_bin: str | Path,
                  out: str | Path) -> None:
    """Integer logits of the specification (`ivit_gemmini.spec.network.forward_int`)."""
    from ivit_gemmini.model.params import load_params
    from ivit_gemmini.spec.network import forward_int

    params = load_params(Path(params_npz), Path(manifest))
    arch = params.arch
    image = read_input(image_bin, arch.in_chans, arch.image_size)
    logits = np.asarray(forward_int(params, image)).reshape(-1)
    if logits.dtype != np.int64:
        # The spec returns int64; anything else is a bug in the backend, not bad input.
        raise TypeError(f"forward_int returned {logits.dtype}, expected int64")
    save_logits(out, logits)


def run_torch_fakequant(checkpoint: str | Path, num_heads: int | None, params_npz: str | Path,
                        manifest: str | Path, image_bin: str | Path, out: str | Path) -> None:
    """Fake-quant float logits, rounded to integers at the manifest's logit scale."""
    from ivit_gemmini.model.checkpoint import load_checkpoint
    from ivit_gemmini.model.fakequant import forward_fakequant
    from ivit_gemmini.model.params import load_params

    params = load_params(Path(params_npz), Path(manifest))
    ckpt = load_checkpoint(Path(checkpoint), num_heads=num_heads)
    arch = ckpt.arch
    image = read_input(image_bin, arch.in_chans, arch.image_size)
    logits = np.asarray(forward_fakequant(ckpt, image), dtype=np.float64)
    save_logits(out, float_to_int_logits(logits, params.logit_scale))
