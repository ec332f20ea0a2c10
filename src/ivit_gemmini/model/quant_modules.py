"""I-ViT's quantized layers with its float ("fake-quant") semantics and straight-through grads.

Each layer takes and returns `(x, scale)`: x is a float tensor holding integer * scale, as in
I-ViT. Buffer names and shapes follow I-ViT so that `state_dict()` keys match a real checkpoint.

Two switches; after construction `running_stat` is on and `use_stored` off (I-ViT's training
behaviour):
- `QuantAct.running_stat`: on = calibrate (EMA min/max, momentum 0.95, scale recomputed every
  forward); off = use the stored `act_scaling_factor` buffer as is.
- `use_stored` on weight layers and LayerNorms: on = use the stored integer buffers
  (`weight_integer`, `bias_integer`, `*_scaling_factor`) instead of recomputing them from the
  float weights. A loaded checkpoint runs this way: it is what the integer graph reads, and it
  avoids I-ViT issue 11 (scales recomputed from statistics that were never saved).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ivit_gemmini.model.quant_functions import (
    fixedpoint_requant,
    floor_ste,
    round_ste,
    shift_exp,
    symmetric_quant,
    symmetric_scale,
)

INT32_MAX = 2**31 - 1


class QuantAct(nn.Module):
    """Quantize an activation to `activation_bit` bits (symmetric, per tensor).

    Without `pre_act_scaling_factor` the input is a float (the image, pos_embed) and is
    rounded directly; with it, x is already integer * pre_scale and goes through the dyadic
    requantization, optionally adding a residual `identity` requantized separately.
    """

    def __init__(self, activation_bit: int = 8, act_range_momentum: float = 0.95,
                 running_stat: bool = True) -> None:
        super().__init__()
        self.activation_bit = activation_bit
        self.act_range_momentum = act_range_momentum
        self.running_stat = running_stat
        # Plain attributes, not buffers: I-ViT does not save them (so neither do we).
        self.min_val = torch.zeros(1)
        self.max_val = torch.zeros(1)
        self.register_buffer("act_scaling_factor", torch.zeros(1))

    def fix(self) -> None:
        self.running_stat = False

    def unfix(self) -> None:
        self.running_stat = True

    def _observe(self, x: Tensor) -> None:
        """EMA of the tensor's min and max (per channel first, then over channels)."""
        with torch.no_grad():
            if x.dim() == 4:
                x = x.permute(0, 2, 3, 1)
            v = x.reshape(-1, x.shape[-1]).transpose(0, 1)
            cur_min = v.min(dim=1).values
            cur_max = v.max(dim=1).values
            if torch.eq(self.min_val, self.max_val).all():
                new_min, new_max = cur_min, cur_max
            else:
                keep = self.act_range_momentum
                new_min = self.min_val * keep + cur_min * (1 - keep)
                new_max = self.max_val * keep + cur_max * (1 - keep)
            self.min_val = new_min.min()
            self.max_val = new_max.max()
            self.act_scaling_factor = symmetric_scale(
                self.activation_bit, self.min_val, self.max_val)

    def forward(
        self,
        x: Tensor,
        pre_act_scaling_factor: Tensor | None = None,
        identity: Tensor | None = None,
        identity_scaling_factor: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        if self.running_stat:
            self._observe(x if identity is None else identity + x)
        scale = self.act_scaling_factor
        if pre_act_scaling_factor is None:
            q = symmetric_quant(x, self.activation_bit, scale, False)
        else:
            q = fixedpoint_requant(x, pre_act_scaling_factor, self.activation_bit, scale,
                                   identity, identity_scaling_factor)
        return q * scale.view(-1), scale


def _per_channel_weight_scale(weight: Tensor, bits: int) -> Tensor:
    with torch.no_grad():
        rows = weight.reshape(weight.shape[0], -1)
        return symmetric_scale(bits, rows.min(dim=1).values, rows.max(dim=1).values)


class QuantLinear(nn.Linear):
    """Linear layer with 8-bit per-output-channel weights and a 32-bit bias at s_in * s_w."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 weight_bit: int = 8, bias_bit: int = 32) -> None:
        super().__init__(in_features, out_features, bias)
        self.weight_bit = weight_bit
        self.bias_bit = bias_bit
        self.use_stored = False
        self.register_buffer("fc_scaling_factor", torch.zeros(out_features))
        self.register_buffer("weight_integer", torch.zeros_like(self.weight))
        if self.bias is not None:
            self.register_buffer("bias_integer", torch.zeros_like(self.bias))

    def _integer_weights(self, prev_scale: Tensor) -> tuple[Tensor, Tensor | None, Tensor]:
        if self.use_stored:
            w_scale = self.fc_scaling_factor
            bias_scale = w_scale * prev_scale
            bias_int = self.bias_integer if self.bias is not None else None
            return self.weight_integer, bias_int, bias_scale
        w_scale = _per_channel_weight_scale(self.weight, self.weight_bit)
        w_int = symmetric_quant(self.weight, self.weight_bit, w_scale, True)
        bias_scale = w_scale * prev_scale
        bias_int = None
        if self.bias is not None:
            bias_int = symmetric_quant(self.bias, self.bias_bit, bias_scale, True)
            self.bias_integer = bias_int.detach()
        self.fc_scaling_factor = w_scale
        self.weight_integer = w_int.detach()
        return w_int, bias_int, bias_scale

    def forward(self, x: Tensor, prev_act_scaling_factor: Tensor) -> tuple[Tensor, Tensor]:
        w_int, bias_int, bias_scale = self._integer_weights(prev_act_scaling_factor)
        x_int = x / prev_act_scaling_factor.view(1, -1)
        return F.linear(x_int, w_int, bias_int) * bias_scale, bias_scale


class QuantConv2d(nn.Conv2d):
    """The patch-embedding convolution, quantized like QuantLinear (per output channel)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 weight_bit: int = 8, bias_bit: int = 32) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, bias=True)
        self.weight_bit = weight_bit
        self.bias_bit = bias_bit
        self.use_stored = False
        self.register_buffer("conv_scaling_factor", torch.zeros(out_channels))
        self.register_buffer("weight_integer", torch.zeros_like(self.weight))
        self.register_buffer("bias_integer", torch.zeros_like(self.bias))

    def forward(self, x: Tensor, pre_act_scaling_factor: Tensor) -> tuple[Tensor, Tensor]:
        if self.use_stored:
            w_scale = self.conv_scaling_factor
            w_int, bias_scale = self.weight_integer, w_scale * pre_act_scaling_factor
            bias_int = self.bias_integer
        else:
            w_scale = _per_channel_weight_scale(self.weight, self.weight_bit)
            w_int = symmetric_quant(self.weight, self.weight_bit, w_scale, True)
            bias_scale = w_scale * pre_act_scaling_factor
            bias_int = symmetric_quant(self.bias, self.bias_bit, bias_scale, True)
            self.conv_scaling_factor = w_scale
            self.weight_integer = w_int.detach()
            self.bias_integer = bias_int.detach()
        x_int = x / pre_act_scaling_factor.view(1, -1, 1, 1)
        out_scale = bias_scale.view(1, -1, 1, 1)
        y = F.conv2d(x_int, w_int, bias_int, self.stride, self.padding, self.dilation, self.groups)
        return y * out_scale, out_scale


class QuantMatMul(nn.Module):
    """A @ B of two quantized tensors; the output scale is the product of theirs."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("act_scaling_factor", torch.zeros(1))

    def forward(self, a: Tensor, a_scale: Tensor, b: Tensor, b_scale: Tensor
                ) -> tuple[Tensor, Tensor]:
        scale = a_scale * b_scale
        self.act_scaling_factor = scale.detach()
        a_int = a / a_scale
        b_int = b / b_scale
        return (a_int @ b_int) * scale, scale


class IntLayerNorm(nn.LayerNorm):
    """I-LayerNorm: integer mean and variance, 10 Newton steps of integer sqrt from 2^16,
    factor floor((2^31-1)/std), output floor(y * factor / 2) + bias_integer at the per-channel
    scale sqrt(C) / 2^30 * gamma (I-ViT never trains the LayerNorm bias: it is detached)."""

    def __init__(self, normalized_shape: int, eps: float = 1e-6) -> None:
        super().__init__(normalized_shape, eps=eps)
        self.use_stored = False
        self.register_buffer("norm_scaling_factor", torch.zeros(normalized_shape))
        self.register_buffer("bias_integer", torch.zeros_like(self.bias))

    def forward(self, x: Tensor, scaling_factor: Tensor) -> tuple[Tensor, Tensor]:
        dim_sqrt = torch.sqrt(torch.tensor(float(x.shape[2]), dtype=torch.float32))
        x_int = x / scaling_factor
        mean_int = round_ste(x_int.mean(dim=2, keepdim=True))
        y_int = x_int - mean_int
        var_int = torch.sum(y_int**2, dim=2, keepdim=True)
        k: Tensor | int = 2**16
        for _ in range(10):
            k = floor_ste((k + floor_ste(var_int / k)) / 2)
        factor = floor_ste((2**31 - 1) / k)
        y_int = floor_ste(y_int * factor / 2)
        base_scale = dim_sqrt / 2**30
        if self.use_stored:
            bias_int, out_scale = self.bias_integer, self.norm_scaling_factor
        else:
            bias_int = floor_ste(self.bias.detach() / self.weight.detach() / base_scale)
            out_scale = base_scale * self.weight
            self.bias_integer = bias_int.detach()
            self.norm_scaling_factor = out_scale.detach()
        return (y_int + bias_int) * out_scale, out_scale


class IntGELU(nn.Module):
    """ShiftGELU: x * sigmoid(1.702 x), the sigmoid from shift exponentials (n = 23) and one
    division, 8-bit (>> 24, scale 2^-7)."""

    def __init__(self, output_bit: int = 8, n: int = 23) -> None:
        super().__init__()
        self.output_bit = output_bit
        self.n = n
        self.register_buffer("act_scaling_factor", torch.zeros(1))

    def forward(self, x: Tensor, scaling_factor: Tensor) -> tuple[Tensor, Tensor]:
        pre_x_int = x / scaling_factor
        sig_scale = scaling_factor * 1.702
        x_int_max = pre_x_int.max(dim=-1, keepdim=True).values
        exp_int, _ = shift_exp(pre_x_int - x_int_max, sig_scale, self.n)  # e^(x - max)
        exp_int_max, _ = shift_exp(-x_int_max, sig_scale, self.n)  # e^(-max)
        exp_sum = (exp_int + exp_int_max).clamp_max(INT32_MAX)
        factor = floor_ste(INT32_MAX / exp_sum)
        sigmoid_int = floor_ste(exp_int * factor / 2 ** (31 - self.output_bit + 1))
        out_scale = scaling_factor * torch.tensor([1 / 2 ** (self.output_bit - 1)])
        self.act_scaling_factor = out_scale.detach()
        return pre_x_int * sigmoid_int * out_scale, out_scale


class IntSoftmax(nn.Module):
    """Shiftmax: row max subtracted, shift exponentials (n = 15), one division; the output is
    floor(exp * floor((2^31-1)/sum) / 2^(32 - output_bit)) at scale 2^-(output_bit-1), i.e.
    [0, 32767] at 2^-15 for I-ViT's output_bit = 16."""

    def __init__(self, output_bit: int = 16, n: int = 15) -> None:
        super().__init__()
        self.output_bit = output_bit
        self.n = n
        self.register_buffer("act_scaling_factor", torch.zeros(1))

    def forward(self, x: Tensor, scaling_factor: Tensor) -> tuple[Tensor, Tensor]:
        x_int = x / scaling_factor
        x_int = x_int - x_int.max(dim=-1, keepdim=True).values
        exp_int, _ = shift_exp(x_int, scaling_factor, self.n)
        exp_sum = exp_int.sum(dim=-1, keepdim=True).clamp_max(INT32_MAX)
        factor = floor_ste(INT32_MAX / exp_sum)
        out_int = floor_ste(exp_int * factor / 2 ** (31 - self.output_bit + 1))
        out_scale = torch.tensor([1 / 2 ** (self.output_bit - 1)])
        self.act_scaling_factor = out_scale
        return out_int * out_scale, out_scale
