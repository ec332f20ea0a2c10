"""Gemmini ISA tests: programs written against gemmini.h run on Spike with our extension, and
their outputs are compared with numpy goldens. Every high-level case also runs with the `CPU`
dataflow on Spike *without* the extension: the same answer from plain C, with no Gemmini
instruction (one would trap), is a second independent check of both paths."""

from __future__ import annotations

import numpy as np
import pytest
from gemmini_rig import RELU, first_mismatch, golden_conv, golden_matmul, rig, to_int8_scaled
from hypothesis import given, settings
from hypothesis import strategies as st

from ivit_gemmini.errors import UserError
from ivit_gemmini.gemmini.case_blob import (
    ScriptCase,
    conv_case,
    conv_dw_case,
    downsample_case,
    global_average_case,
    helpers_case,
    matmul_case,
    matmul_nn_case,
    resadd_case,
)

__all__ = ["rig"]  # the fixture, imported for pytest

DATAFLOWS = ["WS", "CPU"]
MATMUL_DATAFLOWS = ["WS", "OS", "CPU"]  # OS: explicit mvin/preload/compute, no loop command
ACC = 0x8000_0000  # accumulator address bit
ACC_ACCUMULATE = 0x4000_0000
ACC_FULL = 0x2000_0000
GARBAGE = 0xFFFF_FFFF


def rand_i8(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.integers(-128, 128, shape, dtype=np.int8)


def check_matmul(rig, case_kwargs: dict, A, B, D=None, name="mm") -> None:
    flags = {k: v for k, v in case_kwargs.items() if k not in ("dataflow", "repeats")}
    want = golden_matmul(A, B, D, **flags)
    case = matmul_case(A, B, D, **case_kwargs)
    out = rig.run(case, name).out
    got = np.frombuffer(out, dtype=want.dtype).reshape(want.shape)
    assert np.array_equal(got, want), first_mismatch(got, want)


# ---- tiled_matmul_auto ------------------------------------------------------------------------


@pytest.mark.parametrize("dataflow", MATMUL_DATAFLOWS)
@pytest.mark.parametrize(
    "shape", [(1, 1, 1), (1, 70, 33), (200, 17, 30), (5, 300, 40), (33, 47, 129), (64, 64, 64)]
)
def test_matmul_shapes_with_bias(rig, shape, dataflow):
    rows, cols, inner = shape
    rng = np.random.default_rng(rows * 10007 + cols * 101 + inner)
    A, B = rand_i8(rng, rows, inner), rand_i8(rng, inner, cols)
    D = rng.integers(-(1 << 20), 1 << 20, (rows, cols), dtype=np.int32)
    check_matmul(rig, {"dataflow": dataflow, "scale": 1 / 512}, A, B, D)


@pytest.mark.parametrize("dataflow", MATMUL_DATAFLOWS)
@pytest.mark.parametrize("act", [0, RELU])
@pytest.mark.parametrize("scale", [0.5, 1 / 3, 0.0625, 3.0])
def test_matmul_activation_and_scale(rig, act, scale, dataflow):
    rng = np.random.default_rng(7)
    A, B = rand_i8(rng, 40, 24) // 8, rand_i8(rng, 24, 36) // 8
    want = golden_matmul(A, B, act=act, scale=scale)
    acc = A.astype(np.int64) @ B.astype(np.int64)
    if scale == 0.5:  # the data must contain ties of both parities to test half-to-even
        halves = acc[acc % 2 != 0] / 2
        assert (np.floor(halves) % 2 == 0).any() and (np.floor(halves) % 2 == 1).any()
    if scale == 3.0 and act == 0:  # and saturation at both ends
        assert (want == 127).any() and (want == -128).any()
    check_matmul(rig, {"dataflow": dataflow, "act": act, "scale": scale}, A, B)


@pytest.mark.parametrize("dataflow", DATAFLOWS)
@pytest.mark.parametrize("transpose", [(True, False), (False, True)])
def test_matmul_transposes(rig, transpose, dataflow):
    tA, tB = transpose
    rng = np.random.default_rng(11)
    rows, cols, inner = 37, 29, 51
    A = rand_i8(rng, inner, rows) if tA else rand_i8(rng, rows, inner)
    B = rand_i8(rng, cols, inner) if tB else rand_i8(rng, inner, cols)
    kwargs = {"dataflow": dataflow, "transpose_A": tA, "transpose_B": tB, "full_C": True}
    check_matmul(rig, kwargs, A, B)


def test_matmul_both_transposes_cpu_only(rig):
    rng = np.random.default_rng(12)
    A, B = rand_i8(rng, 20, 18), rand_i8(rng, 22, 20)
    kwargs = {"transpose_A": True, "transpose_B": True, "full_C": True}
    check_matmul(rig, {"dataflow": "CPU", **kwargs}, A, B)
    with pytest.raises(UserError, match="status 1"):  # WS refuses, as upstream does
        rig.run(matmul_case(A, B, dataflow="WS", **kwargs), "both_t")


@pytest.mark.parametrize("dataflow", MATMUL_DATAFLOWS)
def test_matmul_bias_variants_and_strides(rig, dataflow):
    rng = np.random.default_rng(13)
    rows, cols, inner = 45, 50, 70
    wide_A = rand_i8(rng, rows, inner + 13)
    A = wide_A[:, 5 : 5 + inner]  # row stride inner + 13, offset start
    B = rand_i8(rng, inner, cols)
    row = rng.integers(-5000, 5000, (1, cols), dtype=np.int32)
    check_matmul(rig, {"dataflow": dataflow, "scale": 0.01}, A, B, None, "nobias")
    check_matmul(
        rig, {"dataflow": dataflow, "scale": 0.01, "repeating_bias": True}, A, B, row, "rowbias"
    )
    if dataflow != "OS":  # OS has no int8 bias, as upstream
        low = rand_i8(rng, rows, cols)  # int8 bias (low_D)
        check_matmul(rig, {"dataflow": dataflow, "full_C": True}, A, B, low, "lowbias")


@pytest.mark.parametrize("dataflow", ["WS", "CPU"])
def test_int32_bias_row_beyond_fp32_precision_is_exact(rig, dataflow):
    # The linear layers' bias goes in as D (int32 mvin, MVIN_SCALE_IDENTITY, full int32 C):
    # odd values far above 2^24, which an fp32 scale could not carry, must arrive unchanged.
    rng = np.random.default_rng(24)
    rows, cols, inner = 20, 35, 48
    A, B = rand_i8(rng, rows, inner), rand_i8(rng, inner, cols)
    room = 2**31 - 1 - inner * 128 * 128  # the params stage's accumulator bound
    row = rng.integers(-room, room, (1, cols), dtype=np.int64) | 1
    row[0, :4] = [room, -room, 2**24 + 1, -(2**24) - 3]
    check_matmul(rig, {"dataflow": dataflow, "repeating_bias": True, "full_C": True}, A, B,
                 row.astype(np.int32), "bigbias")


@pytest.mark.parametrize("dataflow", MATMUL_DATAFLOWS)
def test_matmul_accumulates_over_k_tiles_and_overwrites_between_runs(rig, dataflow):
    # K = 1000 needs two K tiles (a tile holds at most 51 x 16); running the kernel twice must
    # give the same C (the first K tile overwrites, it does not add to the last run's C).
    rng = np.random.default_rng(14)
    A, B = rand_i8(rng, 40, 1000), rand_i8(rng, 1000, 40)
    D = rng.integers(-1000, 1000, (40, 40), dtype=np.int32)
    kwargs = {"dataflow": dataflow, "full_C": True, "repeats": 2}
    check_matmul(rig, kwargs, A, B, None, "k_nobias")
    check_matmul(rig, kwargs, A, B, D, "k_bias")


@pytest.mark.parametrize("dataflow", MATMUL_DATAFLOWS)
def test_matmul_mvin_scale(rig, dataflow):
    rng = np.random.default_rng(15)
    A, B = rand_i8(rng, 30, 20), rand_i8(rng, 20, 26)
    kwargs = {"dataflow": dataflow, "A_scale": 0.5, "B_scale": 2.5, "full_C": True}
    check_matmul(rig, kwargs, A, B)


# ---- tiled_conv_auto --------------------------------------------------------------------------


def check_conv(rig, x, w, bias, name, **kwargs) -> None:
    dataflow = kwargs.pop("dataflow")
    want = golden_conv(x, w, bias, **kwargs)
    out = rig.run(conv_case(x, w, bias, dataflow=dataflow, **kwargs), name).out
    got = np.frombuffer(out, dtype=np.int8).reshape(want.shape)
    assert np.array_equal(got, want), first_mismatch(got, want)


@pytest.mark.parametrize("dataflow", DATAFLOWS)
def test_conv_patch_embedding(rig, dataflow):
    # DeiT's patch embedding: 16x16 kernel, stride 16, 3 input channels, 192 output channels.
    rng = np.random.default_rng(21)
    x, w = rand_i8(rng, 1, 64, 64, 3), rand_i8(rng, 16, 16, 3, 192)
    bias = rng.integers(-20000, 20000, 192, dtype=np.int32)
    check_conv(rig, x, w, bias, "patch", stride=16, padding=0, scale=1 / 700, dataflow=dataflow)


@pytest.mark.parametrize("dataflow", DATAFLOWS)
def test_conv_3x3_padded_relu(rig, dataflow):
    rng = np.random.default_rng(22)
    x, w = rand_i8(rng, 2, 10, 10, 20), rand_i8(rng, 3, 3, 20, 24)
    bias = rng.integers(-3000, 3000, 24, dtype=np.int32)
    check_conv(
        rig, x, w, bias, "c3x3", stride=1, padding=1, act=RELU, scale=1 / 300, dataflow=dataflow
    )


@pytest.mark.parametrize("dataflow", DATAFLOWS)
def test_conv_strided_with_max_pool(rig, dataflow):
    rng = np.random.default_rng(23)
    x, w = rand_i8(rng, 1, 12, 12, 8), rand_i8(rng, 3, 3, 8, 16)
    check_conv(
        rig, x, w, None, "cpool", stride=1, padding=1, scale=1 / 200, pool_size=3,
        pool_stride=2, pool_padding=1, dataflow=dataflow,
    )  # fmt: skip


# ---- tiled_resadd_auto ------------------------------------------------------------------------


@pytest.mark.parametrize("dataflow", DATAFLOWS)
@pytest.mark.parametrize("relu", [False, True])
def test_resadd(rig, relu, dataflow):
    rng = np.random.default_rng(31)
    A, B = rand_i8(rng, 37, 45), rand_i8(rng, 37, 45)
    want = to_int8_scaled(
        to_int8_scaled(A, 0.5).astype(np.int32) + to_int8_scaled(B, 1.5).astype(np.int32), 0.75
    )
    if relu:
        want = np.maximum(want, 0)
    case = resadd_case(A, B, A_scale=0.5, B_scale=1.5, C_scale=0.75, relu=relu, dataflow=dataflow)
    got = np.frombuffer(rig.run(case, "resadd").out, dtype=np.int8).reshape(want.shape)
    assert np.array_equal(got, want), first_mismatch(got, want)


# ---- low-level instruction sequences ----------------------------------------------------------


def f32(x: float) -> int:
    return int(np.array([x], np.float32).view(np.uint32)[0])


def test_mvin_partial_tile_writes_only_its_rows_and_columns(rig):
    rng = np.random.default_rng(41)
    fill = np.full((16, 16), 7, np.int8)
    part = rand_i8(rng, 5, 20)  # a 5 x 7 window of a 20-wide matrix (DRAM stride 20)
    s = ScriptCase(dump_bytes=2 * 256)
    fill_at, part_at = s.data(fill), s.data(part)
    s.op("config_ld", 0, 16, f32(1.0), 0, 16).op("mvin", 0, fill_at, 100, 16, 16)
    s.op("config_ld", 0, 20, f32(1.0), 0, 16).op("mvin", 0, part_at + 3, 100, 7, 5)
    s.op("config_st", 16, 0, f32(1.0)).op("mvout", 0, 100, 16, 16)
    s.op("mvout", 256 + 0, 100, 7, 5)  # a partial mvout writes only its window
    out = np.frombuffer(rig.run(s.build(), "mvin_part").out, np.int8)
    want = fill.copy()
    want[:5, :7] = part[:, 3:10]
    assert np.array_equal(out[:256].reshape(16, 16), want), "full tile after partial mvin"
    window = out[256:].reshape(16, 16)
    assert np.array_equal(window[:5, :7], part[:, 3:10]) and not window[:5, 7:].any()
    assert not window[5:].any(), "a partial mvout wrote outside its rows"


def test_mvin_scale_rounds_half_to_even_and_saturates(rig):
    x = np.arange(-128, 128, dtype=np.int8).reshape(16, 16)
    s = ScriptCase(dump_bytes=2 * 256)
    at = s.data(x)
    s.op("config_st", 16, 0, f32(1.0))
    for i, scale in enumerate((0.5, 3.0)):
        s.op("config_ld", 0, 16, f32(scale), 0, 16).op("mvin", 0, at, 32 * i, 16, 16)
        s.op("mvout", 256 * i, 32 * i, 16, 16)
    out = np.frombuffer(rig.run(s.build(), "mvin_scale").out, np.int8)
    for i, scale in enumerate((0.5, 3.0)):
        want = to_int8_scaled(x, scale)
        got = out[256 * i : 256 * (i + 1)].reshape(16, 16)
        assert np.array_equal(got, want), f"scale {scale}: {first_mismatch(got, want)}"


# Scales a sweep can produce: both zeros, the smallest and largest subnormal, a product that
# overflows fp32, both infinities and NaN (bit patterns, so -0.0 and the NaN survive as given).
SPECIAL_SCALE_BITS = [0x0000_0000, 0x8000_0000, 0x0000_0001, 0x007F_FFFF, 0x7E96_7699,
                      0x7F80_0000, 0xFF80_0000, 0x7FC0_0000, 0xFFC1_2345]  # fmt: skip


def test_mvin_and_mvout_special_scales(rig):
    """Scale 0.0 multiplies by zero (it used to be taken as 1.0); -0.0, subnormals, infinities and
    NaN follow fp32 multiply, round half to even, saturate (NaN -> 127) on both the mvin scale
    and the accumulator's mvout scale. One Spike run covers all of them."""
    x = np.arange(-128, 128, dtype=np.int8).reshape(16, 16)  # includes 0: 0 x inf is NaN
    acc = np.arange(-128, 128, dtype=np.int32).reshape(16, 16) * 1000
    n = len(SPECIAL_SCALE_BITS)
    s = ScriptCase(dump_bytes=2 * n * 256)
    at, acc_at = s.data(x), s.data(acc)
    s.op("config_st", 16, 0, f32(1.0))
    for i, bits in enumerate(SPECIAL_SCALE_BITS):
        s.op("config_ld", 0, 16, bits, 0, 16).op("mvin", 0, at, 32 * i, 16, 16)
        s.op("mvout", 256 * i, 32 * i, 16, 16)
    s.op("config_ld", 2, 64, f32(1.0), 0, 16).op("mvin", 2, acc_at, ACC | 0, 16, 16)
    for i, bits in enumerate(SPECIAL_SCALE_BITS):
        s.op("config_st", 16, 0, bits).op("mvout", 256 * (n + i), ACC | 0, 16, 16)
    out = np.frombuffer(rig.run(s.build(), "special_scales").out, np.int8).reshape(2 * n, 16, 16)
    for i, bits in enumerate(SPECIAL_SCALE_BITS):
        scale = float(np.array([bits], np.uint32).view(np.float32)[0])
        for got, src, what in ((out[i], x, "mvin"), (out[n + i], acc, "mvout")):
            want = to_int8_scaled(src, scale)
            assert np.array_equal(got, want), f"{what} scale bits {bits:#010x}: " + first_mismatch(
                got, want
            )


@pytest.mark.parametrize("dataflow", DATAFLOWS)
@pytest.mark.parametrize(
    "scales", [(np.inf, np.nan, 1.0), (0.0, -0.0, 2.0**-149), (2.0**-149, 1e38, -np.inf)]
)
def test_resadd_special_scales(rig, scales, dataflow):
    """The same special scales through a whole kernel: Gemmini and the CPU path (the params
    header's MVIN_SCALE / ACC_SCALE) both give numpy's fp32 answer, with no undefined
    float -> integer conversion on the core."""
    A = np.arange(-128, 128, dtype=np.int8).reshape(16, 16)
    B = A[::-1].copy()
    a_scale, b_scale, c_scale = scales
    case = resadd_case(A, B, A_scale=a_scale, B_scale=b_scale, C_scale=c_scale, relu=False,
                       dataflow=dataflow)  # fmt: skip
    got = np.frombuffer(rig.run(case, "resadd_special").out, np.int8).reshape(16, 16)
    summed = to_int8_scaled(A, a_scale).astype(np.int32) + to_int8_scaled(B, b_scale)
    want = to_int8_scaled(summed.astype(np.int32), c_scale)
    assert np.array_equal(got, want), first_mismatch(got, want)


def test_accumulator_mvin_int32_accumulate_full_and_scaled_mvout(rig):
    rng = np.random.default_rng(42)
    d1 = rng.integers(-(1 << 30), 1 << 30, (16, 16), dtype=np.int32)
    d2 = rng.integers(-(1 << 20), 1 << 20, (16, 16), dtype=np.int32)
    s = ScriptCase(dump_bytes=16 * 16 * 4 + 256)
    a1, a2 = s.data(d1), s.data(d2)
    s.op("config_ld", 2, 64, f32(1.0), 0, 16).op("mvin", 2, a1, ACC | 16, 16, 16)
    s.op("mvin", 2, a2, ACC | ACC_ACCUMULATE | 16, 16, 16)  # adds onto d1
    s.op("config_st", 64, 0, f32(1.0)).op("mvout", 0, ACC | ACC_FULL | 16, 16, 16)
    s.op("config_st", 16, RELU, f32(1e-6)).op("mvout", 1024, ACC | 16, 16, 16)
    out = rig.run(s.build(), "acc").out
    total = (d1.astype(np.int64) + d2).astype(np.int32)
    full = np.frombuffer(out[:1024], np.int32).reshape(16, 16)
    assert np.array_equal(full, total), first_mismatch(full, total)
    scaled = np.frombuffer(out[1024:], np.int8).reshape(16, 16)
    want = np.maximum(to_int8_scaled(total, 1e-6), 0)
    assert np.array_equal(scaled, want), first_mismatch(scaled, want)


def test_weight_stationary_preload_compute_accumulate(rig):
    rng = np.random.default_rng(43)
    A, A2, B = rand_i8(rng, 5, 9), rand_i8(rng, 5, 9), rand_i8(rng, 9, 11)
    s = ScriptCase(dump_bytes=5 * 11 * 4)
    ia, ia2, ib = s.data(A), s.data(A2), s.data(B)
    s.op("config_ex", 1, 0, 0, 0, 0)  # weight-stationary, no activation
    s.op("config_ld", 0, 9, f32(1.0), 0, 16).op("mvin", 0, ia, 0, 9, 5).op("mvin", 0, ia2, 32, 9, 5)
    s.op("config_ld", 1, 11, f32(1.0), 0, 16).op("mvin", 1, ib, 16, 11, 9)
    s.op("preload", 16, ACC, 11, 9, 11, 5)  # B as weights, C overwrites the accumulator
    s.op("compute_preloaded", 0, GARBAGE, 9, 5, 16, 16)
    s.op("preload", GARBAGE, ACC | ACC_ACCUMULATE, 16, 16, 11, 5)  # same weights, add
    s.op("compute_accumulated", 32, GARBAGE, 9, 5, 16, 16)
    s.op("config_st", 44, 0, f32(1.0)).op("mvout", 0, ACC | ACC_FULL, 11, 5)
    got = np.frombuffer(rig.run(s.build(), "ws").out, np.int32).reshape(5, 11)
    want = (A.astype(np.int32) + 0) @ B.astype(np.int32) + A2.astype(np.int32) @ B.astype(np.int32)
    assert np.array_equal(got, want), first_mismatch(got, want)


# ---- randomized configurations ---------------------------------------------------------------

BIAS_KINDS = ["none", "full", "row", "int8"]


@settings(max_examples=10, deadline=None, derandomize=True)
@given(data=st.data())
def test_matmul_random_configurations(rig, data):
    """Random shapes and flags: Gemmini (WS) and the core (CPU) both equal numpy."""
    dims = [data.draw(st.integers(1, 90), label=n) for n in "IJK"]
    rows, cols, inner = dims
    transpose = data.draw(st.sampled_from([(False, False), (True, False), (False, True)]))
    bias_kind = data.draw(st.sampled_from(BIAS_KINDS))
    kwargs = {
        "act": data.draw(st.sampled_from([0, RELU])),
        "scale": data.draw(st.floats(float(np.float32(1e-4)), 2.0, width=32)),
        "A_scale": data.draw(st.sampled_from([1.0, 0.5, 1.7])),
        "full_C": data.draw(st.booleans()),
        "transpose_A": transpose[0],
        "transpose_B": transpose[1],
        "repeating_bias": bias_kind == "row",
    }
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    A = rand_i8(rng, inner, rows) if transpose[0] else rand_i8(rng, rows, inner)
    B = rand_i8(rng, cols, inner) if transpose[1] else rand_i8(rng, inner, cols)
    D = {
        "none": None,
        "full": rng.integers(-(1 << 18), 1 << 18, (rows, cols), dtype=np.int32),
        "row": rng.integers(-(1 << 18), 1 << 18, (1, cols), dtype=np.int32),
        "int8": rand_i8(rng, rows, cols),
    }[bias_kind]
    for dataflow in DATAFLOWS:
        check_matmul(rig, {"dataflow": dataflow, **kwargs}, A, B, D, f"hyp_{dataflow}")


def test_conv_patch_embedding_full_size(rig):
    # The real DeiT-tiny patch embedding: a 224 x 224 x 3 image into 14 x 14 x 192 on Gemmini
    # (the CPU path of this conv is covered on a 64 x 64 image above; at 224 it takes ~30 s).
    rng = np.random.default_rng(24)
    x, w = rand_i8(rng, 1, 224, 224, 3), rand_i8(rng, 16, 16, 3, 192)
    bias = rng.integers(-20000, 20000, 192, dtype=np.int32)
    check_conv(rig, x, w, bias, "patch224", stride=16, padding=0, scale=1 / 900, dataflow="WS")


# ---- upstream kernels beyond matmul / conv / resadd (issue 10): numpy goldens ---------------


def golden_conv_dw(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None, **kw) -> np.ndarray:
    """Depthwise: channel c of x convolved with w[c] alone (a 1-in, 1-out conv per channel)."""
    return np.concatenate(
        [
            golden_conv(x[..., c : c + 1], w[c][:, :, None, None],
                        None if bias is None else bias[c : c + 1], **kw)
            for c in range(x.shape[-1])
        ],
        axis=-1,
    )  # fmt: skip


DW_CASES = {
    "s2p1": ({"stride": 2, "padding": 1, "act": RELU, "scale": 1 / 64}, None),
    "pool": ({"stride": 1, "padding": 1, "scale": 1 / 50, "pool_size": 3, "pool_stride": 2,
              "pool_padding": 1}, None),
    "tiles": ({"stride": 1, "padding": 1, "act": RELU, "scale": 1 / 40}, (1, 3, 4, 2, 2)),
    "nobias": ({"stride": 1, "padding": 0, "scale": 1 / 32}, None),
}  # fmt: skip


@pytest.mark.parametrize(
    "name,dataflow",
    [("s2p1", "WS"), ("s2p1", "CPU"), ("pool", "WS"), ("tiles", "WS"), ("nobias", "WS")],
)
def test_conv_dw(rig, name, dataflow):
    kwargs, tiles = DW_CASES[name]
    rng = np.random.default_rng(61)
    x, w = rand_i8(rng, 2, 9, 11, 5), rand_i8(rng, 5, 3, 3)
    bias = None if name == "nobias" else rng.integers(-3000, 3000, 5, dtype=np.int32)
    want = golden_conv_dw(x, w, bias, **kwargs)
    out = rig.run(conv_dw_case(x, w, bias, tiles=tiles, dataflow=dataflow, **kwargs), name).out
    got = np.frombuffer(out, np.int8).reshape(want.shape)
    assert np.array_equal(got, want), first_mismatch(got, want)


@pytest.mark.parametrize(
    "shape,dataflow", [((2, 8, 6), "WS"), ((1, 7, 5), "WS"), ((2, 8, 6), "CPU")]
)
def test_conv_downsample_with_strides(rig, shape, dataflow):
    # Padded pixels (11 elements for 9 channels), weight rows (21 for 18) and output pixels (20).
    rng = np.random.default_rng(62)
    n, h, wd = shape
    x, w = rand_i8(rng, n, h, wd, 11), rand_i8(rng, 9, 21)
    bias = rng.integers(-5000, 5000, 18, dtype=np.int32)
    want = golden_conv(x[..., :9], w[:, :18].reshape(1, 1, 9, 18), bias, stride=2, padding=0,
                       act=RELU, scale=1 / 100)  # fmt: skip
    case = downsample_case(x, w, bias, in_channels=9, out_channels=18, out_stride=20, act=RELU,
                           scale=1 / 100, dataflow=dataflow)  # fmt: skip
    got = np.frombuffer(rig.run(case, "downsample").out, np.int8).reshape(*want.shape[:3], 20)
    assert np.array_equal(got[..., :18], want), first_mismatch(got[..., :18], want)
    assert not got[..., 18:].any(), "wrote into the output pixels' padding"


@pytest.mark.parametrize("dataflow", DATAFLOWS)
def test_global_average(rig, dataflow):
    rng = np.random.default_rng(63)
    x = rand_i8(rng, 2, 4, 4, 70)  # 70 channels: more than one mvin (64) per pixel row
    x[0, :, :, 0] = np.array([-3] * 8 + [0] * 8).reshape(4, 4)  # mean -1.5: ties to -2
    x[0, :, :, 1] = np.array([3] * 8 + [0] * 8).reshape(4, 4)  # mean 1.5: ties to 2
    want = to_int8_scaled(x.astype(np.int64).sum(axis=(1, 2)).astype(np.int32), 1 / 16)
    out = rig.run(global_average_case(x, dataflow), "gavg").out
    got = np.frombuffer(out, np.int8).reshape(want.shape)
    assert np.array_equal(got, want), first_mismatch(got, want)
    assert (want[0, 0], want[0, 1]) == (-2, 2)


@pytest.mark.parametrize("dataflow", DATAFLOWS)
def test_resadd_stride(rig, dataflow):
    rng = np.random.default_rng(64)
    A, B = rand_i8(rng, 37, 50), rand_i8(rng, 37, 50)  # rows of 50, the first 41 added
    case = resadd_case(A, B, A_scale=0.5, B_scale=1.5, C_scale=0.75, relu=False,
                       dataflow=dataflow, cols=41)  # fmt: skip
    got = np.frombuffer(rig.run(case, "resadd_stride").out, np.int8).reshape(37, 50)
    summed = to_int8_scaled(A, 0.5).astype(np.int32) + to_int8_scaled(B, 1.5).astype(np.int32)
    want = to_int8_scaled(summed, 0.75)[:, :41]
    assert np.array_equal(got[:, :41], want), first_mismatch(got[:, :41], want)
    assert not got[:, 41:].any(), "wrote beyond the J columns of a strided row"


@pytest.mark.parametrize("repeating_bias", [True, False])
def test_matmul_nn_auto_with_its_cpu_check(rig, repeating_bias):
    rng = np.random.default_rng(65)
    A, B = rand_i8(rng, 40, 70), rand_i8(rng, 70, 33)
    D = rng.integers(-(1 << 16), 1 << 16, (1 if repeating_bias else 40, 33), dtype=np.int32)
    want = golden_matmul(A, B, D, act=RELU, scale=1 / 256, repeating_bias=repeating_bias)
    case = matmul_nn_case(A, B, D, act=RELU, scale=1 / 256, repeating_bias=repeating_bias)
    got = np.frombuffer(rig.run(case, "nn").out, np.int8).reshape(want.shape)
    assert np.array_equal(got, want), first_mismatch(got, want)


def test_testutils_helpers(rig):
    rng = np.random.default_rng(66)
    A, B, D = rand_i8(rng, 16, 16), rand_i8(rng, 16, 16), rand_i8(rng, 16, 16)
    F = rng.integers(-(1 << 40), 1 << 40, (16, 16), dtype=np.int64)
    F[0, :4] = [24, 40, -24, -40]  # shift 4: 1.5, 2.5, -1.5, -2.5 -> ties to even
    out = rig.run(helpers_case(A, B, D, F, 4), "testutils").out
    full = np.frombuffer(out[: 7 * 2048], np.int64).reshape(7, 16, 16)
    small = np.frombuffer(out[7 * 2048 :], np.int8).reshape(6, 16, 16)
    a, b, d = A.astype(np.int64), B.astype(np.int64), D.astype(np.int64)
    want_full = [d + a.T @ b, d + a @ b.T, d + a.T @ b.T, F + a.T @ b, F + a.T @ b.T, F + a @ b.T,
                 2 * F]  # fmt: skip
    for i, want in enumerate(want_full):
        assert np.array_equal(full[i], want), f"full result {i}: {first_mismatch(full[i], want)}"
    q, r = np.divmod(F, 16)  # floor division, as an arithmetic shift
    shifted = q + ((r > 8) | ((r == 8) & (q % 2 == 1)))
    assert list(shifted[0, :4]) == [2, 2, -2, -2]
    wrap = [d + a @ b, d + a.T @ b, d + a @ b.T, d + a.T @ b.T]  # elem_t sums wrap modulo 256
    want_small = [np.clip(shifted, -128, 127), *[(m & 0xFF).astype(np.uint8).view(np.int8)
                  for m in wrap], np.clip(A, 0, 18)]  # fmt: skip
    for i, want in enumerate(want_small):
        want = np.asarray(want).astype(np.int8)
        assert np.array_equal(small[i], want), f"int8 result {i}: {first_mismatch(small[i], want)}"
