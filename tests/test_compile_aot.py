"""The AOT emitter's static program: steps, memory plan and workspace bound."""

from __future__ import annotations

import pytest
from compile_helpers import ODD, random_params

from ivit_gemmini.compile import aot, mlf


@pytest.fixture(scope="module")
def program() -> aot.Program:
    return aot.plan_program(mlf.lower_for_gemmini(random_params(ODD, seed=12)))


def test_no_step_reads_a_buffer_that_was_overwritten(program: aot.Program) -> None:
    """Replay the plan byte-range by byte-range: every argument a step reads must still hold
    the value its producer wrote (no later-defined buffer overlapped it in between)."""
    owner: dict[int, str] = {}  # arena byte range start -> current buffer (coarse, 64 B grain)

    def claim(name: str) -> None:
        b = program.buffers[name]
        for off in range(b.offset, b.offset + b.nbytes, 64):
            owner[off] = name

    claim(program.input)
    for step in program.steps:
        *inputs, out = step.args
        for name in inputs:
            b = program.buffers[name]
            if b.where == "arena":
                grains = range(b.offset, b.offset + b.nbytes, 64)
                assert all(owner.get(g) == name for g in grains), (step.kernel, name)
        out_b = program.buffers[out]
        for name in inputs:  # a kernel's output never aliases its inputs
            b = program.buffers[name]
            if b.where == "arena":
                assert (
                    b.offset + b.nbytes <= out_b.offset or out_b.offset + out_b.nbytes <= b.offset
                )
        claim(out)
    out = program.buffers[program.output]
    assert owner[out.offset] == program.output and out.dtype == "int64"


def test_steps_and_kinds(program: aot.Program) -> None:
    kinds = [s.kind for s in program.steps]
    assert aot.KIND_GEMMINI in kinds and aot.KIND_CORE in kinds
    assert all(s.kernel in program.kernels for s in program.steps)
    assert program.arena_size % 64 == 0 and len(program.params_blob) % 1 == 0


SIGNATURE = (
    "TVM_DLL int32_t __tvm_ffi_{}(void* self_handle, void* args, int32_t num_args, void* result) {{"
)


def test_workspace_bound_is_the_largest_per_kernel_sum() -> None:
    c = "\n".join(
        [
            SIGNATURE.format("a"),
            "  p = TVMBackendAllocWorkspace(1, dev_id, (uint64_t)100ULL, 0, 32);",
            "  q = TVMBackendAllocWorkspace(1, dev_id, (uint64_t)64ULL, 0, 32);",
            "}",
            SIGNATURE.format("b"),
            "  p = TVMBackendAllocWorkspace(1, dev_id, (uint64_t)150ULL, 0, 32);",
            "}",
        ]
    )
    assert aot.workspace_bytes(c) == 128 + 64  # kernel a: 100 -> 128 aligned, plus 64
    with pytest.raises(ValueError, match="workspace"):
        aot.workspace_bytes("x = TVMBackendAllocWorkspace(1, dev_id, n, 0, 32);")
