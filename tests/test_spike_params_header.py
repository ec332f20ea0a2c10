"""gemmini_params.h: generated from GemminiConfig, committed copy up to date, macros right."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from ivit_gemmini.errors import UserError
from ivit_gemmini.gemmini.config import GemminiConfig, params_header_text, write_params_header

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO / "gemmini" / "include" / "gemmini_params.h"


def test_committed_copy_is_fresh(tmp_path: Path) -> None:
    fresh = write_params_header(GemminiConfig(), tmp_path / "gemmini_params.h")
    assert COMMITTED.read_text(encoding="utf-8") == fresh.read_text(encoding="utf-8")


def test_defaults_are_upstream_default_config() -> None:
    cfg = GemminiConfig()
    assert (cfg.dim, cfg.bank_num, cfg.bank_rows, cfg.acc_rows, cfg.max_bytes) == (
        16,
        4,
        4096,
        1024,
        64,
    )
    assert cfg.sp_rows == 16384
    assert (cfg.elem_min, cfg.elem_max, cfg.acc_min, cfg.acc_max) == (
        -128,
        127,
        -(2**31),
        2**31 - 1,
    )
    text = params_header_text(cfg)
    for line in (
        "#define DIM 16",
        "#define BANK_ROWS 4096",
        "#define ACC_ROWS 1024",
        "typedef int8_t elem_t;",
        "typedef int32_t acc_t;",
        "typedef float scale_t;",
        "typedef float acc_scale_t;",
        "#define HAS_MVIN_SCALE",
    ):
        assert line in text


def test_other_dim_changes_header() -> None:
    assert "#define DIM 8\n" in params_header_text(GemminiConfig(dim=8))


@pytest.mark.parametrize("kwargs", [{"dim": 12}, {"elem_bits": 16}, {"max_bytes": 40}])
def test_bad_config_is_user_error(kwargs: dict[str, int]) -> None:
    with pytest.raises(UserError):
        GemminiConfig(**kwargs)


PROBE = r"""
#include <stdio.h>
#include "gemmini_params.h"
int main(void) {
  int n; float s;
  while (scanf("%d %f", &n, &s) == 2) {
    acc_t x = n;
    elem_t e = (elem_t)(n > 127 ? 127 : n < -128 ? -128 : n);
    printf("%d %d %lld\n", (int)ACC_SCALE(x, s), (int)MVIN_SCALE(e, s),
           (long long)ROUNDING_RIGHT_SHIFT((long long)x, 3));
  }
  return 0;
}
"""


@pytest.mark.parametrize("compiler,lang", [("gcc", "c"), ("g++", "c++")])
def test_macros_round_half_even_and_saturate(tmp_path: Path, compiler: str, lang: str) -> None:
    src = tmp_path / "probe.c"
    src.write_text(PROBE)
    exe = tmp_path / "probe"
    subprocess.run(
        [compiler, "-x", lang, f"-I{COMMITTED.parent}", str(src), "-o", str(exe)], check=True
    )
    rng = np.random.default_rng(1)
    xs = np.concatenate([np.arange(-300, 300), rng.integers(-(2**20), 2**20, 500)])
    scales = np.array([0.5, 0.25, 1.0, 0.125, 0.1, 3.0], dtype=np.float32)
    cases = [(int(x), float(s)) for x in xs for s in scales]
    stdin = "".join(f"{x} {s!r}\n" for x, s in cases)
    out = subprocess.run([str(exe)], input=stdin, capture_output=True, text=True, check=True)
    got = np.array([[int(v) for v in line.split()] for line in out.stdout.splitlines()])
    x = np.array([c[0] for c in cases], dtype=np.int64)
    s = np.array([c[1] for c in cases], dtype=np.float32)
    prod = x.astype(np.float32) * s  # fp32 product, as the hardware forms it
    want_acc = np.clip(np.rint(prod), -128, 127)  # np.rint rounds half to even
    e = np.clip(x, -128, 127).astype(np.float32) * s
    want_mvin = np.clip(np.rint(e), -128, 127)
    # shift by 3, round half to even, exact in Python integers
    q, r = np.divmod(x, 8)
    want_shift = q + ((r > 4) | ((r == 4) & (q % 2 == 1)))
    np.testing.assert_array_equal(got[:, 0], want_acc)
    np.testing.assert_array_equal(got[:, 1], want_mvin)
    np.testing.assert_array_equal(got[:, 2], want_shift)
