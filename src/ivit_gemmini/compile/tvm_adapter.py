"""Every call into TVM goes through this module (pinned apache-tvm 0.27.0.post1).

TVM's Python API moves fast (Relay is gone, TIR became `tvm.tirx`, `StructInfo` became
`TensorType`); keeping the calls here means a TVM upgrade touches one small file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import tvm
from tvm import relax, tirx

from ivit_gemmini.errors import UserError

PINNED_TVM = "0.27.0.post1"
# Emitted C calls no TVM runtime symbol once asserts are gone (checked by the archive tests).
_C_PASS_CONFIG = {"tirx.disable_assert": True}


def tvm_version() -> str:
    return str(tvm.__version__)


def check_version() -> None:
    """Refuse to run with another TVM: its IR and C output are not what this code was tested on."""
    if tvm_version() != PINNED_TVM:
        raise UserError(
            f"TVM {tvm_version()} is installed but ivit-gemmini needs apache-tvm=={PINNED_TVM}; "
            "run `make setup`"
        )


def tensor_type(shape: tuple[int, ...], dtype: str) -> relax.TensorType:
    return relax.TensorType(list(shape), dtype)


def to_tvm_tensor(array: np.ndarray) -> tvm.runtime.Tensor:
    return tvm.runtime.tensor(np.ascontiguousarray(array))


def bind_params(mod: tvm.IRModule, arrays: Mapping[str, np.ndarray]) -> tvm.IRModule:
    """Turn the named parameters of `main` into constants (all but the ones not given)."""
    bound = {name: to_tvm_tensor(a) for name, a in arrays.items()}
    return relax.transform.BindParams("main", bound)(mod)


def legalize_and_fuse(mod: tvm.IRModule) -> tvm.IRModule:
    """Relax ops -> TIR, then fuse elementwise chains into their producers (TVM's own passes)."""
    seq = tvm.transform.Sequential(
        [
            relax.transform.LegalizeOps(),
            relax.transform.FoldConstant(),
            relax.transform.AnnotateTIROpPattern(),
            relax.transform.FuseOps(),
            relax.transform.FuseTIR(),
            relax.transform.DeadCodeElimination(),
        ],
        name="ivit_legalize_and_fuse",
    )
    with tvm.transform.PassContext(opt_level=3):
        return seq(mod)


def fold_constants(mod: tvm.IRModule) -> tvm.IRModule:
    with tvm.transform.PassContext(opt_level=3):
        return relax.transform.FoldConstant()(mod)


def primfuncs(mod: tvm.IRModule) -> dict[str, tirx.PrimFunc]:
    return {gv.name_hint: f for gv, f in mod.functions.items() if isinstance(f, tirx.PrimFunc)}


def relax_main(mod: tvm.IRModule) -> relax.Function:
    return mod["main"]


def primfuncs_to_c(funcs: Mapping[str, tirx.PrimFunc]) -> str:
    """Plain C for a set of PrimFuncs, one file; each becomes `__tvm_ffi_<name>` (packed ABI)."""
    named = {name: f.with_attr("global_symbol", name) for name, f in funcs.items()}
    with tvm.transform.PassContext(opt_level=3, config=_C_PASS_CONFIG):
        lib = tvm.compile(tvm.IRModule(named), target="c")
    return str(lib.mod.inspect_source())


def packed_symbol(name: str) -> str:
    """The C symbol TVM 0.27 gives a PrimFunc compiled with the packed (tvm-ffi) ABI."""
    return f"__tvm_ffi_{name}"


def compile_llvm(mod: tvm.IRModule) -> tvm.runtime.Executable:
    with tvm.transform.PassContext(opt_level=3):
        return tvm.compile(mod, target="llvm")


def export_library(exe: tvm.runtime.Executable, path: Path) -> None:
    exe.export_library(str(path))


def load_vm(path_or_exe: Path | tvm.runtime.Executable) -> relax.VirtualMachine:
    exe = path_or_exe
    if isinstance(path_or_exe, Path):
        exe = tvm.runtime.load_module(str(path_or_exe))
    return relax.VirtualMachine(exe, tvm.cpu())


def run_vm(vm: relax.VirtualMachine, *inputs: np.ndarray) -> np.ndarray:
    out = vm["main"](*[to_tvm_tensor(x) for x in inputs])
    return np.asarray(out.numpy())


def to_script(mod: tvm.IRModule) -> str:
    return str(mod.script(show_meta=False))


def from_script(text: str) -> tvm.IRModule:
    return tvm.script.from_source(text)


def assert_structural_equal(a: object, b: object) -> None:
    tvm.ir.assert_structural_equal(a, b)


def c_headers() -> dict[str, Path]:
    """The TVM/DLPack headers the emitted C includes: {path under include/: file on disk}."""
    import tvm_ffi  # noqa: PLC0415 - the headers ship inside these wheels

    tvm_inc = Path(tvm.__file__).parent / "include"
    ffi_inc = Path(tvm_ffi.__file__).parent / "include"
    wanted = {
        "tvm/ffi/c_api.h": ffi_inc,
        "tvm/ffi/extra/c_env_api.h": ffi_inc,
        "dlpack/dlpack.h": ffi_inc,
        "tvm/runtime/base.h": tvm_inc,
        "tvm/runtime/c_backend_api.h": tvm_inc,
    }
    found = {rel: root / rel for rel, root in wanted.items()}
    missing = [str(p) for p in found.values() if not p.is_file()]
    if missing:
        raise UserError(f"TVM headers missing ({', '.join(missing)}); reinstall apache-tvm")
    return found


_INCLUDE = re.compile(r'^#include "([^"]+)"', re.MULTILINE)


def included_headers(c_source: str) -> list[str]:
    return _INCLUDE.findall(c_source)


def var_name(var: relax.Var) -> str:
    """A Relax variable's name (0.27 renamed `name_hint` to `name`)."""
    return str(var.name)


def tensor_info(expr: relax.Expr) -> tuple[tuple[int, ...], str]:
    """(static shape, dtype) of a Relax tensor expression."""
    ty = expr.ty
    return tuple(int(v) for v in ty.shape.values), str(ty.dtype)


def is_constant(expr: relax.Expr) -> bool:
    return isinstance(expr, tvm.ir.expr.GenericConst)


def constant_array(expr: relax.Expr) -> np.ndarray:
    return np.asarray(expr.value.numpy())


def op_name(call: relax.Call) -> str:
    op = call.op
    return str(op.name) if isinstance(op, tvm.ir.Op) else ""


def call_tir_parts(call: relax.Call) -> tuple[str, list[relax.Expr]] | None:
    """(PrimFunc name, argument list) of an `R.call_tir`, None for anything else."""
    if op_name(call) != "relax.call_tir":
        return None
    return str(call.args[0].name_hint), list(call.args[1].fields)


def parse_primfunc(text: str) -> tirx.PrimFunc:
    """A PrimFunc from TVMScript text that uses `T` for `tvm.script.tirx`."""
    from tvm.script import tirx as T  # noqa: N812, PLC0415 - the name the script refers to

    return tvm.script.from_source(text, extra_vars={"T": T})


def module_from_te(
    fn: object, inputs: list[tuple[tuple[int, ...], str]], name: str
) -> tvm.IRModule:
    """`main(*inputs)` = one `emit_te(fn, *inputs)`: a unit-test harness for one operator."""
    bb = relax.BlockBuilder()
    params = [relax.Var(f"x{i}", tensor_type(s, d)) for i, (s, d) in enumerate(inputs)]
    with bb.function("main", params):
        with bb.dataflow():
            out = bb.emit_output(bb.emit_te(fn, *params, primfunc_name_hint=name))
        bb.emit_func_output(out)
    return bb.get()


def run_module(mod: tvm.IRModule, *inputs: np.ndarray) -> np.ndarray:
    """Compile for llvm and run once (tests and one-off checks)."""
    return run_vm(load_vm(compile_llvm(mod)), *inputs)
