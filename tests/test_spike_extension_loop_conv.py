"""LOOP_CONV_WS (the convolution loop behind tiled_conv_auto) on the Gemmini Spike model
against a numpy convolution: padded 3x3, and a 16x16 stride-16 patch embedding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from spike_helpers import Program

pytestmark = pytest.mark.usefixtures("mesh_backend")  # spike and spike-rtl


def conv_nhwc(x: np.ndarray, w: np.ndarray, bias: np.ndarray, stride: int, pad: int) -> np.ndarray:
    """x: (H, W, C) int8; w: (kh, kw, C, O) int8 -> (OH, OW, O) int64."""
    xp = np.pad(x.astype(np.int64), ((pad, pad), (pad, pad), (0, 0)))
    kh, kw, _, o = w.shape
    oh = (xp.shape[0] - kh) // stride + 1
    ow = (xp.shape[1] - kw) // stride + 1
    out = np.zeros((oh, ow, o), np.int64)
    for r in range(oh):
        for c in range(ow):
            patch = xp[r * stride : r * stride + kh, c * stride : c * stride + kw, :]
            out[r, c] = np.tensordot(patch, w.astype(np.int64), axes=3)
    return out + bias


def conv_loop(
    p: Program,
    *,
    dim: int,
    cin: int,
    cout: int,
    k: int,
    stride: int,
    pad: int,
    inp: int,
    wts: int,
    bias: int,
    out: int,
) -> tuple[int, int]:
    """Issue LOOP_CONV_WS for one image (batch 1), no pooling; field layout of current
    upstream (separate row / column dims)."""
    odim = (dim + 2 * pad - k) // stride + 1
    p.cmd(
        "LOOP_CONV_WS_CONFIG_1",
        (cout << 48) | (cin << 32) | (dim << 16) | 1,
        (pad << 56) | (stride << 48) | (odim << 32) | (odim << 16) | odim,
    )
    p.cmd(
        "LOOP_CONV_WS_CONFIG_2",
        (k << 48) | (odim << 32) | (1 << 16) | (1 << 8) | 0,
        (1 << 48) | (odim << 32) | (odim << 16) | cout,
    )
    p.cmd(
        "LOOP_CONV_WS_CONFIG_3",
        (k << 48) | (k << 32) | (cin << 16) | pad,
        (pad << 48) | (pad << 32) | (pad << 24) | (0 << 16) | dim,
    )
    p.cmd(
        "LOOP_CONV_WS_CONFIG_4", (odim << 48) | 1, (cin << 48) | (cout << 32) | (cout << 16) | odim
    )
    p.cmd("LOOP_CONV_WS_CONFIG_5", wts, out, rel1=True, rel2=True)
    p.cmd("LOOP_CONV_WS_CONFIG_6", bias, inp, rel1=True, rel2=True)
    p.cmd("LOOP_CONV_WS", 1 << 8, 1)  # one pixel per row, no bias skip | no pooling
    return odim, odim


@pytest.mark.parametrize(
    "dim,cin,cout,k,stride,pad,scale,act",
    [
        (8, 3, 20, 3, 1, 1, 1 / 64, 1),
        (32, 3, 24, 16, 16, 0, 1 / 512, 0),
    ],
)
def test_loop_conv_matches_numpy(
    tmp_path: Path,
    dim: int,
    cin: int,
    cout: int,
    k: int,
    stride: int,
    pad: int,
    scale: float,
    act: int,
) -> None:
    rng = np.random.default_rng(dim + cout)
    x = rng.integers(-128, 128, (dim, dim, cin), dtype=np.int8)
    w = rng.integers(-128, 128, (k, k, cin, cout), dtype=np.int8)
    bias = rng.integers(-5000, 5000, cout, dtype=np.int32)
    odim = (dim + 2 * pad - k) // stride + 1
    p = Program()
    px, pw, pbias = p.put(x), p.put(w), p.put(bias)
    po = p.out(odim * odim * cout)
    p.config_ex(ws=True, a_stride=stride)
    p.config_st(cout, scale=scale, act=act)
    conv_loop(
        p,
        dim=dim,
        cin=cin,
        cout=cout,
        k=k,
        stride=stride,
        pad=pad,
        inp=px,
        wts=pw,
        bias=pbias,
        out=po,
    )
    run = p.run(tmp_path)
    acc = conv_nhwc(x, w, bias, stride, pad).astype(np.int32)
    want = np.clip(np.rint(acc.astype(np.float32) * np.float32(scale)), -128, 127)
    if act:
        want = np.maximum(want, 0)
    np.testing.assert_array_equal(p.read(po, np.int8, (odim, odim, cout)), want.astype(np.int8))
    assert run.stats["commands"]["LOOP_CONV_WS"] == 1
