"""Relax passes that map the integer graph onto Gemmini (one pass a file, TVM-style names).

`partition_for_gemmini(mod)` runs them in order on a module whose arrays are bound:
`SplitWideMatmul` turns the int16 x int8 attention matmul into int8 x int8 matmuls plus core
arithmetic, then `OffloadMatmul` replaces every int8 x int8 -> int32 matmul (with its bias row,
when one is added right after) by an opaque call to our C wrapper of Gemmini's
`tiled_matmul_auto`.
"""

from __future__ import annotations

import tvm
from tvm import relax

from ivit_gemmini.compile.passes.offload_matmul import GEMMINI_PREFIX, OffloadMatmul
from ivit_gemmini.compile.passes.split_wide_matmul import SplitWideMatmul

__all__ = ["GEMMINI_PREFIX", "OffloadMatmul", "SplitWideMatmul", "partition_for_gemmini"]


def gemmini_phase() -> list[tvm.transform.Pass]:
    # DCE drops the plain matmuls whose bias add OffloadMatmul turned into one biased call.
    return [SplitWideMatmul(), OffloadMatmul(), relax.transform.DeadCodeElimination()]


def partition_for_gemmini(mod: tvm.IRModule) -> tvm.IRModule:
    return tvm.transform.Sequential(gemmini_phase(), name="partition_for_gemmini")(mod)
