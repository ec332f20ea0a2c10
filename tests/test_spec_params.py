"""The params stage: dyadic pairs, bounds checks and the file round trip."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from ivit_gemmini.errors import UserError
from ivit_gemmini.model.architecture import TOY
from ivit_gemmini.model.checkpoint import load_checkpoint
from ivit_gemmini.model.demo import make_demo_checkpoint
from ivit_gemmini.model.params import build_params, dyadic, export_params, load_params

positive_scales = st.floats(2.0**-20, 2.0**10, allow_nan=False, width=32)


@given(s_in=positive_scales, s_out=positive_scales)
def test_dyadic_pair_is_the_31_bit_rounding_of_the_ratio(s_in: float, s_out: float) -> None:
    m, e = dyadic(torch.tensor([s_in]), torch.tensor([s_out]))
    ratio = Fraction(s_in) / Fraction(s_out)
    assert 2**30 <= int(m[0]) < 2**31
    # |m / 2^e - ratio| is at most half a unit of the 31-bit mantissa.
    assert abs(Fraction(int(m[0]), 2 ** int(e[0])) - ratio) <= Fraction(1, 2 ** (int(e[0]) + 1))


def test_dyadic_handles_negative_and_zero_ratios() -> None:
    m, e = dyadic(torch.tensor([-0.75, 0.0]), torch.tensor([1.0]))
    assert int(m[0]) == -3 * 2**29 and int(e[0]) == 31
    assert int(m[1]) == 0


def test_dyadic_keeps_the_multiplier_in_int32_when_rounding_carries() -> None:
    just_below_one = 1.0 - 2.0**-40
    m, e = dyadic(torch.tensor([just_below_one], dtype=torch.float64), torch.tensor([1.0]))
    assert int(m[0]) == 2**30 and int(e[0]) == 30  # 2^31 / 2^31 renormalized


@pytest.fixture(scope="module")
def toy_checkpoint(tmp_path_factory):
    out = tmp_path_factory.mktemp("params")
    images = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    make_demo_checkpoint(images, out / "ck.pth", seed=1, arch=TOY)
    return load_checkpoint(out / "ck.pth", num_heads=TOY.num_heads)


def test_round_trip_and_integer_only_arrays(toy_checkpoint, tmp_path) -> None:
    export_params(toy_checkpoint, tmp_path / "p.npz", tmp_path / "m.json")
    params = load_params(tmp_path / "p.npz", tmp_path / "m.json")
    assert params.arch == toy_checkpoint.arch
    assert all(np.issubdtype(a.dtype, np.integer) for a in params.arrays.values())
    manifest = json.loads((tmp_path / "m.json").read_text())
    assert manifest["checkpoint"]["sha256"] == toy_checkpoint.sha256
    assert params.softmax_bits == 16
    # logit scale is a power of two at least 2^16 below the largest per-class scale
    assert np.log2(params.logit_scale) == int(np.log2(params.logit_scale))


def test_export_writes_nothing_when_the_checkpoint_is_rejected(toy_checkpoint, tmp_path) -> None:
    state = dict(toy_checkpoint.state)
    bias = state["blocks.0.norm1.bias_integer"].clone()
    bias[3] = 2.0**63  # beyond int64: the one LayerNorm bias that cannot be stored
    state["blocks.0.norm1.bias_integer"] = bias
    bad = type(toy_checkpoint)(**{**toy_checkpoint.__dict__, "state": state})
    with pytest.raises(UserError, match=r"blocks\.0\.norm1\.bias_integer, channel 3: .* int64"):
        export_params(bad, tmp_path / "p.npz", tmp_path / "m.json")
    assert list(tmp_path.iterdir()) == []


def test_tiny_gelu_scale_is_rejected_with_the_layer_named(toy_checkpoint) -> None:
    state = dict(toy_checkpoint.state)
    state["blocks.1.mlp.qact_gelu.act_scaling_factor"] = torch.tensor([1e-5])
    with pytest.raises(UserError, match=r"blocks\.1\.gelu"):
        build_params(state, toy_checkpoint.arch)


def test_load_params_rejects_a_tampered_file(toy_checkpoint, tmp_path) -> None:
    export_params(toy_checkpoint, tmp_path / "p.npz", tmp_path / "m.json")
    with np.load(tmp_path / "p.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["head.weight"] = arrays["head.weight"].astype(np.int32)
    np.savez(tmp_path / "p.npz", **arrays)
    with pytest.raises(UserError, match="head.weight"):
        load_params(tmp_path / "p.npz", tmp_path / "m.json")
