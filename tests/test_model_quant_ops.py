"""I-ViT's fake-quant operators against independent numpy / Python-integer restatements.

The goldens restate I-ViT's float32 steps in numpy (or exact Python integers for the dyadic
requantization); inputs are chosen so that sums stay below 2^24 and are therefore exact in any
summation order.
"""

from __future__ import annotations

import decimal
import math
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ivit_gemmini.model.quant_functions import dyadic, fixedpoint_requant
from ivit_gemmini.model.quant_modules import (
    IntGELU,
    IntLayerNorm,
    IntSoftmax,
    QuantAct,
    QuantConv2d,
    QuantLinear,
    QuantMatMul,
)

f32 = np.float32


def _np_shift_exp(x_int: np.ndarray, s: np.float32, n: int) -> np.ndarray:
    x = x_int + np.floor(x_int / f32(2)) - np.floor(x_int / f32(16))
    x0 = np.floor(f32(-1.0) / s)
    x = np.maximum(x, f32(n) * x0)
    q = np.floor(x / x0)
    r = x - x0 * q
    e = r / f32(2) - x0
    return np.maximum(np.floor(e * np.power(f32(2), f32(n) - q)), f32(0)).astype(f32)


def _np_softmax_int(x_int: np.ndarray, s: np.float32) -> np.ndarray:
    x = (x_int * s).astype(f32)  # what the module receives: integer * scale
    xi = x / s
    xi = xi - xi.max(axis=-1, keepdims=True)
    e = _np_shift_exp(xi, s, 15)
    total = np.minimum(e.sum(axis=-1, keepdims=True, dtype=f32), f32(2**31 - 1))
    factor = np.floor(f32(1) / total * f32(2**31 - 1))  # torch: reciprocal, then * scalar
    return np.floor(e * factor / f32(2**16))


@pytest.mark.parametrize("seed", range(5))
def test_int_softmax_matches_numpy_steps(seed: int) -> None:
    rng = np.random.default_rng(seed)
    s = f32(rng.uniform(0.05, 0.5))
    x_int = rng.integers(-127, 128, size=(3, 4, 20)).astype(f32)
    out, scale = IntSoftmax(16)(torch.from_numpy((x_int * s).astype(f32)), torch.tensor(s))
    assert float(scale) == 2.0**-15
    got = (out / scale).numpy()
    np.testing.assert_array_equal(got, _np_softmax_int(x_int, s))
    assert got.min() >= 0 and got.max() <= 32767
    # and it is a softmax (the shift exponential is off by up to ~10% per entry)
    ref = torch.softmax(torch.from_numpy(x_int * s), dim=-1).numpy()
    assert np.abs(got / 2**15 - ref).max() < 0.2


def test_int_gelu_matches_numpy_steps() -> None:
    rng = np.random.default_rng(7)
    s = f32(0.03)
    x_int = rng.integers(-127, 128, size=(2, 5, 16)).astype(f32)
    x = torch.from_numpy((x_int * s).astype(f32))
    out, scale = IntGELU()(x, torch.tensor(s))

    xi = (x_int * s).astype(f32) / s
    s_sig = f32(s * f32(1.702))
    top = xi.max(axis=-1, keepdims=True)
    e = _np_shift_exp(xi - top, s_sig, 23)
    e_max = _np_shift_exp(-top, s_sig, 23)
    total = np.minimum(e + e_max, f32(2**31 - 1))
    factor = np.floor(f32(1) / total * f32(2**31 - 1))
    sig = np.floor(e * factor / f32(2**24))
    want_scale = f32(s * f32(2.0**-7))
    assert float(scale) == want_scale
    np.testing.assert_array_equal(out.numpy(), (xi * sig * want_scale).astype(f32))
    # ShiftGELU approximates GELU; its sigmoid is coarse (factor = floor(2^31 / sum) is ~12)
    err = np.abs(out.numpy() - torch.nn.functional.gelu(x).numpy())
    assert (err <= 0.1 * np.abs(x.numpy()) + 0.05).all()


@pytest.mark.parametrize("seed", range(3))
def test_int_layernorm_matches_numpy_steps(seed: int) -> None:
    rng = np.random.default_rng(seed)
    c = 32
    s = f32(2.0**-6)  # power of two: x / s is exact
    x_int = rng.integers(-100, 101, size=(2, 3, c)).astype(f32)
    norm = IntLayerNorm(c)
    with torch.no_grad():
        norm.weight.copy_(torch.from_numpy(rng.normal(1.0, 0.3, c).astype(f32)))
        norm.bias.copy_(torch.from_numpy(rng.normal(0.0, 0.2, c).astype(f32)))
    out, scale = norm(torch.from_numpy(x_int * s), torch.tensor(s))

    xi = (x_int * s) / s
    mean = np.round(xi.mean(axis=2, keepdims=True, dtype=f32))
    y = xi - mean
    var = (y * y).sum(axis=2, keepdims=True, dtype=f32)
    k = np.full_like(var, f32(2**16))
    for _ in range(10):
        k = np.floor((k + np.floor(var / k)) / f32(2))
    factor = np.floor(f32(1) / k * f32(2**31 - 1))
    y = np.floor(y * factor / f32(2))
    base = f32(np.sqrt(f32(c)) / f32(2**30))
    gamma, beta = norm.weight.detach().numpy(), norm.bias.detach().numpy()
    bias_int = np.floor(beta / gamma / base)
    want_scale = base * gamma
    np.testing.assert_array_equal(scale.detach().numpy(), want_scale)
    np.testing.assert_array_equal(norm.bias_integer.numpy(), bias_int)
    np.testing.assert_array_equal(out.detach().numpy(), (y + bias_int) * want_scale)
    # and it normalizes: close to the float LayerNorm
    ref = torch.nn.functional.layer_norm(torch.from_numpy(x_int * s), (c,), norm.weight,
                                         norm.bias, 1e-6)
    assert torch.allclose(out, ref, atol=0.02)


def _decimal_dyadic(ratio: float) -> tuple[int, int]:
    m, e = math.frexp(ratio)
    mant = decimal.Decimal(m * 2**31).quantize(decimal.Decimal("1"),
                                               rounding=decimal.ROUND_HALF_UP)
    return int(mant), 31 - e


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=1e-9, max_value=1e6, allow_nan=False, allow_infinity=False))
def test_dyadic_equals_decimal_half_up(ratio: float) -> None:
    m, e = dyadic(torch.tensor([ratio, -ratio], dtype=torch.float64))
    want_m, want_e = _decimal_dyadic(ratio)
    assert (m[0].item(), e[0].item()) == (want_m, want_e)
    assert (m[1].item(), e[1].item()) == (-want_m, want_e)  # half away from zero


def _requant_golden(z: int, s_in: np.float32, s_out: np.float32) -> int:
    m, e = _decimal_dyadic(float(np.float64(s_in) / np.float64(s_out)))
    return round(Fraction(z * m, 2**e))  # Python rounds Fractions half to even


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(-(2**20), 2**20), min_size=1, max_size=8),
    st.lists(st.integers(-(2**15), 2**15 - 1), min_size=8, max_size=8),
    st.floats(1e-6, 1e-2),
    st.floats(1e-6, 1e-2),
    st.floats(1e-5, 1e-1),
    st.sampled_from([8, 16]),
)
def test_fixedpoint_requant_matches_integer_golden(
    zs: list[int], ids: list[int], s_in: float, s_id: float, s_out: float, bits: int
) -> None:
    s_in32, s_id32, s_out32 = f32(s_in), f32(s_id), f32(s_out)
    z = np.array(zs, dtype=f32)
    ident = np.array(ids[: len(zs)], dtype=f32)
    x = torch.from_numpy((z * s_in32)[None, None, :])
    idt = torch.from_numpy((ident * s_id32)[None, None, :])
    out = fixedpoint_requant(x, torch.tensor(s_in32), bits, torch.tensor(s_out32),
                             idt, torch.tensor(s_id32))
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    # round(x / s) recovers z exactly for these magnitudes
    want = [
        min(hi, max(lo, _requant_golden(int(a), s_in32, s_out32)
                    + _requant_golden(int(b), s_id32, s_out32)))
        for a, b in zip(z, ident, strict=True)
    ]
    assert out.reshape(-1).tolist() == want


def test_quant_act_input_rounding_and_ema() -> None:
    act = QuantAct(8)  # running_stat on: calibrating
    a = torch.tensor([[[-2.0, 1.0], [0.5, 3.0]]])
    b = torch.tensor([[[-1.0, 1.0], [0.5, 5.0]]])
    act(a)
    assert float(act.act_scaling_factor) == f32(3.0) / f32(127)
    out, scale = act(b)
    lo = f32(-2.0) * f32(0.95) + f32(-1.0) * f32(1 - 0.95)
    hi = f32(3.0) * f32(0.95) + f32(5.0) * f32(1 - 0.95)
    want_scale = f32(max(-lo, hi)) / f32(127)
    assert float(scale) == want_scale
    q = np.clip(np.round(f32(1) / want_scale * b.numpy()), -128, 127)
    np.testing.assert_array_equal((out / scale.view(-1)).numpy().round(), q)
    act.fix()
    act(b * 10)  # fixed: the scale does not move, the values saturate
    assert float(act.act_scaling_factor) == want_scale
    assert float((act(b * 10)[0] / scale).max().round()) == 127


def test_quant_linear_integer_weights_and_output() -> None:
    torch.manual_seed(0)
    lin = QuantLinear(6, 4)
    with torch.no_grad():
        lin.bias.uniform_(-0.1, 0.1)
    s_x = torch.tensor(0.05)
    x_int = torch.randint(-127, 128, (2, 3, 6)).float()
    out, out_scale = lin(x_int * s_x, s_x)

    w = lin.weight.detach().numpy()
    w_scale = (np.maximum(-w.min(axis=1), w.max(axis=1)) / f32(127)).astype(f32)
    w_int = np.clip(np.round((f32(1) / w_scale)[:, None] * w), -128, 127)
    b_scale = w_scale * f32(0.05)
    b_int = np.round((f32(1) / b_scale) * lin.bias.detach().numpy())
    np.testing.assert_array_equal(lin.fc_scaling_factor.numpy(), w_scale)
    np.testing.assert_array_equal(lin.weight_integer.numpy(), w_int)
    np.testing.assert_array_equal(lin.bias_integer.numpy(), b_int)
    np.testing.assert_array_equal(out_scale.detach().numpy(), b_scale)
    acc = (x_int * s_x / s_x).numpy() @ w_int.T + b_int  # exact: small integers
    np.testing.assert_array_equal(out.detach().numpy(), (acc * b_scale).astype(f32))
    assert np.abs(w_int).max() == 127  # the largest weight of each row maps to +-127


def test_stored_buffers_reproduce_recomputed_forward() -> None:
    torch.manual_seed(1)
    lin = QuantLinear(8, 5)
    conv = QuantConv2d(3, 4, 2, stride=2)
    s = torch.tensor(0.02)
    x = torch.randint(-100, 100, (1, 7, 8)).float() * s
    img = torch.randint(-100, 100, (1, 3, 4, 4)).float() * s
    ref_lin, ref_conv = lin(x, s)[0], conv(img, s)[0]
    with torch.no_grad():
        lin.weight.zero_()
        conv.weight.zero_()
    lin.use_stored = conv.use_stored = True
    assert torch.equal(lin(x, s)[0], ref_lin)
    assert torch.equal(conv(img, s)[0], ref_conv)


def test_quant_conv_is_a_per_channel_patch_matmul() -> None:
    torch.manual_seed(2)
    conv = QuantConv2d(3, 5, 4, stride=4)
    s = torch.tensor(0.1)
    img_int = torch.randint(-128, 128, (1, 3, 8, 8)).float()
    out, out_scale = conv(img_int * s, s)
    assert out_scale.shape == (1, 5, 1, 1)
    w_int = conv.weight_integer.reshape(5, -1).numpy()
    patches = img_int.unfold(2, 4, 4).unfold(3, 4, 4)  # (1, 3, 2, 2, 4, 4)
    cols = patches.permute(0, 2, 3, 1, 4, 5).reshape(4, -1).numpy()
    acc = cols @ w_int.T + conv.bias_integer.numpy()  # (patches, channels)
    got = (out / out_scale).detach().numpy().reshape(5, 4).T
    np.testing.assert_array_equal(np.round(got), acc)  # x / s is float: an ulp off


def test_quant_matmul_scale_is_the_product() -> None:
    mm = QuantMatMul()
    a, b = torch.randint(-5, 5, (2, 3)).float(), torch.randint(-5, 5, (3, 2)).float()
    out, scale = mm(a * 0.5, torch.tensor(0.5), b * 0.25, torch.tensor(0.25))
    assert float(scale) == 0.125 and float(mm.act_scaling_factor) == 0.125
    assert torch.equal(out / 0.125, a @ b)
