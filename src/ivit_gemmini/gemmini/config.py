"""The Gemmini hardware configuration and the C params header generated from it.

Defaults are upstream's default configuration (ucb-bar/gemmini `GemminiConfigs.defaultConfig`):
a 16x16 int8 mesh, int32 accumulators, fp32 scales, 4 scratchpad banks of 4,096 rows, 1,024
accumulator rows, 64-byte DMA requests. `write_params_header` emits the `gemmini_params.h` that
`gemmini.h`, the ISA tests and the Spike model include; the committed copy in
`gemmini/include/gemmini_params.h` must equal a fresh generation (tested).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ivit_gemmini.errors import UserError
from ivit_gemmini.io import atomic_write_text

PARAMS_TEMPLATE = Path(__file__).with_name("gemmini_params.h.in")
# Local addresses: bits 31..29 are flags (accumulator, accumulate, full width) and an accumulator
# mvout carries a normalization command in bits 28..26, so rows must fit below them.
MAX_SP_ROWS = 1 << 29
MAX_ACC_ROWS = 1 << 26
# The Spike model holds both memories in host RAM: keep a typo from allocating gigabytes.
MAX_STATE_BYTES = 1 << 30
# The keys of the workflow's `gemmini:` section; each is the GemminiConfig field of that name.
WORKFLOW_KEYS = ("dim", "bank_num", "bank_rows", "acc_rows", "max_bytes")


@dataclass(frozen=True)
class GemminiConfig:
    """The hardware parameters a program and the simulator must agree on."""

    dim: int = 16
    elem_bits: int = 8
    acc_bits: int = 32
    bank_num: int = 4
    bank_rows: int = 4096
    acc_rows: int = 1024
    max_bytes: int = 64
    addr_len: int = 32

    def __post_init__(self) -> None:
        if self.dim <= 0 or self.dim & (self.dim - 1):
            raise UserError(f"Gemmini dim {self.dim} is not a power of two: use 4, 8, 16 or 32")
        if (self.elem_bits, self.acc_bits) != (8, 32):
            raise UserError("only int8 inputs with int32 accumulators are supported (8, 32)")
        if self.max_bytes <= 0 or self.max_bytes % (self.dim * self.acc_bits // 8):
            # One DMA request must carry at least one whole accumulator row (DIM int32), else
            # MAX_BLOCK_LEN_ACC is 0 and no accumulator mvin/mvout can be issued.
            raise UserError(
                f"max_bytes {self.max_bytes} must be a positive multiple of dim x 4 = "
                f"{self.dim * self.acc_bits // 8} (one accumulator row per DMA request)"
            )
        self._check_memories()

    def _check_memories(self) -> None:
        """The scratchpad and accumulator must hold one double-buffered DIM x DIM tile (what
        tiled_matmul_auto needs) and fit the local address fields and the host's memory."""
        if min(self.bank_num, self.bank_rows, self.acc_rows) <= 0:
            raise UserError("gemmini bank_num, bank_rows and acc_rows must be positive")
        if self.bank_rows % self.dim or self.acc_rows % self.dim:
            raise UserError(
                f"bank_rows {self.bank_rows} and acc_rows {self.acc_rows} must be multiples of "
                f"dim {self.dim} (whole DIM-row blocks)"
            )
        if self.sp_rows < 4 * self.dim or self.acc_rows < 2 * self.dim:
            raise UserError(
                f"scratchpad {self.bank_num}x{self.bank_rows} rows / accumulator "
                f"{self.acc_rows} rows are too small for dim {self.dim}: need at least "
                f"{4 * self.dim} scratchpad and {2 * self.dim} accumulator rows"
            )
        if self.sp_rows > MAX_SP_ROWS or self.acc_rows > MAX_ACC_ROWS:
            raise UserError(
                f"scratchpad {self.sp_rows} rows / accumulator {self.acc_rows} rows exceed the "
                f"local address space ({MAX_SP_ROWS} / {MAX_ACC_ROWS} rows)"
            )
        state = self.sp_rows * self.dim + self.acc_rows * self.dim * self.acc_bits // 8
        if state > MAX_STATE_BYTES:
            raise UserError(
                f"scratchpad + accumulator take {state} bytes, more than the Spike model's "
                f"limit of {MAX_STATE_BYTES}: lower bank_rows, bank_num or acc_rows"
            )

    @property
    def sp_rows(self) -> int:
        """Scratchpad rows over all banks (local addresses 0 .. sp_rows-1)."""
        return self.bank_num * self.bank_rows

    @property
    def elem_min(self) -> int:
        return -(1 << (self.elem_bits - 1))

    @property
    def elem_max(self) -> int:
        return (1 << (self.elem_bits - 1)) - 1

    @property
    def acc_min(self) -> int:
        return -(1 << (self.acc_bits - 1))

    @property
    def acc_max(self) -> int:
        return (1 << (self.acc_bits - 1)) - 1


def config_from_workflow(section: Mapping[str, Any]) -> GemminiConfig:
    """The GemminiConfig of the workflow's `gemmini:` section (missing keys: defaults).

    Raises UserError (one line naming the config key) for an unknown key or a configuration the
    hardware model cannot support."""
    unknown = sorted(set(section) - set(WORKFLOW_KEYS))
    if unknown:
        raise UserError(
            f"unknown config key(s) gemmini.{', gemmini.'.join(unknown)}: use "
            f"{', '.join(WORKFLOW_KEYS)}"
        )
    values = {k: section[k] for k in WORKFLOW_KEYS if k in section}
    bad = [k for k, v in values.items() if isinstance(v, bool) or not isinstance(v, int)]
    if bad:
        raise UserError(f"config gemmini.{bad[0]} must be an integer, not {values[bad[0]]!r}")
    try:
        return GemminiConfig(**values)
    except UserError as err:
        raise UserError(f"config gemmini: {err}") from None


def config_fields(cfg: GemminiConfig) -> dict[str, int]:
    """Every field of `cfg` (for logs and metadata)."""
    return {f.name: getattr(cfg, f.name) for f in fields(cfg)}


def params_header_text(cfg: GemminiConfig) -> str:
    """The text of `gemmini_params.h` for `cfg`."""
    values = {
        "DIM": cfg.dim,
        "ADDR_LEN": cfg.addr_len,
        "BANK_NUM": cfg.bank_num,
        "BANK_ROWS": cfg.bank_rows,
        "ACC_ROWS": cfg.acc_rows,
        "MAX_BYTES": cfg.max_bytes,
        "ELEM_MIN": cfg.elem_min,
        "ELEM_MAX": cfg.elem_max,
        "ACC_MAX": cfg.acc_max,
    }
    text = PARAMS_TEMPLATE.read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace("@" + key + "@", str(value))
    if "@" in text.replace("@brief", ""):
        raise AssertionError("unfilled placeholder in gemmini_params.h.in")
    return text


def write_params_header(cfg: GemminiConfig, path: Path) -> Path:
    """Write `gemmini_params.h` for `cfg` to `path` (atomically) and return the path."""
    atomic_write_text(path, params_header_text(cfg))
    return path


def write_workflow_params_header(section: Mapping[str, Any], path: str | Path, *,
                                 build_config: str | None = None,
                                 expected: str | None = None) -> Path:
    """The `write_gemmini_params` rule: the workflow's `gemmini:` section -> `path`.

    `build_config` (the folder asked for) must equal `expected` (the name of the configured
    section): a header for another configuration cannot be made from this one."""
    if build_config is not None and expected is not None and build_config != expected:
        raise UserError(f"results/build/{build_config}/ is not the configured Gemmini build "
                        f"({expected}): set config gemmini to match or ask for {expected}")
    return write_params_header(config_from_workflow(section), Path(path))
