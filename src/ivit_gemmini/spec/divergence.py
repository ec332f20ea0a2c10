"""Where I-ViT's float model and the integer specification part ways, operator by operator.

Each I-ViT operator of the fake-quant model is fed its own recorded input; the input's integer
codes (`round(x / s)`) are also run through the specification's operator, and the two outputs'
codes are compared. A difference here comes from the operator's float evaluation alone (the
recovered codes `x / s` are not exact integers, float32 sums above 2^24, float64 products above
2^53), not from differences that earlier layers passed along.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from ivit_gemmini.model.checkpoint import Checkpoint
from ivit_gemmini.model.fakequant import fakequant_model
from ivit_gemmini.model.params import dyadic
from ivit_gemmini.model.quant_modules import IntGELU, IntLayerNorm, IntSoftmax, QuantAct
from ivit_gemmini.spec import ops


@dataclass
class OperatorDivergence:
    """Codes of one operator kind over all its calls: how many differ and by how much."""

    operator: str
    codes: int = 0
    differing: int = 0
    max_abs_difference: int = 0
    max_relative_difference: float = 0.0

    def add(self, fake: Tensor, spec: Tensor) -> None:
        diff = (fake - spec).abs()
        self.codes += diff.numel()
        self.differing += int((diff != 0).sum())
        self.max_abs_difference = max(self.max_abs_difference, int(diff.max()))
        span = max(int(spec.abs().max()), 1)
        self.max_relative_difference = max(self.max_relative_difference, int(diff.max()) / span)

    @property
    def differing_fraction(self) -> float:
        return self.differing / self.codes if self.codes else 0.0


def _codes(x: Tensor, scale: Tensor) -> Tensor:
    return torch.round(x / scale).to(torch.int64)


def _spec_output(module: nn.Module, args: tuple, out_scale: Tensor) -> Tensor | None:
    """The specification's output codes for one recorded call, or None if not comparable."""
    if isinstance(module, IntSoftmax):
        x, s = args
        x0 = int(torch.floor(-1.0 / s.reshape(-1)[0]))
        return ops.shiftmax(_codes(x, s), x0, module.output_bit)
    if isinstance(module, IntGELU):
        x, s = args
        x0 = int(torch.floor(-1.0 / (s * 1.702)).reshape(-1)[0])
        return ops.shiftgelu(_codes(x, s), x0)
    if isinstance(module, IntLayerNorm):
        x, s = args
        return ops.layernorm(_codes(x, s), module.bias_integer.to(torch.int64))
    if isinstance(module, QuantAct) and len(args) >= 2 and args[1] is not None:
        x, pre = args[0], args[1]
        bits = module.activation_bit
        m, e = (torch.from_numpy(a.astype(np.int64)) for a in dyadic(pre, out_scale))
        total = ops.requant(_codes(x, pre.reshape(-1)), m, e)
        if len(args) >= 4 and args[2] is not None:
            identity, id_scale = args[2], args[3]
            mi, ei = (torch.from_numpy(a.astype(np.int64)) for a in dyadic(id_scale, out_scale))
            total = total + ops.requant(_codes(identity, id_scale.reshape(-1)), mi, ei)
        return ops.clamp_bits(total, bits)
    return None


def _kind(module: nn.Module) -> str:
    if isinstance(module, QuantAct):
        return f"requantize to int{module.activation_bit}"
    return {IntSoftmax: "Shiftmax", IntGELU: "ShiftGELU", IntLayerNorm: "I-LayerNorm"}[
        type(module)]


def measure_divergence(ckpt: Checkpoint, images_int8: list[np.ndarray]) -> list[OperatorDivergence]:
    """Per operator kind, how the fake-quant model's codes differ from the specification's."""
    model = fakequant_model(ckpt)
    table: dict[str, OperatorDivergence] = defaultdict(lambda: OperatorDivergence(""))
    calls: list[tuple[nn.Module, tuple, tuple]] = []

    def record(module: nn.Module, args: tuple, output: tuple) -> None:
        calls.append((module, args, output))

    watched = (IntSoftmax, IntGELU, IntLayerNorm, QuantAct)
    handles = [m.register_forward_hook(record) for m in model.modules() if isinstance(m, watched)]
    s_in = ckpt.state["qact_input.act_scaling_factor"].to(torch.float32).reshape(())
    try:
        with torch.no_grad():
            for image in images_int8:
                calls.clear()
                model(torch.from_numpy(image.astype(np.float32)).unsqueeze(0) * s_in)
                for module, args, (out, out_scale) in calls:
                    spec = _spec_output(module, args, out_scale)
                    if spec is None:
                        continue
                    kind = _kind(module)
                    table[kind].operator = kind
                    table[kind].add(_codes(out, out_scale.reshape(-1)), spec)
    finally:
        for handle in handles:
            handle.remove()
    return sorted(table.values(), key=lambda d: d.operator)


def main(argv: list[str] | None = None) -> None:
    """`python -m ivit_gemmini.spec.divergence CHECKPOINT INPUT.bin...`: print the table."""
    import argparse
    from pathlib import Path

    from ivit_gemmini.model.checkpoint import load_checkpoint

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("inputs", type=Path, nargs="+", help="int8 input files (results/inputs)")
    parser.add_argument("--num-heads", type=int, default=None)
    args = parser.parse_args(argv)
    ckpt = load_checkpoint(args.checkpoint, num_heads=args.num_heads)
    shape = (ckpt.arch.in_chans, ckpt.arch.image_size, ckpt.arch.image_size)
    images = [np.fromfile(p, dtype=np.int8).reshape(shape) for p in args.inputs]
    print(f"{'operator':24} {'codes':>11} {'differing':>10} {'max |diff|':>11} {'max rel':>9}")
    for d in measure_divergence(ckpt, images):
        print(f"{d.operator:24} {d.codes:11d} {100 * d.differing_fraction:9.3f}% "
              f"{d.max_abs_difference:11d} {d.max_relative_difference:9.2e}")


if __name__ == "__main__":
    main()
