"""The workflow's `gemmini:` section drives the builds: one generated params header per build
config, the model library and the Spike extension compiled against it, integer results that do
not depend on DIM, and one-line errors for configurations the hardware model cannot support."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml
from workflow_helpers import run_workflow

from ivit_gemmini.errors import UserError
from ivit_gemmini.gemmini.config import config_from_workflow, write_workflow_params_header
from ivit_gemmini.simulate import spike

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO / "gemmini" / "include" / "gemmini_params.h"
# DIM 8 with a scratchpad and accumulator a quarter of the default's: still fits every tile.
SMALL = {"dim": 8, "bank_num": 4, "bank_rows": 1024, "acc_rows": 256, "max_bytes": 64}
SMALL_NAME = "dim8_sp4x1024_acc256"


def _define(text: str, name: str) -> int:
    match = re.search(rf"^#define {name} (\d+)$", text, re.MULTILINE)
    assert match, f"no #define {name}"
    return int(match.group(1))


def test_default_sections_give_the_committed_header(tmp_path: Path) -> None:
    shipped = yaml.safe_load((REPO / "config/config.yaml").read_text())["gemmini"]
    for section in ({}, shipped):
        out = write_workflow_params_header(section, tmp_path / "gemmini_params.h")
        assert out.read_text(encoding="utf-8") == COMMITTED.read_text(encoding="utf-8")


def test_section_keys_reach_the_header(tmp_path: Path) -> None:
    text = write_workflow_params_header(SMALL, tmp_path / "gemmini_params.h").read_text()
    assert {k: _define(text, k) for k in ("DIM", "BANK_NUM", "BANK_ROWS", "ACC_ROWS",
                                          "MAX_BYTES")} == {
        "DIM": 8, "BANK_NUM": 4, "BANK_ROWS": 1024, "ACC_ROWS": 256, "MAX_BYTES": 64}


@pytest.mark.parametrize(
    "section,words",
    [
        ({"dim": 32}, "max_bytes 64"),  # an accumulator row (32 x 4 bytes) exceeds one request
        ({"dim": 12}, "power of two"),
        ({"acc_rows": 1000}, "multiples of dim 16"),
        ({"dim": 16, "bank_num": 1, "bank_rows": 32}, "too small"),
        ({"acc_rows": 16}, "too small"),
        ({"bank_rows": 1 << 28}, "address space"),
        ({"bank_num": 64, "bank_rows": 1 << 20}, "limit"),
        ({"dimm": 8}, "gemmini.dimm"),
        ({"dim": "8"}, "integer"),
    ],
)
def test_unsupported_sections_are_one_line_user_errors(section: dict, words: str) -> None:
    with pytest.raises(UserError) as err:
        config_from_workflow(section)
    assert words in str(err.value) and "\n" not in str(err.value)


def test_supported_sections_are_accepted() -> None:
    assert config_from_workflow({"dim": 32, "max_bytes": 128}).dim == 32
    assert config_from_workflow({"dim": 4}).sp_rows == 4 * 4096
    assert config_from_workflow(SMALL).acc_rows == 256


def test_extension_cache_key_follows_the_params_header(tmp_path: Path) -> None:
    default, small = tmp_path / "default", tmp_path / "small"
    write_workflow_params_header({}, default / "gemmini_params.h")
    write_workflow_params_header(SMALL, small / "gemmini_params.h")
    # The same header content reuses the build of the committed default; another one does not.
    assert spike._extension_key("g++", default) == spike._extension_key("g++")
    assert spike._extension_key("g++", small) != spike._extension_key("g++")
    with pytest.raises(UserError, match="write_gemmini_params"):
        spike.build_extension(tmp_path / "cache", params_dir=tmp_path / "missing")


@pytest.mark.parametrize("dim", [4, 8, 32])
def test_extension_and_header_compile_for_other_dims(tmp_path: Path, dim: int) -> None:
    """Syntax and static_asserts of every extension source and of gemmini.h at this DIM."""
    from ivit_gemmini.firmware import toolchain

    write_workflow_params_header({"dim": dim, "max_bytes": max(64, 4 * dim)},
                                 tmp_path / "gemmini_params.h")
    includes = [f"-I{tmp_path}", f"-I{REPO / 'gemmini/include'}", f"-I{REPO / 'gemmini/isa'}"]
    sources = sorted(str(p) for p in (REPO / "gemmini/spike").glob("*.cc"))
    cxx = ["g++", *spike.CXX_FLAGS, "-fsyntax-only", f"-I{spike.spike_data_dir() / 'include'}",
           *includes, *sources]
    run = subprocess.run(cxx, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    probe = tmp_path / "probe.c"
    probe.write_text(f'#include "gemmini.h"\n_Static_assert(DIM == {dim}, "dim");\n')
    cc = [toolchain.find_gcc(), *toolchain.ARCH_FLAGS, "-std=gnu11", "-Wall", "-Werror",
          "--specs=picolibc.specs", "-fsyntax-only", *includes, str(probe)]
    run = subprocess.run(cc, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr[-2000:]


def test_unsupported_section_stops_the_workflow_at_start_up(tmp_path: Path) -> None:
    run = run_workflow(tmp_path, {"gemmini": {"dim": 32}}, "-n", timeout=120)
    assert run.returncode != 0
    assert run.error_lines() == [
        "error: config gemmini: max_bytes 64 must be a positive multiple of dim x 4 = 128 "
        "(one accumulator row per DMA request)"
    ]


@pytest.mark.slow
def test_dim8_spike_logits_equal_torch_int(tmp_path: Path, toy_checkpoint: Path) -> None:
    photo = sorted((toy_checkpoint.parent / "demo").glob("*.png"))[0]
    config = {"checkpoint": str(toy_checkpoint), "images": [str(photo)],
              "backends": ["torch-int", "spike"], "gemmini": SMALL}
    targets = ["results/shards/torch-int/0of1.json", f"results/shards/spike/{SMALL_NAME}/0of1.json"]
    run = run_workflow(tmp_path, config, "--", *targets)
    assert run.returncode == 0, run.stderr[-3000:]
    res = tmp_path / "results"
    # Spike's outputs are keyed by the Gemmini configuration (several can coexist).
    spike_logits = np.load(res / "logits/spike" / SMALL_NAME / f"{photo.stem}.npy")
    torch_logits = np.load(res / "logits/torch-int" / f"{photo.stem}.npy")
    assert spike_logits.dtype == np.int64 and spike_logits.tolist() == torch_logits.tolist()

    header = (res / "build" / SMALL_NAME / "include/gemmini_params.h").read_text()
    assert (_define(header, "DIM"), _define(header, "BANK_ROWS"),
            _define(header, "ACC_ROWS")) == (8, 1024, 256)
    assert (res / "build" / SMALL_NAME / "libgemmini.so").is_file()
    assert not (res / "build" / "dim16_sp4x4096_acc1024").exists()
    # The extension counts DIM^3 array MACs per compute: it really ran an 8x8 mesh.
    stats = json.loads((res / "stats/spike" / SMALL_NAME / f"{photo.stem}.json").read_text()
                       )["gemmini"]
    assert stats["ops"]["compute"] > 0
    assert stats["macs_array"] == stats["ops"]["compute"] * 8**3
