"""Named Gemmini configurations (`gemmini_configs`) -> one build each, checked at start-up.

Each entry of `gemmini_configs` overlays the `gemmini:` section (keys it leaves out keep their
`gemmini:` values). A build is named after its values (`build_name`, the folder under
results/build/), so two entries with the same values are one build. Without `gemmini_configs`
the `gemmini:` section is the one build, as before.

The feasibility check mirrors `gemmini_matmul_pick_tile` and `gemmini_matmul_check` of
gemmini/include/gemmini.h (weight-stationary, the only dataflow the model library uses): a
configuration on which the header would stop the program ("tile factors must be positive",
"not enough scratchpad space ...") is refused before anything is built.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ivit_gemmini.errors import UserError
from ivit_gemmini.gemmini.config import WORKFLOW_KEYS, GemminiConfig, config_from_workflow
from ivit_gemmini.model.architecture import DEMO_CHECKPOINTS, Architecture

DEFAULT_MAX_BYTES = 64
LOOP_WS_MAX = 65535  # LOOP_WS carries each tile factor in 16 bits


def build_name(section: Mapping[str, Any]) -> str:
    """The folder name of a configuration's build (results/build/<name>/), from its values."""
    name = (f"dim{section['dim']}_sp{section['bank_num']}x{section['bank_rows']}"
            f"_acc{section['acc_rows']}")
    return name if section["max_bytes"] == DEFAULT_MAX_BYTES else f"{name}_mb{section['max_bytes']}"


@dataclass(frozen=True)
class Build:
    """One Gemmini build: its `gemmini:`-style section and the config names that ask for it."""

    name: str
    section: dict[str, int]
    labels: tuple[str, ...] = field(default=())

    @property
    def hardware(self) -> GemminiConfig:
        return config_from_workflow(self.section)


def expand_builds(config: Mapping[str, Any]) -> dict[str, Build]:
    """Every build of the run, in the order first listed; duplicates merged (their labels kept).

    Raises UserError (one line naming the entry) for an entry the hardware model refuses."""
    base = {k: config["gemmini"][k] for k in WORKFLOW_KEYS if k in config["gemmini"]}
    named = config.get("gemmini_configs") or {}
    builds: dict[str, Build] = {}
    for label, overlay in (named or {"default": {}}).items():
        section = {**base, **(overlay or {})}
        try:
            hw = config_from_workflow(section)
        except UserError as err:  # the message names `gemmini`; say which entry overlaid it
            raise UserError(f"gemmini_configs.{label}: {err}" if named else str(err)) from None
        section = {k: getattr(hw, k) for k in WORKFLOW_KEYS}
        name = build_name(section)
        old = builds.get(name)
        builds[name] = Build(name, section, (old.labels if old else ()) + (label,))
    return builds


def startup_architecture(checkpoint: str) -> tuple[Architecture | None, str]:
    """The architecture known before anything runs (the demo checkpoints'), and its name for
    messages; (None, "the model") for a checkpoint file, not loaded at start-up."""
    arch = DEMO_CHECKPOINTS.get(checkpoint)
    return arch, f"checkpoint {checkpoint}" if arch else "the model"


# --- what the header does with a matmul ----------------------------------------------------------


@dataclass(frozen=True)
class Matmul:
    """C (I x J) = A (I x K) @ B (K x J), as the model library calls tiled_matmul_auto."""

    name: str
    i: int  # the header's dim_I, dim_J, dim_K
    j: int
    k: int

    def __str__(self) -> str:
        return f"{self.name} {self.i}x{self.j}x{self.k}"


@dataclass(frozen=True)
class Tile:
    """Tile factors in blocks of DIM (gemmini_matmul_tile)."""

    i: int  # the header's t.I, t.J, t.K
    j: int
    k: int


def model_matmuls(arch: Architecture) -> list[Matmul]:
    """The matmul shapes the model library offloads for `arch` (compile/passes: linear layers,
    the per-head attention products, the int16 x int8 product split into two int8 ones, and the
    last block's class-token-only rows)."""
    t, d, h = arch.num_tokens, arch.dim, arch.head_dim
    shapes = [
        Matmul("patch_embed", arch.num_patches, d, arch.in_chans * arch.patch_size ** 2),
        Matmul("qkv", t, 3 * d, d),
        Matmul("attention_scores", t, t, h),
        Matmul("attention_values", t, h, t),
        Matmul("proj", t, d, d),
        Matmul("fc1", t, arch.mlp_hidden, d),
        Matmul("fc2", t, d, arch.mlp_hidden),
        Matmul("last_scores", 1, t, h),
        Matmul("last_values", 1, h, t),
        Matmul("last_proj", 1, d, d),
        Matmul("last_fc1", 1, arch.mlp_hidden, d),
        Matmul("last_fc2", 1, d, arch.mlp_hidden),
        Matmul("head", 1, arch.num_classes, d),
    ]
    return shapes


def _blocks(n: int, dim: int) -> int:
    return (n + dim - 1) // dim


def header_tile(hw: GemminiConfig, mm: Matmul) -> Tile:
    """The tile gemmini_matmul_pick_tile picks for `mm` on `hw` (WS), step by step: a square
    C tile of side isqrt(acc_rows / 2 / dim) blocks, K from a quarter of the scratchpad divided
    by that side, then J, I, K grown in turn while A + B fit half the scratchpad and C half the
    accumulator. A factor may stay 0: the header then stops the program."""
    dim = hw.dim
    bi, bj, bk = _blocks(mm.i, dim), _blocks(mm.j, dim), _blocks(mm.k, dim)
    spad, acc = hw.sp_rows // 2, hw.acc_rows // 2
    side = math.isqrt(acc // dim)
    # C divides by side; RISC-V's unsigned division by 0 gives all ones (no trap).
    k_max = (hw.sp_rows // 2 // 2) // dim // side if side else bk
    tile = Tile(min(bi, side), min(bj, side), min(bk, k_max))

    def spad_ok(c: Tile) -> bool:
        return (c.i * c.k + c.k * c.j) * dim <= spad

    def acc_ok(c: Tile) -> bool:
        return c.i * c.j * dim <= acc

    grew = True
    while grew:
        grew = False
        c = Tile(tile.i, tile.j + 1, tile.k)
        if c.j <= bj and spad_ok(c) and acc_ok(c):
            tile, grew = c, True
        c = Tile(tile.i + 1, tile.j, tile.k)
        if c.i <= bi and spad_ok(c) and acc_ok(c):
            tile, grew = c, True
        c = Tile(tile.i, tile.j, tile.k + 1)
        if c.k <= bk and spad_ok(c):
            tile, grew = c, True
    return tile


def tile_problem(hw: GemminiConfig, mm: Matmul) -> str | None:
    """Why gemmini_matmul_check would stop the program on `mm`'s tile, or None."""
    dim, tile = hw.dim, header_tile(hw, mm)
    side = math.isqrt(hw.acc_rows // 2 // dim)
    if tile.i == 0 or tile.j == 0:
        return (f"half the accumulator ({hw.acc_rows // 2} rows) holds no {dim} x {dim} C "
                f"block: need acc_rows >= {2 * dim}")
    if tile.k == 0:
        return (f"the header's K tile is 0 blocks: a quarter of the scratchpad "
                f"({hw.sp_rows // 4} rows) is less than dim x side = {dim} x {side} rows, "
                f"side = isqrt(acc_rows / 2 / dim): need bank_num x bank_rows >= "
                f"{4 * dim * side} (or fewer acc_rows)")
    if (tile.i * tile.k + tile.k * tile.j) * dim > hw.sp_rows // 2:
        return f"its A and B tiles need more than half the scratchpad ({hw.sp_rows // 2} rows)"
    if tile.i * tile.j * dim > hw.acc_rows // 2:
        return f"its C tile needs more than half the accumulator ({hw.acc_rows // 2} rows)"
    if max(tile.i, tile.j, tile.k) > LOOP_WS_MAX:
        return f"a tile factor exceeds LOOP_WS's {LOOP_WS_MAX}"
    return None


# Stands for every matmul when the model is not known at start-up: large in every dimension,
# so the header starts from its full initial tile (a smaller matmul can only do better).
ANY_MATMUL = Matmul("matmuls", 4096, 4096, 4096)


def check_feasible(builds: Mapping[str, Build], arch: Architecture | None,
                   model: str = "the model") -> None:
    """Refuse (UserError, one line naming the configuration and the limit) the first build on
    which the header cannot tile one of `arch`'s matmuls (any large matmul without `arch`)."""
    matmuls = model_matmuls(arch) if arch is not None else [ANY_MATMUL]
    for build in builds.values():
        hw = build.hardware
        for mm in matmuls:
            problem = tile_problem(hw, mm)
            if problem:
                raise UserError(f"Gemmini configuration {'/'.join(build.labels)} "
                                f"({build.name}) cannot run {model}'s {mm}: {problem}")
