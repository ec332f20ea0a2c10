"""gemmini_configs: expansion, dedup by value, and the start-up refusal of configurations on which
gemmini.h cannot tile the model (src/ivit_gemmini/sweep/configs.py).

Goldens: hand computations of the header's tiler (written out below) and the header's own
`gemmini_matmul_pick_tile`, compiled for the host (tests/sweep_programs/pick_tile.c)."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest

from ivit_gemmini.errors import UserError
from ivit_gemmini.gemmini.config import GemminiConfig, write_params_header
from ivit_gemmini.model.architecture import DEIT_BASE, DEIT_SMALL, DEIT_TINY
from ivit_gemmini.sweep.configs import (
    ANY_MATMUL,
    Matmul,
    Tile,
    build_name,
    check_feasible,
    expand_builds,
    header_tile,
    model_matmuls,
    startup_architecture,
    tile_problem,
)

REPO = Path(__file__).resolve().parents[1]
DEFAULT = {"dim": 16, "bank_num": 4, "bank_rows": 4096, "acc_rows": 1024, "max_bytes": 64}
# 1 bank of 64 rows with 1,024 accumulator rows: side = isqrt(1024 / 2 / 16) = 5 blocks, and a
# quarter of the scratchpad (16 rows) < 16 x 5: the header's K tile starts at 0.
TINY_SPAD = {**DEFAULT, "bank_num": 1, "bank_rows": 64}


def config(**configs: dict) -> dict:
    return {"gemmini": dict(DEFAULT), "gemmini_configs": configs}


def test_no_gemmini_configs_is_the_gemmini_section() -> None:
    builds = expand_builds({"gemmini": dict(DEFAULT), "gemmini_configs": {}})
    assert list(builds) == ["dim16_sp4x4096_acc1024"]
    assert builds["dim16_sp4x4096_acc1024"].section == DEFAULT


def test_entries_overlay_the_gemmini_section_and_same_values_are_one_build() -> None:
    builds = expand_builds(config(small={"dim": 8, "acc_rows": 256}, big={"dim": 32,
                                  "max_bytes": 128}, again={"dim": 8, "acc_rows": 256,
                                  "bank_rows": 4096}, default=None))
    assert list(builds) == ["dim8_sp4x4096_acc256", "dim32_sp4x4096_acc1024_mb128",
                            "dim16_sp4x4096_acc1024"]
    assert builds["dim8_sp4x4096_acc256"].labels == ("small", "again")
    assert builds["dim8_sp4x4096_acc256"].section == {**DEFAULT, "dim": 8, "acc_rows": 256}
    assert builds["dim16_sp4x4096_acc1024"].labels == ("default",)


def test_build_name_is_the_workflow_folder_name() -> None:
    assert build_name(DEFAULT) == "dim16_sp4x4096_acc1024"
    assert build_name({**DEFAULT, "dim": 32, "max_bytes": 128}) == "dim32_sp4x4096_acc1024_mb128"


def test_an_entry_the_hardware_refuses_names_the_entry() -> None:
    with pytest.raises(UserError, match=r"^gemmini_configs\.wide: config gemmini: max_bytes 64"):
        expand_builds(config(ok={"dim": 8}, wide={"dim": 32}))


def test_model_matmuls_are_the_compiled_deit_tiny_kernels() -> None:
    # The gemmini_matmul* steps of a DeiT-tiny model library built by the workflow (its
    # metadata.json, names <M>x<N>x<K>), written out: the compiler is the golden here.
    compiled = {(196, 192, 768), (197, 576, 192), (197, 197, 64), (197, 64, 197),
                (197, 192, 192), (197, 768, 192), (197, 192, 768), (1, 197, 64), (1, 64, 197),
                (1, 192, 192), (1, 768, 192), (1, 192, 768), (1, 1000, 192)}
    assert {(m.i, m.j, m.k) for m in model_matmuls(DEIT_TINY)} == compiled


def test_header_tile_by_hand() -> None:
    hw = GemminiConfig()
    # acc/2 = 512 rows, / 16 = 32 -> side 5; k_max = 16384 / 4 / 16 / 5 = 51. qkv 197x576x192:
    # 13 x 36 x 12 blocks -> start (5, 5, 12); J to 6 (A+B (60+72)*16 = 2112 <= 8192 rows,
    # C 5*6*16 = 480 <= 512); I to 6 needs 576 > 512; K is at its 12 blocks; J 7 needs 560.
    assert header_tile(hw, Matmul("qkv", 197, 576, 192)) == Tile(5, 6, 12)
    # DIM 32, 4 x 2048 rows, 512 acc rows: side isqrt(8) = 2, k_max 8192/4/32/2 = 32;
    # fc2 197x192x768: 7 x 6 x 24 blocks -> (2, 2, 24); J 3: (48 + 72)*32 = 3840 <= 4096 and
    # C 192 <= 256; I 3: (72 + 72)*32 = 4608 > 4096; J 4: (48 + 96)*32 = 4608 > 4096.
    hw32 = GemminiConfig(dim=32, bank_rows=2048, acc_rows=512, max_bytes=128)
    assert header_tile(hw32, Matmul("fc2", 197, 192, 768)) == Tile(2, 3, 24)


def test_small_scratchpad_tiles_a_one_block_matmul_but_not_the_model() -> None:
    hw = GemminiConfig(**TINY_SPAD)
    # (1, 1, 0) -> K to 1: A + B = (1 + 1) * 16 = 32 rows = half the scratchpad: fits.
    assert header_tile(hw, Matmul("one block", 16, 16, 16)) == Tile(1, 1, 1)
    assert tile_problem(hw, Matmul("one block", 16, 16, 16)) is None
    # qkv starts (5, 5, 0); K to 1 would need (5 + 6) * 16 rows > 32: K stays 0.
    assert header_tile(hw, Matmul("qkv", 197, 576, 192)) == Tile(5, 6, 0)
    assert "need bank_num x bank_rows >= 320" in str(tile_problem(hw, Matmul("q", 197, 576, 192)))


def test_check_feasible_refuses_in_one_line_naming_configuration_and_limit() -> None:
    builds = expand_builds(config(good={}, cramped={"bank_num": 1, "bank_rows": 64}))
    with pytest.raises(UserError) as err:
        check_feasible(builds, DEIT_TINY, "checkpoint demo")
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith("Gemmini configuration cramped (dim16_sp1x64_acc1024) cannot run "
                          "checkpoint demo's patch_embed 196x192x768: ")
    assert "320" in msg
    with pytest.raises(UserError, match="cramped"):
        check_feasible(builds, None)  # unknown model: a large matmul stands for all
    good = expand_builds(config(good={}, d8={"dim": 8}, d32={"dim": 32, "max_bytes": 128}))
    for arch in (DEIT_TINY, DEIT_SMALL, DEIT_BASE, None):
        check_feasible(good, arch)


def test_startup_architecture_knows_the_demo_checkpoints() -> None:
    assert startup_architecture("demo")[0] == DEIT_TINY
    assert startup_architecture("demo-base")[0] == DEIT_BASE
    assert startup_architecture("my.pth") == (None, "the model")


def _compiled_tiler(hw: GemminiConfig, folder: Path) -> Path:
    write_params_header(hw, folder / "inc" / "gemmini_params.h")
    exe = folder / "pick_tile"
    subprocess.run(["gcc", "-O1", "-I", str(folder / "inc"), "-I", str(REPO / "gemmini/include"),
                    "-I", str(REPO / "gemmini/isa"), str(REPO / "tests/sweep_programs/pick_tile.c"),
                    "-o", str(exe), "-lm"], check=True, capture_output=True)
    return exe


def test_header_tile_equals_the_headers_own_tiler(tmp_path: Path) -> None:
    rng = random.Random(12)
    configs = [GemminiConfig(), GemminiConfig(**TINY_SPAD)]
    while len(configs) < 8:
        dim = rng.choice([4, 8, 16, 32])
        try:
            configs.append(GemminiConfig(dim=dim, bank_num=rng.choice([1, 2, 4]),
                                         bank_rows=dim * rng.randint(1, 300),
                                         acc_rows=dim * rng.randint(2, 80), max_bytes=4 * dim))
        except UserError:
            continue
    shapes = [ANY_MATMUL, *model_matmuls(DEIT_BASE)]
    shapes += [Matmul("r", rng.randint(1, 800), rng.randint(1, 800), rng.randint(1, 3200))
               for _ in range(150)]
    for n, hw in enumerate(configs):
        exe = _compiled_tiler(hw, tmp_path / str(n))
        stdin = "".join(f"{m.i} {m.j} {m.k}\n" for m in shapes)
        out = subprocess.run([str(exe)], input=stdin, capture_output=True, text=True, check=True)
        want = [Tile(*map(int, line.split())) for line in out.stdout.splitlines()]
        got = [header_tile(hw, m) for m in shapes]
        assert len(want) == len(shapes)
        wrong = [(m, g, w) for m, g, w in zip(shapes, got, want, strict=True) if g != w]
        assert not wrong, (hw, wrong[:3])


def test_without_gemmini_configs_an_error_names_gemmini_only() -> None:
    with pytest.raises(UserError, match=r"^config gemmini: max_bytes 64"):
        expand_builds({"gemmini": {**DEFAULT, "dim": 32}, "gemmini_configs": {}})
