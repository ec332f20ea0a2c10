"""OffloadMatmul: every int8 x int8 -> int32 Relax matmul becomes a call of Gemmini.

The matmul is replaced by `call_tir` of a small opaque PrimFunc (`"op_pattern": 8`, so FuseOps
leaves it alone) that calls our C wrapper once per batch entry:

    int32_t ivit_gemmini_matmul(int32_t M, int32_t N, int32_t K, int8_t *A, int8_t *B,
                                int32_t *C, int32_t lda, int32_t ldb, int32_t ldc);

C = A @ B with full int32 outputs (compile/csrc/ivit_gemmini_ops.c runs it with Gemmini's
`tiled_matmul_auto`, weight-stationary, no scaling, no activation). `add(matmul(a, b), bias)`
with a constant int32 bias row (a linear layer) becomes one `ivit_gemmini_matmul_bias` call:
Gemmini moves the row into its accumulator (int32 mvin, unscaled) before the products, which
saves the core a pass over the accumulators. That mvin is exact for every int32: Gemmini's
default configuration has no accumulator mvin scale (`mvin_scale_acc_args = None`, so the
int32 data passes through unchanged; the fp32 mvin scale applies to int8 data only), and our
Spike model does the same. Requantization stays on the core, in the graph's
own TIR. Shapes: (M, K) @ (K, N); (.., M, K) @ (K, N) folded into one
call; batched (B.., M, K) @ (B'.., K, N) with B' a suffix of B (broadcast), one call per batch.
"""

from __future__ import annotations

import functools

import numpy as np
import tvm
from tvm import relax

from ivit_gemmini.compile import tvm_adapter

GEMMINI_PREFIX = "gemmini_"
EXTERN_MATMUL = "ivit_gemmini_matmul"
EXTERN_MATMUL_BIAS = "ivit_gemmini_matmul_bias"

_HEADER = """
@T.prim_func(private=True)
def kernel(A: T.Buffer({a_shape}, "int8"), B: T.Buffer({b_shape}, "int8"),
           C: T.Buffer({c_shape}, "int32")):
    T.func_attr({{"op_pattern": 8, "tirx.noalias": True}})
"""
_CALL = """T.evaluate(T.call_extern("int32", "{extern}", {m}, {n}, {k},
    T.address_of(A[{a_idx}]), T.address_of(B[{b_idx}]), T.address_of(C[{c_idx}]),
    {k}, {n}, {n}))"""


@functools.cache
def matmul_kernel(
    a_shape: tuple[int, ...], b_shape: tuple[int, ...]
) -> tuple[str, tvm.tirx.PrimFunc] | None:
    """(name, PrimFunc) of the Gemmini calls for these operand shapes; None if not supported.

    (.., M, K) @ (K, N) is one call with the leading dims folded into M; batched operands
    (B.., M, K) @ (B'.., K, N), where B' is a suffix of B (numpy broadcasting), loop over B.
    """
    if len(a_shape) < 2 or len(b_shape) < 2 or a_shape[-1] != b_shape[-2]:
        return None
    k, n = a_shape[-1], b_shape[-1]
    c_shape = (*a_shape[:-1], n)
    if len(b_shape) == 2:
        loops: tuple[int, ...] = ()
        m = int(np.prod(a_shape[:-1]))
    else:
        loops, b_batch = a_shape[:-2], b_shape[:-2]
        if len(b_batch) > len(loops) or tuple(loops[len(loops) - len(b_batch) :]) != b_batch:
            return None
        m = a_shape[-2]
    names = [f"i{d}" for d in range(len(loops))]
    b_vars = names[len(names) - (len(b_shape) - 2) :] if len(b_shape) > 2 else []

    def idx(ndim: int, batch_vars: list[str]) -> str:
        return ", ".join(batch_vars + ["0"] * (ndim - len(batch_vars)))

    a_vars = names if len(b_shape) > 2 else []
    call = _CALL.format(
        extern=EXTERN_MATMUL,
        m=m,
        n=n,
        k=k,
        a_idx=idx(len(a_shape), a_vars),
        b_idx=idx(len(b_shape), b_vars),
        c_idx=idx(len(c_shape), a_vars),
    )
    body = ""
    for depth, (var, extent) in enumerate(zip(names, loops, strict=True)):
        body += "    " * (depth + 1) + f"for {var} in range({extent}):\n"
    indent = "    " * (len(loops) + 1)
    body += "\n".join(indent + line for line in call.splitlines()) + "\n"
    text = _HEADER.format(a_shape=a_shape, b_shape=b_shape, c_shape=c_shape) + body
    batch = "x".join(map(str, loops))
    name = f"{GEMMINI_PREFIX}matmul_{'b' + batch + '_' if loops else ''}{m}x{n}x{k}"
    return name, tvm_adapter.parse_primfunc(text)


_BIAS_KERNEL = """
@T.prim_func(private=True)
def kernel(A: T.Buffer(({m}, {k}), "int8"), B: T.Buffer(({k}, {n}), "int8"),
           D: T.Buffer(({n},), "int32"), C: T.Buffer(({m}, {n}), "int32")):
    T.func_attr({{"op_pattern": 8, "tirx.noalias": True}})
    T.evaluate(T.call_extern("int32", "{extern}", {m}, {n}, {k}, T.address_of(A[0, 0]),
        T.address_of(B[0, 0]), T.address_of(D[0]), T.address_of(C[0, 0]), {k}, {n}, {n}))
"""


@functools.cache
def matmul_bias_kernel(m: int, n: int, k: int) -> tuple[str, tvm.tirx.PrimFunc]:
    """(name, PrimFunc) of one Gemmini call C = A @ B + D for (M, K) @ (K, N) + (N,): the bias
    row enters the accumulator before the products (no pass over C on the core)."""
    text = _BIAS_KERNEL.format(m=m, n=n, k=k, extern=EXTERN_MATMUL_BIAS)
    return f"{GEMMINI_PREFIX}matmul_bias_{m}x{n}x{k}", tvm_adapter.parse_primfunc(text)


@relax.expr_functor.mutator
class _Offloader(relax.PyExprMutator):
    def __init__(self, mod: tvm.IRModule):
        super().__init__(mod)
        self.kernels: dict[str, tvm.ir.GlobalVar] = {}
        self.bound: dict[relax.Var, relax.Expr] = {}  # bindings of the function as given

    def remember(self, func: relax.Function) -> None:
        for block in func.body.blocks:
            for binding in block.bindings:
                self.bound[binding.var] = binding.value

    def _add_bias(self, call: relax.Call) -> relax.Expr | None:
        """add(matmul(a, b) int8 -> int32, constant int32 (N,) row) as one Gemmini call."""
        acc, bias = call.args
        mm = self.bound.get(acc)
        if not isinstance(mm, relax.Call) or not tvm_adapter.is_constant(bias):
            return None
        if tvm_adapter.op_name(mm) != "relax.matmul" or str(mm.attrs.out_dtype) != "int32":
            return None
        a, b = mm.args
        (a_shape, a_dtype), (b_shape, b_dtype) = (
            tvm_adapter.tensor_info(a),
            tvm_adapter.tensor_info(b),
        )
        bias_shape, bias_dtype = tvm_adapter.tensor_info(bias)
        if a_dtype != "int8" or b_dtype != "int8" or len(a_shape) != 2 or len(b_shape) != 2:
            return None
        if bias_dtype != "int32" or bias_shape != (b_shape[1],):
            return None
        name, func = matmul_bias_kernel(a_shape[0], b_shape[1], a_shape[1])
        if name not in self.kernels:
            self.kernels[name] = self.builder_.add_func(func, name)
        out = tvm_adapter.tensor_type((a_shape[0], b_shape[1]), "int32")
        args = [self.visit_expr(a), self.visit_expr(b), bias]
        return relax.call_tir(self.kernels[name], args, out)

    def visit_call_(self, call: relax.Call) -> relax.Expr:
        if tvm_adapter.op_name(call) == "relax.add":
            fused = self._add_bias(call)
            if fused is not None:
                return fused
        if tvm_adapter.op_name(call) != "relax.matmul" or str(call.attrs.out_dtype) != "int32":
            return super().visit_call_(call)
        a, b = call.args
        (a_shape, a_dtype), (b_shape, b_dtype) = (
            tvm_adapter.tensor_info(a),
            tvm_adapter.tensor_info(b),
        )
        found = matmul_kernel(a_shape, b_shape) if a_dtype == b_dtype == "int8" else None
        if found is None:
            return super().visit_call_(call)
        name, func = found
        if name not in self.kernels:
            self.kernels[name] = self.builder_.add_func(func, name)
        out_shape = (*a_shape[:-1], b_shape[-1])
        return relax.call_tir(
            self.kernels[name], [a, b], tvm_adapter.tensor_type(out_shape, "int32")
        )


@tvm.transform.module_pass(opt_level=0, name="OffloadMatmul")
class OffloadMatmul:
    """Replace int8 x int8 -> int32 matmuls by calls of the Gemmini wrapper."""

    def transform_module(self, mod: tvm.IRModule, ctx: tvm.transform.PassContext) -> tvm.IRModule:
        offloader = _Offloader(mod)
        for gv, func in mod.functions_items():
            if isinstance(func, relax.Function):
                offloader.remember(func)
                offloader.builder_.update_func(gv, offloader.visit_expr(func))
        return offloader.builder_.get()
