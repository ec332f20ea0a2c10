"""Trained LayerNorm outliers (issue 14, item 1): a checkpoint whose LayerNorms have per-channel
|gamma| from 2^-10 to 2^6 (negative too) and |beta / gamma| up to 2^8 sqrt(C), calibrated by
I-ViT's own code, is accepted and computed exactly by every backend: torch-int equals the
independent oracle (unbounded Python integers, tests/spec_network_oracle.py), tvm-cpu equals
torch-int, and (slow) Spike equals torch-int through the whole workflow."""

from __future__ import annotations

import math

import numpy as np
import pytest
import spec_network_oracle
import spec_oracle as oracle
import torch
from compile_helpers import random_image
from hypothesis import given, settings
from hypothesis import strategies as st
from workflow_helpers import run_workflow

from ivit_gemmini.compile.cpu_backend import CpuBackend
from ivit_gemmini.errors import UserError
from ivit_gemmini.model.architecture import TOY
from ivit_gemmini.model.checkpoint import load_checkpoint
from ivit_gemmini.model.demo import make_demo_checkpoint
from ivit_gemmini.model.images import export_demo_images, load_preprocessed
from ivit_gemmini.model.params import build_params, dyadic, export_params, load_params
from ivit_gemmini.spec import ops
from ivit_gemmini.spec.fold import fold_channel, fold_layernorm_requant, layernorm_requants
from ivit_gemmini.spec.network import forward_int

U_MAX = 2**30  # |(y * f) >> 1| <= 2^30


# -- the fold, channel by channel, against the oracle's exact rhe --------------------------------
def _folded_value(u: int, b: int, m: int, e: int) -> int:
    f = fold_layernorm_requant(np.array([b], np.int64), np.array([m], np.int32),
                               np.array([e], np.int32))
    for arr, limit in ((f.q, 2**62), (f.m, 2**31 - 1), (f.r, 2**62), (f.e, 62)):
        assert abs(int(arr[0])) <= limit  # the int64 bounds of docs/integer-program.md
    return int(ops.requant8_folded(torch.tensor([u]), f)[0])


@settings(max_examples=400, deadline=None)
@given(
    u=st.integers(-U_MAX, U_MAX),
    b=st.one_of(st.integers(-(2**40), 2**40), st.integers(-(2**63) + 1, 2**63 - 1)),
    m=st.one_of(st.integers(2**30, 2**31 - 1), st.integers(-(2**31) + 1, -(2**30)),
                st.integers(-1000, 1000)),
    e=st.integers(-40, 110),
)
def test_folded_requant_equals_the_exact_value(u: int, b: int, m: int, e: int) -> None:
    want = oracle.clamp(oracle.requant(u + b, m, e) if e >= 0 else (u + b) * m * 2**-e, 8)
    assert _folded_value(u, b, m, e) == want


def _threshold_case(e: int, m: int, tie_offset: int) -> tuple[int, int]:
    """A bias that puts a rounding boundary of (u + b) m / 2^e inside u's range (shift > 62:
    the channel takes two values); returns (b, the first u past the boundary)."""
    # (u + b) m / 2^e = 5.5 at u = 0 when b = 5.5 * 2^e / m (rounded), plus an offset in u.
    b = (11 * 2 ** (e - 1)) // m + tie_offset
    return b, -tie_offset


@pytest.mark.parametrize("m", [2**30 + 12345, -(2**31) + 3])
@pytest.mark.parametrize("tie_offset", [0, 7, -(2**29)])
def test_two_valued_channel_switches_exactly_at_its_boundary(m: int, tie_offset: int) -> None:
    e = 80
    b, near = _threshold_case(e, m, tie_offset)
    values = set()
    for u in [-U_MAX, near - 2, near - 1, near, near + 1, near + 2, U_MAX]:
        u = max(-U_MAX, min(U_MAX, u))
        want = oracle.clamp(oracle.requant(u + b, m, e), 8)
        assert _folded_value(u, b, m, e) == want, u
        values.add(want)
    assert len(values) == 2  # the case really has a boundary inside the range
    assert fold_channel(b, m, e)[3] == 32  # encoded as a step, not as a constant


def test_vanishing_channel_is_the_exact_zero_pair() -> None:
    # The case: shift above 62 with an ordinary bias; every output is provably 0.
    assert fold_channel(12345, 2**30 + 1, 75) == (0, 0, 0, 0)


# -- a checkpoint calibrated by I-ViT's code with outlier LayerNorms -------------------------------
def outlier_layernorms(floats: dict[str, torch.Tensor]) -> None:
    """Every LayerNorm gets |gamma| spread over 2^-10 .. 2^6 (one in three negative), one
    gamma-30 channel beside a gamma-0.02 one, and |beta / gamma| from 0.1 to 2^8 sqrt(C) (the
    large ratios on the small gammas, as in trained ViTs)."""
    for key in sorted(k for k in floats if "norm" in k and k.endswith(".weight")):
        c = floats[key].numel()
        gen = torch.Generator().manual_seed(c * 7 + len(key))
        gamma = 2.0 ** torch.linspace(-10.0, 6.0, c)[torch.randperm(c, generator=gen)]
        gamma[1::3] *= -1
        gamma[0], gamma[1] = 30.0, 0.02
        ratio = torch.tensor([0.1, -1.5, 3.0, -0.5, 0.3, 1.1]).repeat(c)[:c]
        ratio = torch.where(gamma.abs() < 2.0**-6, 2.0**8 * torch.sign(ratio), ratio)
        floats[key] = gamma
        floats[key[: -len("weight")] + "bias"] = gamma * ratio * math.sqrt(c)


@pytest.fixture(scope="module")
def outlier_checkpoint(tmp_path_factory):
    folder = tmp_path_factory.mktemp("outliers")
    photos = export_demo_images(folder / "demo")
    out = folder / "outlier_checkpoint.pth"
    make_demo_checkpoint(load_preprocessed(photos, TOY.image_size), out, seed=1, arch=TOY,
                         adjust=outlier_layernorms)
    return out


@pytest.fixture(scope="module")
def outlier_params(outlier_checkpoint, tmp_path_factory):
    folder = tmp_path_factory.mktemp("outlier_params")
    ck = load_checkpoint(outlier_checkpoint, num_heads=TOY.num_heads)
    export_params(ck, folder / "p.npz", folder / "m.json")
    return load_params(folder / "p.npz", folder / "m.json")


def test_the_outliers_exercise_every_case_of_the_fold(outlier_params) -> None:
    biases = [np.abs(outlier_params[f"{n}.bias"]).max() for n, _ in
              layernorm_requants(TOY.depth)]
    assert max(biases) > 2**36  # |beta / gamma| ~ 2^8 sqrt(C): far beyond the old 2^30 cap
    shifts = [outlier_params[f"{p}.e"] for _, p in layernorm_requants(TOY.depth)]
    assert max(int(s.max()) for s in shifts) > 62  # the old "inconsistent scales" refusal
    folds = [fold_layernorm_requant(outlier_params[f"{n}.bias"], *outlier_params.rq(p))
             for n, p in layernorm_requants(TOY.depth)]
    assert any(np.any(f.q != 0) for f in folds)  # bias * m beyond the plain int64 form
    assert any(np.any((f.m == 0) & (f.q != 0)) for f in folds)  # constant non-zero channels
    assert any(np.any(f.m < 0) for f in folds)  # negative gamma


def test_torch_int_equals_the_oracle_and_tvm_cpu_on_outliers(outlier_params, tmp_path) -> None:
    backend = CpuBackend(outlier_params, cache_dir=tmp_path)
    seen = set()
    for seed in range(2):
        image = random_image(TOY, seed)
        want = spec_network_oracle.forward(outlier_params, image)
        got = forward_int(outlier_params, image)
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(backend(image), got)
        seen.add(tuple(got))
    assert len(seen) > 1  # the outlier network still tells images apart


def test_loader_accepts_a_layernorm_bias_beyond_int32(outlier_checkpoint) -> None:
    state = torch.load(outlier_checkpoint, weights_only=True)
    big = max(float(state[f"{n}.bias_integer"].abs().max()) for n, _ in
              layernorm_requants(TOY.depth))
    assert big > 2**31  # was refused as "values outside int32 ... after an evaluation pass"
    load_checkpoint(outlier_checkpoint, num_heads=TOY.num_heads)


def test_an_impossible_shift_names_the_tensor_and_channel(outlier_checkpoint) -> None:
    ck = load_checkpoint(outlier_checkpoint, num_heads=TOY.num_heads)
    state = dict(ck.state)
    scale = state["blocks.1.attn.qkv.fc_scaling_factor"].clone()
    scale[5] = 1e15  # accumulator scale >= 2^31 times the output scale: no requantization
    state["blocks.1.attn.qkv.fc_scaling_factor"] = scale
    with pytest.raises(UserError, match=r"blocks\.1\.qkv\.rq, channel 5: .*2\^31 or more"):
        build_params(state, ck.arch)


def test_a_shift_above_62_elsewhere_is_the_exact_zero_pair(outlier_checkpoint) -> None:
    ck = load_checkpoint(outlier_checkpoint, num_heads=TOY.num_heads)
    state = dict(ck.state)
    scale = state["blocks.0.mlp.fc1.fc_scaling_factor"].clone()
    scale[3] = scale[3] * 2.0**-40  # one dead channel beside ordinary ones
    state["blocks.0.mlp.fc1.fc_scaling_factor"] = scale
    arrays, _ = build_params(state, ck.arch)
    s_in = scale * state["blocks.0.qact3.act_scaling_factor"].reshape(-1)
    m, e = dyadic(s_in, state["blocks.0.mlp.qact_gelu.act_scaling_factor"].reshape(-1))
    assert int(e[3]) > 62  # was refused as "inconsistent" scales
    for z in (2**31 - 1, -(2**31) + 1):  # |acc| < 2^31: the value is 0 for every input
        assert oracle.requant(z, int(m[3]), int(e[3])) == 0
    assert (int(arrays["blocks.0.fc1.rq.m"][3]), int(arrays["blocks.0.fc1.rq.e"][3])) == (0, 0)
    assert (arrays["blocks.0.fc1.rq.m"][:3] == m[:3]).all()  # the other channels unchanged


@pytest.mark.slow
def test_spike_logits_equal_torch_int_on_the_outlier_checkpoint(tmp_path, outlier_checkpoint):
    # tvm-cpu is compared above; here the firmware (TVM's C of the fused LayerNorm kernel, on
    # the RISC-V core, with Gemmini's matmuls) runs the whole workflow on Spike.
    photo = sorted((outlier_checkpoint.parent / "demo").glob("*.png"))[0]
    config = {"checkpoint": str(outlier_checkpoint), "images": [str(photo)],
              "backends": ["torch-int", "spike"]}
    run = run_workflow(tmp_path, config)  # the default target: both shards, then the tables
    assert run.returncode == 0, run.stderr[-3000:]
    torch_int = np.load(tmp_path / f"results/logits/torch-int/{photo.stem}.npy")
    (spike_file,) = (tmp_path / "results/logits/spike").glob(f"*/{photo.stem}.npy")
    spike = np.load(spike_file)
    assert spike.dtype == np.int64 and spike.tolist() == torch_int.tolist()
