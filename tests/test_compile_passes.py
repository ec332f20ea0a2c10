"""The Gemmini passes: which matmuls are offloaded, and that the rewritten graph is exact.

The offloaded module is run through TVM's llvm build with the plain-C Gemmini wrapper
(IVIT_GEMMINI_HOST_REF) loaded into the process, and compared with numpy.
"""

from __future__ import annotations

import ctypes
import subprocess
from importlib import resources

import numpy as np
import pytest
import tvm
from compile_helpers import ODD, random_image, random_params
from tvm import relax

from ivit_gemmini.compile import graph, passes, tvm_adapter
from ivit_gemmini.spec.network import forward_int


@pytest.fixture(scope="module", autouse=True)
def host_gemmini(tmp_path_factory) -> None:  # noqa: ANN001
    src = resources.files("ivit_gemmini.compile").joinpath("csrc", "ivit_gemmini_ops.c")
    lib = tmp_path_factory.mktemp("ref") / "libivit_ref.so"
    subprocess.run(
        ["gcc", "-O2", "-shared", "-fPIC", "-DIVIT_GEMMINI_HOST_REF", str(src), "-o", str(lib)],
        check=True,
    )
    ctypes.CDLL(str(lib), mode=ctypes.RTLD_GLOBAL)  # LLVM's JIT resolves the extern from here


def _matmul_module(a: tuple, a_dtype: str, b: tuple) -> object:
    bb = relax.BlockBuilder()
    x = relax.Var("a", tvm_adapter.tensor_type(a, a_dtype))
    y = relax.Var("b", tvm_adapter.tensor_type(b, "int8"))
    with bb.function("main", [x, y]):
        with bb.dataflow():
            out = bb.emit_output(relax.op.matmul(x, y, out_dtype="int32"))
        bb.emit_func_output(out)
    return bb.get()


def _kernel_names(mod) -> list[str]:  # noqa: ANN001
    return sorted(tvm_adapter.primfuncs(mod))


CASES = [  # (a shape, a dtype, b shape): odd sizes, nothing a multiple of 16
    ((17, 9), "int8", (9, 13)),
    ((2, 5, 7), "int8", (7, 3)),
    ((3, 11, 5), "int8", (3, 5, 11)),
    ((3, 11, 11), "int16", (3, 11, 5)),
    ((9, 13), "int16", (13, 7)),
    ((2, 5, 6), "int16", (6, 3)),
    ((2, 3, 5, 4), "int8", (3, 4, 6)),
    ((1, 19), "int8", (19, 1)),
]


@pytest.mark.parametrize(("a_shape", "a_dtype", "b_shape"), CASES)
def test_offloaded_matmul_is_exact(a_shape, a_dtype, b_shape) -> None:  # noqa: ANN001
    mod = passes.partition_for_gemmini(_matmul_module(a_shape, a_dtype, b_shape))
    names = _kernel_names(mod)
    assert any(n.startswith(passes.GEMMINI_PREFIX) for n in names), names
    assert "relax.matmul" not in tvm_adapter.to_script(mod)  # nothing left for the core
    fused = tvm_adapter.legalize_and_fuse(mod)
    for name, func in tvm_adapter.primfuncs(fused).items():
        if name.startswith(passes.GEMMINI_PREFIX):
            assert int(func.attrs["op_pattern"]) == 8  # opaque: FuseOps left it alone
    rng = np.random.default_rng(0)
    info = np.iinfo(np.dtype(a_dtype))
    a = rng.integers(info.min, info.max + 1, a_shape).astype(a_dtype)
    a.reshape(-1)[:3] = [info.min, info.max, -1]  # the split's extremes
    b = rng.integers(-128, 128, b_shape).astype(np.int8)
    got = tvm_adapter.run_module(mod, a, b)
    want = np.matmul(a.astype(np.int64), b.astype(np.int64))
    np.testing.assert_array_equal(got.astype(np.int64), want)


def test_int16_matmul_is_split_into_one_stacked_int8_matmul() -> None:
    mod = passes.SplitWideMatmul()(_matmul_module((3, 11, 11), "int16", (3, 11, 5)))
    text = tvm_adapter.to_script(mod)
    # hi and lo stacked as (2, 3, 11, 11) int8, multiplied by v in one broadcast matmul
    assert text.count("R.matmul") == 1 and 'R.Tensor((2, 3, 11, 11), dtype="int8")' in text
    assert {"split_hi_lo", "colsum", "split_combine"} <= set(_kernel_names(mod))


def test_float_or_wide_rhs_matmuls_stay_on_the_core() -> None:
    mod = passes.partition_for_gemmini(_matmul_module((4, 4), "int32", (4, 4)))
    assert not any(n.startswith(passes.GEMMINI_PREFIX) for n in _kernel_names(mod))


def test_whole_network_with_every_matmul_offloaded_equals_forward_int() -> None:
    params = random_params(ODD, seed=6)
    mod = passes.partition_for_gemmini(graph.bind(graph.build_relax_module(params), params))
    gemmini = [n for n in _kernel_names(mod) if n.startswith(passes.GEMMINI_PREFIX)]
    # patch embedding, qkv, q@k^T, hi@v / lo@v (one kernel), proj, fc1, fc2, head
    assert len(gemmini) == 8, gemmini
    assert "relax.matmul" not in tvm_adapter.to_script(mod)
    vm = tvm_adapter.load_vm(tvm_adapter.compile_llvm(mod))
    for seed in range(2):
        image = random_image(ODD, seed)
        np.testing.assert_array_equal(tvm_adapter.run_vm(vm, image), forward_int(params, image))


def _linear_module(m: int, k: int, bias: np.ndarray) -> tvm.IRModule:
    """main(a (m, k) int8, b (k, n) int8) = a @ b + bias, as the graph writes a linear layer."""
    bb = relax.BlockBuilder()
    x = relax.Var("a", tvm_adapter.tensor_type((m, k), "int8"))
    y = relax.Var("b", tvm_adapter.tensor_type((k, len(bias)), "int8"))
    with bb.function("main", [x, y]):
        with bb.dataflow():
            acc = bb.emit(relax.op.matmul(x, y, out_dtype="int32"))
            out = bb.emit_output(relax.op.add(acc, relax.const(bias)))
        bb.emit_func_output(out)
    return bb.get()


def test_matmul_plus_bias_row_is_one_gemmini_call_with_the_bias() -> None:
    rng = np.random.default_rng(4)
    bias = rng.integers(-(2**20), 2**20, 13).astype(np.int32)
    mod = passes.partition_for_gemmini(_linear_module(17, 9, bias))
    assert _kernel_names(mod) == ["gemmini_matmul_bias_17x13x9"]  # the plain matmul is gone
    a = rng.integers(-128, 128, (17, 9)).astype(np.int8)
    b = rng.integers(-128, 128, (9, 13)).astype(np.int8)
    want = a.astype(np.int64) @ b.astype(np.int64) + bias
    got = tvm_adapter.run_module(mod, a, b)
    np.testing.assert_array_equal(got, want)


def test_a_bias_beyond_fp32_precision_is_offloaded_too() -> None:
    # D is an int32 mvin, unscaled (no accumulator mvin scale): every int32 bias is exact on
    # Gemmini (tests/test_gemmini_isa.py runs such a bias on Spike), so there is one path.
    bias = np.array([2**24 + 1, 5, -(2**30) - 7], dtype=np.int32)
    mod = passes.partition_for_gemmini(_linear_module(4, 2, bias))
    assert _kernel_names(mod) == ["gemmini_matmul_bias_4x3x2"]
    a = np.array([[1, 2], [3, 4], [-5, 6], [7, -8]], dtype=np.int8)
    b = np.array([[1, -1, 2], [0, 3, -4]], dtype=np.int8)
    np.testing.assert_array_equal(tvm_adapter.run_module(mod, a, b),
                                  a.astype(np.int64) @ b.astype(np.int64) + bias)
