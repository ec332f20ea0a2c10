"""SplitWideMatmul: an int16 x int8 matmul as two int8 x int8 matmuls (exact).

For any int16 `p`: hi = p >> 8 and lo = (p & 255) - 128 are int8 and p = 256 hi + lo + 128, so
p @ v = 256 (hi @ v) + lo @ v + 128 colsum(v) (docs/integer-program.md, *Gemmini*). Both new
matmuls are int8 x int8 -> int32 and are offloaded by `OffloadMatmul`; the split and the
recombination are elementwise work on the core.
"""

from __future__ import annotations

import tvm
from tvm import relax, te, tirx

from ivit_gemmini.compile import tvm_adapter


def _split(p: te.Tensor) -> te.Tensor:
    """(2, ..) int8: [0] = p >> 8, [1] = (p & 255) - 128 (one pass over p)."""

    def body(half: tirx.Expr, *i: tirx.Expr) -> tirx.Expr:
        # Branch-free in the element: shift 8 or 0, mask all-ones or 255, offset 0 or 128 are
        # functions of the outer loop variable only (the C compiler hoists them).
        v = p[i].astype("int32")
        shift = 8 - 8 * half.astype("int32")
        mask = 256 * half.astype("int32") - 1
        return (((v >> shift) & mask) - 128 * half.astype("int32")).astype("int8")

    return te.compute((2, *p.shape), body, name="split_hi_lo")


def _colsum(v: te.Tensor) -> te.Tensor:
    """Sum over the reduction axis (rows) of v (.., K, N) -> int32 (.., N)."""
    *lead, k, n = (int(s) for s in v.shape)
    r = te.reduce_axis((0, k), "r")
    return te.compute(
        (*lead, n),
        lambda *i: te.sum(v[(*i[:-1], r, i[-1])].astype("int32"), axis=r),
        name="colsum",
    )


def _combine(mm: te.Tensor, colsum: te.Tensor) -> te.Tensor:
    """256 (hi @ v) + lo @ v + 128 colsum(v) from the stacked products mm (2, .., M, N)."""

    def body(*i: tirx.Expr) -> tirx.Expr:
        batch = i[:-2]  # colsum's batch dims are the trailing ones of the product (broadcast)
        col = colsum[(*batch[len(batch) - (len(colsum.shape) - 1) :], i[-1])]
        return mm[(0, *i)] * 256 + mm[(1, *i)] + col * 128

    return te.compute(tuple(mm.shape[1:]), body, name="split_combine")


@relax.expr_functor.mutator
class _Splitter(relax.PyExprMutator):
    def visit_call_(self, call: relax.Call) -> relax.Expr:
        if tvm_adapter.op_name(call) != "relax.matmul" or str(call.attrs.out_dtype) != "int32":
            return super().visit_call_(call)
        p, v = call.args
        (p_shape, p_dtype), (v_shape, v_dtype) = (
            tvm_adapter.tensor_info(p),
            tvm_adapter.tensor_info(v),
        )
        if p_dtype != "int16" or v_dtype != "int8" or len(v_shape) > len(p_shape):
            return super().visit_call_(call)
        bb = self.builder_
        halves = bb.emit_te(_split, p, primfunc_name_hint="split_hi_lo")
        colsum = bb.emit_te(_colsum, v, primfunc_name_hint="colsum")
        # (2, .., M, K) @ (.., K, N): both halves against the same v, broadcast over the 2.
        mm = bb.emit(relax.op.matmul(halves, v, out_dtype="int32"))
        return bb.call_te(_combine, mm, colsum, primfunc_name_hint="split_combine")


@tvm.transform.module_pass(opt_level=0, name="SplitWideMatmul")
class SplitWideMatmul:
    """Rewrite every `matmul(int16, int8) -> int32` into the exact hi/lo form."""

    def transform_module(self, mod: tvm.IRModule, ctx: tvm.transform.PassContext) -> tvm.IRModule:
        splitter = _Splitter(mod)
        for gv, func in mod.functions_items():
            if isinstance(func, relax.Function):
                splitter.builder_.update_func(gv, splitter.visit_expr(func))
        return splitter.builder_.get()
