"""The Gemmini hardware configuration and the C params header generated from it.

Defaults are upstream's default configuration (ucb-bar/gemmini `GemminiConfigs.defaultConfig`):
a 16x16 int8 mesh, int32 accumulators, fp32 scales, 4 scratchpad banks of 4,096 rows, 1,024
accumulator rows, 64-byte DMA requests. `write_params_header` emits the `gemmini_params.h` that
`gemmini.h`, the ISA tests and the Spike model include; the committed copy in
`gemmini/include/gemmini_params.h` must equal a fresh generation (tested).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ivit_gemmini.errors import UserError
from ivit_gemmini.io import atomic_write_text

PARAMS_TEMPLATE = Path(__file__).with_name("gemmini_params.h.in")


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
        if self.max_bytes % self.dim:
            raise UserError(f"max_bytes {self.max_bytes} must be a multiple of dim {self.dim}")

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
