"""Invalid use of the Gemmini model stops the program with one line naming the instruction and
the operand: unknown funct7, local address out of range or malformed, DRAM fault, oversized
LOOP_WS, a LOOP_CONV_WS whose local rows leave the memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from spike_helpers import ACC, DIM, Program, local

from ivit_gemmini.errors import UserError

pytestmark = pytest.mark.usefixtures("mesh_backend")  # spike and spike-rtl


def run_expecting(tmp_path: Path, p: Program, pattern: str) -> str:
    with pytest.raises(UserError, match=pattern) as err:
        p.run(tmp_path)
    message = str(err.value)
    assert "\n" not in message
    return message


def test_unknown_funct7(tmp_path: Path) -> None:
    p = Program()
    p.cmd(99, 0x1234, 0x5678)
    msg = run_expecting(tmp_path, p, "illegal instruction")
    assert "unknown Gemmini funct7 99" in msg and "rs1=0x1234" in msg


def test_scratchpad_row_out_of_range(tmp_path: Path) -> None:
    p = Program()
    src = p.put(bytes(DIM * DIM))
    p.config_ld(DIM)
    p.mvin(src, 16380)  # rows 16380..16395 of 16384
    msg = run_expecting(tmp_path, p, r"MVIN \(funct7=2\)")
    assert "local rows 16380..16395 exceed the scratchpad (16384 rows)" in msg


def test_accumulator_row_out_of_range(tmp_path: Path) -> None:
    p = Program()
    out = p.out(DIM * DIM)
    p.config_st(DIM)
    p.mvout(out, ACC | 1020)
    run_expecting(tmp_path, p, r"MVOUT .*exceed the accumulator \(1024 rows\)")


def test_dram_fault_on_load(tmp_path: Path) -> None:
    p = Program()
    p.config_ld(DIM)
    p.cmd("MVIN", 0x4000_0000, local(0))
    msg = run_expecting(tmp_path, p, "load access fault")
    assert "MVIN" in msg and "guest memory fault (trap_load_access_fault) at 0x40000000" in msg


def test_dram_fault_on_store(tmp_path: Path) -> None:
    p = Program()
    p.config_st(DIM)
    p.cmd("MVOUT", 0x4000_0000, local(0))
    run_expecting(tmp_path, p, r"store access fault .*MVOUT")


def test_loop_ws_too_large(tmp_path: Path) -> None:
    p = Program()
    a = p.put(bytes(64))
    p.loop_ws(8, 8, 8, (0, 0, 0), a, a, None, None, (DIM, DIM, DIM, DIM))
    run_expecting(tmp_path, p, "LOOP_WS .*too large for double-buffering")


def test_compute_operand_in_accumulator(tmp_path: Path) -> None:
    p = Program()
    p.config_ex(ws=True)
    p.preload(0, ACC | 0)
    p.cmd("COMPUTE_PRELOADED", local(ACC | 0), local(0xFFFF_FFFF))
    run_expecting(tmp_path, p, r"COMPUTE \(A\): operand 0x80000000 must be a scratchpad address")


def test_scratchpad_mvout_with_accumulator_bits(tmp_path: Path) -> None:
    # Bit 30 (accumulate) on a scratchpad address used to be masked off silently (row 5 moved out).
    p = Program()
    out = p.out(DIM * DIM)
    p.config_st(DIM)
    p.mvout(out, 0x4000_0005)
    msg = run_expecting(tmp_path, p, r"MVOUT \(funct7=3\)")
    assert "scratchpad address 0x40000005 has accumulator-only bits 30:26 set" in msg


def test_loop_conv_local_rows_are_64_bit(tmp_path: Path) -> None:
    # 1 x 35428 x 60616 output pixels = 2^31 + 20000: the second bias block of 16 channels starts
    # 2^31 + 20000 rows into the accumulator, which a 32-bit sum wrapped to scratchpad row 20000.
    p = Program()
    bias = p.put(np.zeros(32, np.int32))
    orows, ocols = 35428, 60616
    p.cmd("LOOP_CONV_WS_CONFIG_1", (32 << 48) | (16 << 32) | (1 << 16) | 1, orows)
    p.cmd("LOOP_CONV_WS_CONFIG_2", (1 << 48) | (1 << 16), (1 << 48) | 32)
    p.cmd("LOOP_CONV_WS_CONFIG_4", (orows << 48) | 1, ocols)
    p.cmd("LOOP_CONV_WS_CONFIG_6", bias, 0, rel1=True)
    p.cmd("LOOP_CONV_WS", 1 << 8, 1)
    msg = run_expecting(tmp_path, p, r"LOOP_CONV_WS \(funct7=15\)")
    assert "LOOP_CONV_WS: bias row 2147503648 is outside the accumulator (1024 rows)" in msg
