"""Invalid use of the Gemmini model stops the program with one line naming the instruction and
the operand: unknown funct7, local address out of range, DRAM fault, oversized LOOP_WS."""

from __future__ import annotations

from pathlib import Path

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
