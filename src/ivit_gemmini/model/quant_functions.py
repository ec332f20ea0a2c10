"""I-ViT's fake-quant arithmetic: quantizers, dyadic requantization and straight-through grads.

Everything here reproduces the float32/float64 steps of I-ViT's PyTorch model (zkkli/I-ViT,
`models/quantization_utils/quant_utils.py`) operation for operation, because the
`torch-fakequant` backend is defined as "what I-ViT's own model computes". The values are
integers carried in float tensors; the rounding quirks (e.g. `x / s` that is an ulp off an
integer) are part of those semantics and must not be "fixed" here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.autograd import Function

FLOAT32_EPS = torch.finfo(torch.float32).eps
MANTISSA_BITS = 31  # I-ViT's batch_frexp(max_bit=31)


class FloorSTE(Function):
    """floor() forward, identity backward."""

    @staticmethod
    def forward(ctx: Any, x: Tensor) -> Tensor:
        return torch.floor(x)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return grad.clone()


class RoundSTE(Function):
    """round() (half to even) forward, identity backward."""

    @staticmethod
    def forward(ctx: Any, x: Tensor) -> Tensor:
        return torch.round(x)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return grad.clone()


def floor_ste(x: Tensor) -> Tensor:
    return FloorSTE.apply(x)


def round_ste(x: Tensor) -> Tensor:
    return RoundSTE.apply(x)


def symmetric_scale(num_bits: int, min_val: Tensor, max_val: Tensor) -> Tensor:
    """Scale of a symmetric `num_bits` quantizer covering [min_val, max_val]: peak / (2^(b-1)-1)."""
    with torch.no_grad():
        peak = torch.max(-min_val, max_val)
        scale = peak / float(2 ** (num_bits - 1) - 1)
        return scale.clamp_(FLOAT32_EPS)


def _scale_view(scale: Tensor, ndim: int, is_weight: bool) -> Tensor:
    """Broadcast a per-tensor or per-channel scale the way I-ViT does.

    Weights carry their scale along dim 0 (output channel); activations along dim 1 for 2-D and
    4-D tensors (batch, channel, ...) and along the last dim for 3-D tokens.
    """
    if is_weight:
        return scale.view(-1, *([1] * (ndim - 1))) if ndim in (2, 4) else scale.view(-1)
    if ndim == 2:
        return scale.view(1, -1)
    if ndim == 3:
        return scale.view(1, 1, -1)
    if ndim == 4:
        return scale.view(1, -1, 1, 1)
    raise NotImplementedError(f"no activation scale layout for a {ndim}-D tensor")


class SymmetricQuant(Function):
    """x -> clamp(round(x / s), -2^(b-1), 2^(b-1)-1) as integer-valued floats.

    Backward is the straight-through estimate of d(x/s)/dx = 1/s (I-ViT's choice).
    """

    @staticmethod
    def forward(ctx: Any, x: Tensor, num_bits: int, scale: Tensor, is_weight: bool) -> Tensor:
        s = _scale_view(scale, x.dim(), is_weight)
        bound = 2 ** (num_bits - 1) - 1
        # `1.0 / s * x`, not `x / s`: the reciprocal is rounded first, as in I-ViT.
        q = torch.round(1.0 / s * x)
        ctx.save_for_backward(scale)
        ctx.is_weight = is_weight
        return torch.clamp(q, -bound - 1, bound)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None, None]:
        (scale,) = ctx.saved_tensors
        return grad / _scale_view(scale, grad.dim(), ctx.is_weight), None, None, None


def symmetric_quant(x: Tensor, num_bits: int, scale: Tensor, is_weight: bool) -> Tensor:
    return SymmetricQuant.apply(x, num_bits, scale, is_weight)


def dyadic(ratio: Tensor) -> tuple[Tensor, Tensor]:
    """(m, e) with ratio ~= m / 2^e, m a 31-bit mantissa rounded half away from zero.

    Same values as I-ViT's `batch_frexp` (Decimal ROUND_HALF_UP of frexp's mantissa * 2^31):
    the mantissa * 2^31 is an exact float64 below 2^31 with at most 22 fraction bits, so
    floor(|v| + 0.5) is exact too and no Decimal loop is needed. Returns float64 tensors.
    """
    frac, exp = np.frexp(ratio.detach().cpu().numpy().astype(np.float64))
    shifted = frac * float(2**MANTISSA_BITS)
    mantissa = np.sign(shifted) * np.floor(np.abs(shifted) + 0.5)
    shift = float(MANTISSA_BITS) - exp.astype(np.float64)
    return torch.from_numpy(mantissa).view(ratio.shape), torch.from_numpy(shift).view(ratio.shape)


def _requantize_branch(x: Tensor, x_scale: Tensor, out_scale: Tensor) -> Tensor:
    """round(round(x / s_in) * m / 2^e) in float64, (m, e) = dyadic(s_in / s_out)."""
    z = torch.round(x / x_scale)
    ratio = x_scale.to(torch.float64) / out_scale.to(torch.float32).to(torch.float64)
    m, e = dyadic(ratio)
    return torch.round(z.to(torch.float64) * m / 2.0**e)


def _act_view(ndim: int) -> tuple[int, ...]:
    if ndim == 2:
        return (1, -1)
    if ndim == 3:
        return (1, 1, -1)
    if ndim == 4:
        return (1, -1, 1, 1)
    raise NotImplementedError(f"no activation scale layout for a {ndim}-D tensor")


class FixedPointRequant(Function):
    """I-ViT's `fixedpoint_mul`: requantize x (scale s_in) to `num_bits` at scale s_out.

    With an identity (residual) branch, both are requantized separately and summed before the
    clamp. Backward: straight-through, d(out)/dx = 1/s_out for both branches.
    """

    @staticmethod
    def forward(
        ctx: Any,
        x: Tensor,
        x_scale: Tensor,
        num_bits: int,
        out_scale: Tensor,
        identity: Tensor | None,
        identity_scale: Tensor | None,
    ) -> Tensor:
        shape = _act_view(x.dim())
        with torch.no_grad():
            out = _requantize_branch(x, x_scale.view(shape), out_scale)
            if identity is not None:
                assert identity_scale is not None
                out = _requantize_branch(identity, identity_scale.view(shape), out_scale) + out
            out32 = out.to(torch.float32)
            if num_bits in (4, 8, 16, 32):
                bound = 2 ** (num_bits - 1) - 1
                out32 = torch.clamp(out32, -bound - 1, bound)
        ctx.save_for_backward(out_scale)
        ctx.has_identity = identity is not None
        return out32

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        (out_scale,) = ctx.saved_tensors
        g = grad / out_scale
        return g, None, None, None, (g.clone() if ctx.has_identity else None), None


def fixedpoint_requant(
    x: Tensor,
    x_scale: Tensor,
    num_bits: int,
    out_scale: Tensor,
    identity: Tensor | None = None,
    identity_scale: Tensor | None = None,
) -> Tensor:
    return FixedPointRequant.apply(x, x_scale, num_bits, out_scale, identity, identity_scale)


def shift_exp(x_int: Tensor, scaling_factor: Tensor, n: int) -> tuple[Tensor, Tensor]:
    """I-ViT's shift exponential of x_int * s for x_int <= 0: returns (exp_int, s / 2^n).

    x * log2(e) ~ x + x/2 - x/16 by shifts; split by x0 = floor(-1/s) into a quotient q
    (a right shift) and a remainder r with 2^(r/x0) ~ 1 - r/(2 x0) (linear); inputs below
    n * x0 saturate.
    """
    x_int = x_int + floor_ste(x_int / 2) - floor_ste(x_int / 2**4)
    with torch.no_grad():
        x0_int = torch.floor(-1.0 / scaling_factor)
    x_int = torch.max(x_int, n * x0_int)
    q = floor_ste(x_int / x0_int)
    r = x_int - x0_int * q
    exp_int = r / 2 - x0_int
    exp_int = torch.clamp(floor_ste(exp_int * 2 ** (n - q)), min=0)
    return exp_int, scaling_factor / 2**n
