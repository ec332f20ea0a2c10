"""`torch-int` (the executable specification) against an independently composed oracle."""

from __future__ import annotations

import numpy as np
import pytest
import spec_network_oracle
import torch

from ivit_gemmini.errors import UserError
from ivit_gemmini.model.architecture import TOY, Architecture
from ivit_gemmini.model.checkpoint import load_checkpoint
from ivit_gemmini.model.demo import make_demo_checkpoint
from ivit_gemmini.model.fakequant import quantize_input
from ivit_gemmini.model.params import export_params, load_params
from ivit_gemmini.spec.network import forward_int

ONE_BLOCK = Architecture(depth=1, dim=24, num_heads=3, mlp_hidden=40, patch_size=4,
                         image_size=16, num_classes=7)


@pytest.fixture(scope="module", params=[TOY, ONE_BLOCK], ids=["toy", "one_block"])
def toy_params(request, tmp_path_factory):
    arch = request.param
    out = tmp_path_factory.mktemp("spec")
    gen = torch.Generator().manual_seed(1)
    images = torch.randn(6, arch.in_chans, arch.image_size, arch.image_size, generator=gen)
    make_demo_checkpoint(images, out / "ck.pth", seed=3, arch=arch)
    ckpt = load_checkpoint(out / "ck.pth", num_heads=arch.num_heads)
    export_params(ckpt, out / "params.npz", out / "manifest.json")
    params = load_params(out / "params.npz", out / "manifest.json")
    inputs = [quantize_input(img, params.input_scale) for img in images]
    return params, inputs


def test_torch_int_equals_the_oracle_on_every_image(toy_params) -> None:
    params, inputs = toy_params
    for image in inputs:
        np.testing.assert_array_equal(forward_int(params, image),
                                      spec_network_oracle.forward(params, image))


def test_logits_are_int64_and_distinct_images_differ(toy_params) -> None:
    params, inputs = toy_params
    logits = [forward_int(params, image) for image in inputs]
    assert all(lg.dtype == np.int64 and lg.shape == (params.arch.num_classes,) for lg in logits)
    assert len({lg.tobytes() for lg in logits}) == len(logits)


def test_saturated_inputs_do_not_overflow(toy_params) -> None:
    params, _ = toy_params
    shape = (params.arch.in_chans, params.arch.image_size, params.arch.image_size)
    for value in (-128, 127):
        image = np.full(shape, value, dtype=np.int8)
        np.testing.assert_array_equal(forward_int(params, image),
                                      spec_network_oracle.forward(params, image))


def test_wrong_input_shape_is_a_clear_error(toy_params) -> None:
    params, _ = toy_params
    with pytest.raises(UserError, match="quantize_image"):
        forward_int(params, np.zeros((3, 8, 8), dtype=np.int8))
