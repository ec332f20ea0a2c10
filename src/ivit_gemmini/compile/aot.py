"""Our small AOT emitter: the fused Relax `main` as a C `run` function on static buffers.

`plan_program` walks the bindings of a fused module (every binding a `call_tir` of a PrimFunc,
or an alias) and assigns every intermediate tensor an offset in one arena (`memory_plan`),
every constant an offset in the parameter blob. `emit_model_c` writes `ivit_model_run(input,
logits)`, which calls the TVM-generated kernels in order through their packed (tvm-ffi) entry
points with static DLTensor descriptors, and counts cycles/instructions per step when built with
`-DIVIT_COUNTERS`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

import numpy as np
import tvm

from ivit_gemmini.compile import memory_plan, tvm_adapter
from ivit_gemmini.compile.passes import GEMMINI_PREFIX

KIND_CORE, KIND_GEMMINI = 0, 1
KIND_NAMES = ("core", "gemmini")
_DL_CODES = {"int": "kDLInt", "uint": "kDLUInt"}


@dataclass(frozen=True)
class Buffer:
    """A tensor of the program: in the arena (`offset`) or in the parameter blob."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    where: str  # "arena" | "params"
    offset: int = 0

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * np.dtype(self.dtype).itemsize


@dataclass(frozen=True)
class Step:
    kernel: str
    args: tuple[str, ...]  # buffer names, inputs then the output
    kind: int


@dataclass
class Program:
    steps: list[Step]
    buffers: dict[str, Buffer]
    input: str
    output: str
    arena_size: int
    params_blob: bytes
    kernels: dict[str, tvm.tirx.PrimFunc] = field(default_factory=dict)

    def memory_plan(self) -> dict[str, object]:
        return {
            "arena_bytes": self.arena_size,
            "params_bytes": len(self.params_blob),
            "buffers": [
                {
                    "name": b.name,
                    "where": b.where,
                    "offset": b.offset,
                    "bytes": b.nbytes,
                    "shape": list(b.shape),
                    "dtype": b.dtype,
                }
                for b in self.buffers.values()
            ],
        }


def kind_of(kernel: str) -> int:
    """KIND_GEMMINI for our offload kernels, KIND_CORE for everything TVM generated."""
    return KIND_GEMMINI if kernel.startswith(GEMMINI_PREFIX) else KIND_CORE


class _Walker:
    def __init__(self) -> None:
        self.shapes: dict[str, tuple[tuple[int, ...], str]] = {}
        self.names: dict[object, str] = {}  # Relax Var (by identity) -> unique buffer name
        self.consts: dict[str, np.ndarray] = {}
        self.const_by_digest: dict[str, str] = {}
        self.steps: list[Step] = []

    def name_of(self, expr: object) -> str:
        if tvm_adapter.is_constant(expr):
            a = tvm_adapter.constant_array(expr)
            digest = hashlib.sha256(
                f"{a.dtype}{a.shape}".encode() + np.ascontiguousarray(a).tobytes()
            ).hexdigest()
            if digest not in self.const_by_digest:
                name = f"param{len(self.consts)}"
                self.const_by_digest[digest] = name
                self.consts[name] = a
                self.shapes[name] = (tuple(a.shape), a.dtype.name)
            return self.const_by_digest[digest]
        if expr not in self.names:
            raise ValueError(f"variable {tvm_adapter.var_name(expr)} is used before its binding")
        return self.names[expr]

    def define(self, var: object) -> str:
        """A unique name for a new Relax Var (printed names may repeat: `lv`, `lv`...)."""
        base, taken = tvm_adapter.var_name(var), set(self.names.values())
        name, n = base, 0
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        self.names[var] = name
        return name


def plan_program(mod: tvm.IRModule) -> Program:
    """The static program of a fused module whose `main` takes exactly one tensor (the image)."""
    main = tvm_adapter.relax_main(mod)
    if len(main.params) != 1:
        raise ValueError("bind every array before planning: main must take only the image")
    w = _Walker()
    input_name = w.define(main.params[0])
    w.shapes[input_name] = tvm_adapter.tensor_info(main.params[0])
    for block in main.body.blocks:
        for binding in block.bindings:
            var, value = binding.var, binding.value
            if isinstance(value, tvm.relax.Var):
                w.names[var] = w.name_of(value)  # an alias shares its source's buffer
                continue
            parts = tvm_adapter.call_tir_parts(value) if isinstance(value, tvm.relax.Call) else None
            if parts is None:
                raise ValueError(
                    f"cannot emit binding {tvm_adapter.var_name(var)}: only call_tir is supported"
                )
            kernel, args = parts
            arg_names = [w.name_of(a) for a in args]
            out = w.define(var)
            w.shapes[out] = tvm_adapter.tensor_info(var)
            w.steps.append(Step(kernel, (*arg_names, out), kind_of(kernel)))
    output = w.name_of(main.body.body)
    return _layout(w, input_name, output, mod)


def _layout(w: _Walker, input_name: str, output: str, mod: tvm.IRModule) -> Program:
    first: dict[str, int] = {input_name: -1}
    last: dict[str, int] = {input_name: -1}
    for i, step in enumerate(w.steps):
        for name in step.args:
            if name in w.consts:
                continue
            first.setdefault(name, i)
            last[name] = i
    last[output] = len(w.steps)
    intervals = [memory_plan.Interval(n, _nbytes(*w.shapes[n]), first[n], last[n]) for n in first]
    offsets, arena = memory_plan.plan(intervals)
    buffers = {n: Buffer(n, *w.shapes[n], "arena", offsets[n]) for n in first}
    blob = bytearray()
    for name, a in w.consts.items():
        blob.extend(b"\0" * (memory_plan.align(len(blob)) - len(blob)))
        buffers[name] = Buffer(name, tuple(a.shape), a.dtype.name, "params", len(blob))
        blob.extend(np.ascontiguousarray(a).tobytes())
    used = {s.kernel for s in w.steps}
    kernels = {k: f for k, f in tvm_adapter.primfuncs(mod).items() if k in used}
    return Program(w.steps, buffers, input_name, output, arena, bytes(blob), kernels)


def _nbytes(shape: tuple[int, ...], dtype: str) -> int:
    return int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize


_WS_DEF = re.compile(r"^TVM_DLL int32_t (\w+)\(.*\) \{$")
_WS_ALLOC = re.compile(r"TVMBackendAllocWorkspace\([^,]+,[^,]+, \(uint64_t\)(\d+)ULL")


def workspace_bytes(kernel_c: str) -> int:
    """Upper bound of the workspace one kernel allocates at once (max over kernels of the sum)."""
    worst, current = 0, 0
    for line in kernel_c.splitlines():
        if _WS_DEF.match(line):
            current = 0
        for size in _WS_ALLOC.findall(line):
            current += memory_plan.align(int(size))
            worst = max(worst, current)
    if "TVMBackendAllocWorkspace(" in kernel_c and worst == 0:
        raise ValueError("kernel C allocates workspace of a size this emitter cannot read")
    return worst


def _dtype_init(dtype: str) -> str:
    kind = re.match(r"[a-z]+", dtype).group(0)
    bits = int(dtype[len(kind) :])
    return f"{{{_DL_CODES[kind]}, {bits}, 1}}"


def _data_expr(b: Buffer) -> str:
    base = "ivit_arena" if b.where == "arena" else "ivit_params"
    return f"(void *)({base} + {b.offset})"


def emit_model_h(p: Program) -> str:
    inp, out = p.buffers[p.input], p.buffers[p.output]
    return f"""/* Generated by ivit_gemmini.compile.aot: the model library's interface. */
#ifndef IVIT_MODEL_H_
#define IVIT_MODEL_H_

#include <stdint.h>

#define IVIT_MODEL_INPUT_BYTES {inp.nbytes}
#define IVIT_MODEL_NUM_CLASSES {int(np.prod(out.shape))}
#define IVIT_MODEL_NUM_STEPS {len(p.steps)}
#define IVIT_MODEL_ARENA_BYTES {p.arena_size}
#define IVIT_KIND_CORE {KIND_CORE}
#define IVIT_KIND_GEMMINI {KIND_GEMMINI}

#ifdef __cplusplus
extern "C" {{
#endif

/* Run the network on one int8 image ({"x".join(map(str, inp.shape))}, C order); writes
 * IVIT_MODEL_NUM_CLASSES int64 logits. Returns 0, or -(step + 1) if a kernel failed. */
int ivit_model_run(const int8_t *input, int64_t *logits);

typedef struct {{
  uint64_t cycles;
  uint64_t instret;
}} ivit_counter_t;

/* Filled when built with -DIVIT_COUNTERS (accumulated over runs; see ivit_counters_reset). */
extern ivit_counter_t ivit_step_counters[IVIT_MODEL_NUM_STEPS];
extern ivit_counter_t ivit_kind_counters[2];
extern const char *const ivit_step_names[IVIT_MODEL_NUM_STEPS];
extern const uint8_t ivit_step_kinds[IVIT_MODEL_NUM_STEPS];
void ivit_counters_reset(void);

#ifdef __cplusplus
}}
#endif

#endif /* IVIT_MODEL_H_ */
"""


_RUNTIME_C = """
/* Counters: M-mode CSRs by default (bare metal on Spike); -DIVIT_COUNTERS_USER for rdcycle. */
#if defined(IVIT_COUNTERS) && defined(__riscv)
#ifdef IVIT_COUNTERS_USER
#define IVIT_CSR_CYCLE "cycle"
#define IVIT_CSR_INSTRET "instret"
#else
#define IVIT_CSR_CYCLE "mcycle"
#define IVIT_CSR_INSTRET "minstret"
#endif
static inline uint64_t ivit_read_cycle(void) {
  uint64_t v;
  __asm__ volatile("csrr %0, " IVIT_CSR_CYCLE : "=r"(v));
  return v;
}
static inline uint64_t ivit_read_instret(void) {
  uint64_t v;
  __asm__ volatile("csrr %0, " IVIT_CSR_INSTRET : "=r"(v));
  return v;
}
#elif defined(IVIT_COUNTERS) && defined(__x86_64__)
/* Host profiling: time stamp counter as "cycles", no instruction count. */
static inline uint64_t ivit_read_cycle(void) { return __builtin_ia32_rdtsc(); }
static inline uint64_t ivit_read_instret(void) { return 0; }
#else
static inline uint64_t ivit_read_cycle(void) { return 0; }
static inline uint64_t ivit_read_instret(void) { return 0; }
#endif

ivit_counter_t ivit_step_counters[IVIT_MODEL_NUM_STEPS];
ivit_counter_t ivit_kind_counters[2];

void ivit_counters_reset(void) {
  memset(ivit_step_counters, 0, sizeof(ivit_step_counters));
  memset(ivit_kind_counters, 0, sizeof(ivit_kind_counters));
}

/* TVMBackendAllocWorkspace for the kernels: a LIFO bump allocator on a static arena, reset
 * before every kernel (kernels free in reverse order of allocation). */
static uint8_t ivit_workspace[IVIT_WORKSPACE_BYTES + 64] __attribute__((aligned(64)));
static uint64_t ivit_workspace_top;

void *TVMBackendAllocWorkspace(int device_type, int device_id, uint64_t nbytes, int dtype_code,
                               int dtype_bits) {
  (void)device_type, (void)device_id, (void)dtype_code, (void)dtype_bits;
  uint64_t size = (nbytes + 63) & ~(uint64_t)63;
  if (ivit_workspace_top + size > IVIT_WORKSPACE_BYTES) return NULL;
  void *p = ivit_workspace + ivit_workspace_top;
  ivit_workspace_top += size;
  return p;
}

int TVMBackendFreeWorkspace(int device_type, int device_id, void *ptr) {
  (void)device_type, (void)device_id;
  uint8_t *p = (uint8_t *)ptr;
  if (p >= ivit_workspace && p < ivit_workspace + IVIT_WORKSPACE_BYTES)
    ivit_workspace_top = (uint64_t)(p - ivit_workspace);
  return 0;
}

typedef int32_t (*ivit_kernel_t)(void *, void *, int32_t, void *);

static int ivit_call(int step, ivit_kernel_t fn, int n, DLTensor *tensors) {
  TVMFFIAny args[IVIT_MAX_ARGS];
  for (int i = 0; i < n; ++i) {
    memset(&args[i], 0, sizeof(args[i]));
    args[i].type_index = kTVMFFIDLTensorPtr;
    args[i].v_ptr = &tensors[i];
  }
  ivit_workspace_top = 0;
  uint64_t c0 = ivit_read_cycle(), i0 = ivit_read_instret();
  int32_t rc = fn(NULL, args, n, NULL);
  uint64_t c1 = ivit_read_cycle(), i1 = ivit_read_instret();
  ivit_step_counters[step].cycles += c1 - c0;
  ivit_step_counters[step].instret += i1 - i0;
  ivit_kind_counters[ivit_step_kinds[step]].cycles += c1 - c0;
  ivit_kind_counters[ivit_step_kinds[step]].instret += i1 - i0;
  return rc;
}
"""


def emit_model_c(p: Program, workspace: int) -> str:
    symbols = sorted({s.kernel for s in p.steps})
    max_args = max(len(s.args) for s in p.steps)
    lines = [
        "/* Generated by ivit_gemmini.compile.aot: the network as calls of TVM's kernels. */",
        "#include <stddef.h>",
        "#include <stdint.h>",
        "#include <string.h>",
        "",
        '#include "tvm/ffi/c_api.h"',
        '#include "ivit_model.h"',
        "",
        f"#define IVIT_WORKSPACE_BYTES {max(workspace, 64)}",
        f"#define IVIT_MAX_ARGS {max_args}",
        "",
        "/* The parameter blob (params.bin, linked by params.S with .incbin). */",
        "extern const uint8_t ivit_params[];",
        f"static uint8_t ivit_arena[{max(p.arena_size, 64)}] __attribute__((aligned(64)));",
        "",
    ]
    lines += [
        f"int32_t {tvm_adapter.packed_symbol(k)}(void *, void *, int32_t, void *);" for k in symbols
    ]
    lines.append(_RUNTIME_C)
    lines.append("const char *const ivit_step_names[IVIT_MODEL_NUM_STEPS] = {")
    lines += [f'  "{s.kernel}",' for s in p.steps]
    lines.append("};")
    lines.append("const uint8_t ivit_step_kinds[IVIT_MODEL_NUM_STEPS] = {")
    lines.append("  " + ", ".join(str(s.kind) for s in p.steps) + ",")
    lines.append("};\n")
    shapes: dict[tuple[int, ...], str] = {}
    for b in p.buffers.values():
        if b.shape not in shapes:
            shapes[b.shape] = f"ivit_shape{len(shapes)}"
            dims = ", ".join(str(d) for d in b.shape) or "1"
            lines.append(f"static int64_t {shapes[b.shape]}[] = {{{dims}}};")
    lines.append("")
    for i, s in enumerate(p.steps):
        lines.append(f"static DLTensor ivit_step{i}[{len(s.args)}] = {{")
        for name in s.args:
            b = p.buffers[name]
            lines.append(
                f"  {{.data = {_data_expr(b)}, .device = {{kDLCPU, 0}}, .ndim = {len(b.shape)}, "
                f".dtype = {_dtype_init(b.dtype)}, .shape = {shapes[b.shape]}, .strides = NULL, "
                f".byte_offset = 0}},  /* {name} */"
            )
        lines.append("};")
    inp, out = p.buffers[p.input], p.buffers[p.output]
    lines += [
        "",
        "int ivit_model_run(const int8_t *input, int64_t *logits) {",
        f"  memcpy(ivit_arena + {inp.offset}, input, {inp.nbytes});",
    ]
    for i, s in enumerate(p.steps):
        fn = tvm_adapter.packed_symbol(s.kernel)
        lines.append(
            f"  if (ivit_call({i}, {fn}, {len(s.args)}, ivit_step{i}) != 0) return -{i + 1};"
        )
    lines += [f"  memcpy(logits, ivit_arena + {out.offset}, {out.nbytes});", "  return 0;", "}", ""]
    return "\n".join(lines)
