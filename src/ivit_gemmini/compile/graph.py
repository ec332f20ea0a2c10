"""The integer program of docs/integer-program.md written directly as a TVM Relax module.

`build_relax_module(params)` returns an IRModule whose `main(image, *arrays)` takes the int8
image and the params' multi-element integer arrays (weights, biases, per-channel dyadic pairs,
position embedding) as parameters; per-tensor scalars (shape-(1,) arrays: per-tensor (m, e)
pairs, x0 constants) become literals in the TIR. Matmuls are Relax `matmul` ops (int8 x int8
-> int32, and int16 x int8 for attention x V) so that the Gemmini passes can find them; every
other operator is a TIR PrimFunc from `int_ops` (`call_tir`). Linear weights enter transposed,
as `<name>_weight_t` (in, out), the layout of Gemmini's B operand.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import tvm
from tvm import relax

from ivit_gemmini.compile import int_ops, tvm_adapter
from ivit_gemmini.compile.common_shift import linear_common_shift
from ivit_gemmini.io import atomic_write_text
from ivit_gemmini.model.params import IntegerParams
from ivit_gemmini.spec.fold import FoldedRequant, fold_layernorm_requant, layernorm_requants

Operand = int | relax.Var


def param_var_name(array_name: str) -> str:
    """A TVMScript-safe parameter name for a params array (`blocks.0.qkv.weight` ->
    `blocks_0_qkv_weight`)."""
    return re.sub(r"\W", "_", array_name)


def is_literal(array: np.ndarray) -> bool:
    """Shape-(1,) arrays (per-tensor pairs, x0) are compiled in as literals."""
    return array.shape == (1,)


class _GraphBuilder:
    """Builds `main` section by section; parameters are created on first use."""

    def __init__(self, params: IntegerParams):
        self.params = params
        self.bb = relax.BlockBuilder()
        self.vars: dict[str, relax.Var] = {}
        self.folds: dict[str, FoldedRequant] = {}

    # -- parameters and operands ---------------------------------------------------------------
    def array(self, name: str) -> relax.Var:
        if name not in self.vars:
            a = self.params[name]
            ty = tvm_adapter.tensor_type(tuple(a.shape), a.dtype.name)
            self.vars[name] = relax.Var(param_var_name(name), ty)
        return self.vars[name]

    def array_t(self, name: str) -> relax.Var:
        """A 2-D array transposed, as parameter `<name>_t`: linear weights (out, in) become
        Gemmini's B operand (in, out); `graph_arrays` supplies `array.T` for it."""
        key = f"{name}.T"
        if key not in self.vars:
            out, inp = self.params[name].shape
            ty = tvm_adapter.tensor_type((inp, out), self.params[name].dtype.name)
            self.vars[key] = relax.Var(param_var_name(name) + "_t", ty)
        return self.vars[key]

    def table(self, prefix: str) -> relax.Var:
        """The exponential table of a Shiftmax/ShiftGELU, a parameter `<prefix>_exp_lut` that
        `graph_arrays` fills from `<prefix>.x0` (derived, exact: same integers as E_n)."""
        key = f"{prefix}.exp_lut"
        if key not in self.vars:
            size = len(derived_table(self.params, prefix))
            ty = tvm_adapter.tensor_type((size,), "int32")
            self.vars[key] = relax.Var(param_var_name(key), ty)
        return self.vars[key]

    def operand(self, name: str) -> Operand:
        a = self.params[name]
        return int(a[0]) if is_literal(a) else self.array(name)

    def rq(self, prefix: str) -> tuple[Operand, Operand]:
        return self.operand(f"{prefix}.m"), self.operand(f"{prefix}.e")

    def linear_rq_pair(self, name: str) -> tuple[tuple[Operand, Operand], bool]:
        """((m, e), positive) of `<name>.rq` after linear layer `name`: one literal shift with
        an int64 multiplier parameter `<name>.rq.m_shifted` where that is exact
        (`common_shift`), else the per-channel pair as it is."""
        found = linear_common_shift(self.params, name)
        if found is None:
            return self.rq(f"{name}.rq"), self.positive(f"{name}.rq")
        key = f"{name}.rq.m_shifted"
        if key not in self.vars:
            ty = tvm_adapter.tensor_type((found[0].size,), "int64")
            self.vars[key] = relax.Var(param_var_name(key), ty)
        return (self.vars[key], found[1]), True

    def scalar(self, name: str) -> int:
        return int(self.params[name][0])

    # -- emitters --------------------------------------------------------------------------------
    def te(self, fn: Callable[..., object], *args: object, name: str) -> relax.Var:
        return self.bb.emit_te(fn, *args, primfunc_name_hint=name)

    def positive(self, prefix: str) -> bool:
        """All shifts of the pair are >= 1: the requantization needs no e = 0 case."""
        return bool(np.all(self.params[f"{prefix}.e"] >= 1))

    def requant(
        self,
        z: relax.Var,
        prefix: str,
        bits: int | None,
        dtype: str,
        bias: str | None = None,
        linear: str | None = None,
    ) -> relax.Var:
        """requant_b(z [+ bias array], prefix.rq) as one TIR kernel; `linear` names the linear
        layer z comes from when prefix is its `.rq` (see `linear_rq_pair`)."""
        if linear is not None:
            (m, e), positive = self.linear_rq_pair(linear)
        else:
            (m, e), positive = self.rq(prefix), self.positive(prefix)
        tensors = [t for t in (m, e) if not isinstance(t, int)]
        extra = [self.array(bias)] if bias else []

        def fn(zt: object, *rest: object) -> object:
            it = iter(rest)
            bt = next(it) if bias else None
            mm = m if isinstance(m, int) else next(it)
            ee = e if isinstance(e, int) else next(it)
            return int_ops.requant(zt, mm, ee, bits, dtype, bias=bt, positive=positive)

        kind = "tensor" if not tensors else "channel"
        return self.te(fn, z, *extra, *tensors, name=f"requant{bits or ''}_{kind}")

    def matmul(self, a: relax.Var, name: str) -> relax.Var:
        """int8 (.., in) x weight^T -> int32 (.., out), without the bias."""
        return self.bb.emit(relax.op.matmul(a, self.array_t(f"{name}.weight"), out_dtype="int32"))

    def linear(self, a: relax.Var, name: str) -> relax.Var:
        """matmul + bias (int32, exact: the params stage bounds it); OffloadMatmul gives the
        bias row to Gemmini, which adds it in its accumulator."""
        return self.bb.emit(relax.op.add(self.matmul(a, name), self.array(f"{name}.bias")))

    def linear_rq(self, a: relax.Var, name: str, bits: int, dtype: str) -> relax.Var:
        """requant_b(linear(a, name), name.rq)."""
        return self.requant(self.linear(a, name), f"{name}.rq", bits, dtype, linear=name)

    # -- sections of the specification -----------------------------------------------------------
    def embed(self, image: relax.Var) -> relax.Var:
        arch = self.params.arch
        patches = self.te(int_ops.patch_tokens, image, arch.patch_size, name="patch_tokens")
        x = self.linear_rq(patches, "patch", 16, "int16")
        rq_x = (self.scalar("embed.rq_x.m"), self.scalar("embed.rq_x.e"))
        rq_pos = (self.scalar("embed.rq_pos.m"), self.scalar("embed.rq_pos.e"))
        return self.te(
            lambda xt, cls, pos: int_ops.assemble_tokens(xt, cls, pos, rq_x, rq_pos),
            x,
            self.array("embed.cls"),
            self.array("embed.pos"),
            name="assemble_tokens",
        )

    def layernorm_rq(self, x: relax.Var, name: str, prefix: str) -> relax.Var:
        """requant_8(LN(x, name.bias), prefix) as one kernel, from the int64 fold of the pair
        (`graph_arrays` supplies `<name>.fold.{q,m,r,e}` from spec/fold.py)."""
        folded = []
        for part, dtype in zip(FOLD_PARTS, ("int64", "int32", "int64", "int32"), strict=True):
            key = f"{name}.fold.{part}"
            if key not in self.vars:
                ty = tvm_adapter.tensor_type((self.params.arch.dim,), dtype)
                self.vars[key] = relax.Var(param_var_name(key), ty)
            folded.append(self.vars[key])
        positive = bool(np.all(self.fold(name, prefix).e >= 1))

        def fn(xt: object, *parts: object) -> object:
            return int_ops.layernorm_requant8(xt, tuple(parts), positive)

        return self.te(fn, x, *folded, name="layernorm_requant8")

    def fold(self, name: str, prefix: str) -> FoldedRequant:
        if name not in self.folds:
            self.folds[name] = folded_layernorm(self.params, name, prefix)
        return self.folds[name]

    def attention(self, a: relax.Var, p: str, queries: int | None = None) -> relax.Var:
        """The attention branch; with `queries` = 1 only the class token's row is computed
        (every token still provides keys and values)."""
        arch, bb = self.params.arch, self.bb
        heads = arch.num_heads
        qkv = self.linear_rq(a, f"{p}.qkv", 8, "int8")
        q = self.te(lambda t: int_ops.split_heads(t, 0, heads, False, queries), qkv, name="heads_q")
        kt = self.te(lambda t: int_ops.split_heads(t, 1, heads, True), qkv, name="heads_kt")
        v = self.te(lambda t: int_ops.split_heads(t, 2, heads, False), qkv, name="heads_v")
        scores = bb.emit(relax.op.matmul(q, kt, out_dtype="int32"))
        s8 = self.requant(scores, f"{p}.scores.rq", 8, "int8")
        x0, bits = self.scalar(f"{p}.softmax.x0"), self.params.softmax_bits
        probs = self.te(
            lambda t, tab: int_ops.shiftmax(t, x0, bits, tab),
            s8,
            self.table(f"{p}.softmax"),
            name="shiftmax",
        )
        ctx = bb.emit(relax.op.matmul(probs, v, out_dtype="int32"))
        m, e = self.scalar(f"{p}.context.rq.m"), self.scalar(f"{p}.context.rq.e")
        return self.te(lambda t: int_ops.merge_heads_requant(t, m, e, 8), ctx, name="merge_heads")

    def mlp(self, h: relax.Var, p: str) -> relax.Var:
        h = self.linear_rq(h, f"{p}.fc1", 8, "int8")

        key = f"{p}.gelu.table"  # ShiftGELU and its requant_8: one load per element
        if key not in self.vars:
            ty = tvm_adapter.tensor_type((256, 256), "int8")
            self.vars[key] = relax.Var(param_var_name(key), ty)
        return self.te(int_ops.shiftgelu_by_table, h, self.vars[key], name="shiftgelu")

    def residual(self, c: relax.Var, name: str, skip: relax.Var, prefix: str) -> relax.Var:
        """x' = clamp_16(requant(requant_16(linear(c, name)), branch) + requant(skip)): the
        branch's last linear layer, its int16 requantization and the residual add."""
        rq, positive = self.linear_rq_pair(name)
        rb = (self.scalar(f"{prefix}.rq_branch.m"), self.scalar(f"{prefix}.rq_branch.e"))
        rs = (self.scalar(f"{prefix}.rq_skip.m"), self.scalar(f"{prefix}.rq_skip.e"))
        tensors = [t for t in rq if not isinstance(t, int)]

        def fn(acc: object, s: object, *rest: object) -> object:
            it = iter(rest)
            pair = tuple(v if isinstance(v, int) else next(it) for v in rq)
            return int_ops.project_residual(acc, None, pair, positive, rb, s, rs)

        return self.te(fn, self.linear(c, name), skip, *tensors, name="project_residual")

    def class_token(self, x: relax.Var) -> relax.Var:
        return self.te(lambda t: int_ops.take_rows(t, 0, 1), x, name="class_token")

    def block(self, x: relax.Var, i: int, last: bool = False) -> relax.Var:
        """One block. The `last` block computes only the class token's output: the head reads
        nothing else, and attention, LayerNorm and MLP are per query token (same integers)."""
        p = f"blocks.{i}"
        a = self.layernorm_rq(x, f"{p}.norm1", f"{p}.attn_in.rq")
        skip = self.class_token(x) if last else x
        attn = self.attention(a, p, queries=1 if last else None)
        x2 = self.residual(attn, f"{p}.proj", skip, f"{p}.res1")
        h = self.layernorm_rq(x2, f"{p}.norm2", f"{p}.mlp_in.rq")
        return self.residual(self.mlp(h, p), f"{p}.fc2", x2, f"{p}.res2")

    def head(self, x: relax.Var) -> relax.Var:
        """x: the class token (1, C) after the last block, or all tokens when depth = 0."""
        cls = x if self.params.arch.depth else self.class_token(x)
        c = self.layernorm_rq(cls, "norm", "head_in.rq")
        logits = self.requant(self.matmul(c, "head"), "logits.rq", None, "int64", "head.bias")
        return self.bb.emit(relax.op.reshape(logits, [self.params.arch.num_classes]))

    def build(self) -> tvm.IRModule:
        arch = self.params.arch
        shape = (arch.in_chans, arch.image_size, arch.image_size)
        image = relax.Var("image", tvm_adapter.tensor_type(shape, "int8"))
        with self.bb.function("main"):
            with self.bb.dataflow():
                x = self.embed(image)
                for i in range(arch.depth):
                    x = self.block(x, i, last=i == arch.depth - 1)
                out = self.bb.emit_output(self.head(x))
            self.bb.emit_func_output(out, params=[image, *self.vars.values()])
        return self.bb.get()


def build_relax_module(params: IntegerParams) -> tvm.IRModule:
    """The whole integer program as Relax; weights are parameters of `main` (see `bind`)."""
    return _GraphBuilder(params).build()


FOLD_PARTS = ("q", "m", "r", "e")


def folded_layernorm(params: IntegerParams, name: str, prefix: str) -> FoldedRequant:
    """LayerNorm `name` and its requantization `prefix` in the int64 form of spec/fold.py."""
    return fold_layernorm_requant(params[f"{name}.bias"], params[f"{prefix}.m"],
                                  params[f"{prefix}.e"])


def derived_table(params: IntegerParams, prefix: str) -> np.ndarray:
    """E_n over its input domain for `<prefix>` = blocks.i.softmax (n = 15) or blocks.i.gelu."""
    x0 = int(params[f"{prefix}.x0"][0])
    if prefix.endswith(".softmax"):
        table = int_ops.exp_table(x0, int_ops.SOFTMAX_N, int_ops.SOFTMAX_LUT_HIGH)
    else:
        table = int_ops.exp_table(x0, int_ops.GELU_N, int_ops.GELU_LUT_HIGH)
    return np.array(table, dtype=np.int32)


def graph_arrays(mod: tvm.IRModule, params: IntegerParams) -> dict[str, np.ndarray]:
    """{parameter name of `main`: params array} for every array parameter of the module."""
    by_var = {param_var_name(k): np.asarray(v) for k, v in params.arrays.items()}
    by_var.update(
        {
            f"{param_var_name(k)}_t": np.ascontiguousarray(np.asarray(v).T)
            for k, v in params.arrays.items()
            if np.ndim(v) == 2
        }
    )
    for k in params.arrays:
        if k.endswith(".x0"):  # the exponential tables derived from x0
            prefix = k[: -len(".x0")]
            by_var[param_var_name(f"{prefix}.exp_lut")] = derived_table(params, prefix)
        if k.endswith(".gelu.x0"):  # ShiftGELU + requant_8 over (row max, element)
            block = k[: -len(".gelu.x0")]
            m, e = (int(params[f"{block}.gelu_out.rq.{x}"][0]) for x in ("m", "e"))
            table = int_ops.gelu_table(int(params[k][0]), (m, e))
            by_var[param_var_name(f"{block}.gelu.table")] = np.array(table, dtype=np.int8)
        if k.endswith(".weight") and f"{k[: -len('.weight')]}.rq.m" in params.arrays:
            name = k[: -len(".weight")]
            found = linear_common_shift(params, name)
            if found is not None:  # the int64 multipliers of a one-shift requantization
                by_var[param_var_name(f"{name}.rq.m_shifted")] = found[0]
    for name, prefix in layernorm_requants(params.arch.depth):  # LayerNorm + requant_8
        folded = folded_layernorm(params, name, prefix)
        for part in FOLD_PARTS:
            by_var[param_var_name(f"{name}.fold.{part}")] = getattr(folded, part)
    names = [tvm_adapter.var_name(p) for p in tvm_adapter.relax_main(mod).params[1:]]
    return {n: by_var[n] for n in names}


def bind(mod: tvm.IRModule, params: IntegerParams) -> tvm.IRModule:
    """`main(image)` with every array a constant."""
    return tvm_adapter.bind_params(mod, graph_arrays(mod, params))


def save_graph(mod: tvm.IRModule, path: Path) -> None:
    """Write the module as TVMScript (readable, diffable, and reloadable by `load_graph`)."""
    header = "# The I-ViT integer program (docs/integer-program.md) as a TVM Relax module.\n"
    header += f"# TVM {tvm_adapter.tvm_version()}; arrays are parameters of main (params.npz).\n"
    atomic_write_text(path, header + tvm_adapter.to_script(mod))


def load_graph(path: Path) -> tvm.IRModule:
    return tvm_adapter.from_script(Path(path).read_text())
