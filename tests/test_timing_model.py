"""The Gemmini timing model of the Spike extension (gemmini/spike/timing.cc) on small programs
whose cycle counts are worked out by hand from the model's documented rules
(gemmini/spike/README.md, docs/timing-model.md), the WS mesh formula measured on RTL, the
per-call cost, determinism, and the performance counters that read the model's events.

The constants are set through $GEMMINI_TIMING to round values so the hand computations stay
short: no per-call cost, no core issue time, read latency 10, write latency 5, accumulator read
latency 2. The memory bus stays at 8 bytes a cycle: a 16-byte row takes 2 cycles."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from spike_helpers import ACC, DIM, GARBAGE, REPO, Program

from ivit_gemmini.errors import UserError

SIMPLE = "call_cycles=0,core_cmd_cycles=0,mem_latency=10,write_latency=5,acc_read_latency=2"
FENCE = 98  # the test driver's code for a plain `fence`


def run(prog: Program, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spec: str = SIMPLE):
    monkeypatch.setenv("GEMMINI_TIMING", spec)
    return prog.run(tmp_path)


def modelled(prog: Program, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
             spec: str = SIMPLE) -> int:
    return int(run(prog, tmp_path, monkeypatch, spec).stats["gemmini_cycles_modelled"])


def one_mvin(p: Program) -> None:
    p.mvin(p.alloc(DIM * DIM), 0)  # 16 rows x 16 B from DRAM into scratchpad rows 0..15


def test_one_mvin(tmp_path, monkeypatch):
    p = Program()
    one_mvin(p)
    # 16 rows x 16 B at 8 B/cycle = 32 cycles on the bus, + 10 cycles latency of the last row
    stats = run(p, tmp_path, monkeypatch).stats
    assert stats["gemmini_cycles_modelled"] == 32 + 10
    assert stats["cycles"]["load"] == 32 and stats["cycles"]["execute"] == 0
    assert stats["gemmini_segments"] == 1 and stats["gemmini_wait_cycles_modelled"] == 42


def test_one_mvout(tmp_path, monkeypatch):
    p = Program()
    p.mvout(p.out(DIM * DIM), 0)
    # 32 cycles of bus, scratchpad read 1 cycle, write acknowledged 5 cycles later
    assert modelled(p, tmp_path, monkeypatch) == 32 + 1 + 5


def test_one_preload_and_compute_is_the_mesh_formula(tmp_path, monkeypatch):
    p = Program()
    p.config_ex(ws=True)  # 1 cycle of the execute controller
    p.preload(DIM, ACC)
    p.compute(0, GARBAGE, preloaded=True)
    # weights shift in 1..17, 16 rows stream 17..33, results out 2*DIM-2 = 30 later
    assert modelled(p, tmp_path, monkeypatch) == 1 + DIM + DIM + 2 * DIM - 2


def test_dependency_chain_mvin_compute_mvout(tmp_path, monkeypatch):
    p = Program()
    p.config_ex(ws=True)
    p.mvin(p.alloc(DIM * DIM), 0)  # A: bus 0..32, in the scratchpad at 42
    p.mvin(p.alloc(DIM * DIM), DIM)  # B: bus 32..64 (the load unit is in order), ready at 74
    p.preload(DIM, ACC)
    p.compute(0, GARBAGE, preloaded=True)  # weights 74..90 (wait for B), rows 90..106, out 136
    p.mvout(p.out(DIM * DIM), ACC)  # waits for 136: bus 136..168, acc read +2, ack +5 = 175
    stats = run(p, tmp_path, monkeypatch).stats
    assert stats["gemmini_cycles_modelled"] == 175
    assert (stats["cycles"]["load"], stats["cycles"]["execute"], stats["cycles"]["store"]) == (
        64, 1 + 2 * DIM, 32)


def test_mvin_waits_for_the_compute_reading_the_rows_it_overwrites(tmp_path, monkeypatch):
    p = Program()
    p.config_ex(ws=True)
    p.preload(DIM, ACC)
    p.compute(0, GARBAGE, preloaded=True)  # reads A rows 0..15 during 17..33
    p.mvin(p.alloc(DIM * DIM), 0)  # overwrites them: bus 33..65, + 10 = 75
    assert modelled(p, tmp_path, monkeypatch) == 75


def test_fixed_cost_per_fence_delimited_call(tmp_path, monkeypatch):
    spec = SIMPLE.replace("call_cycles=0,core_cmd_cycles=0", "call_cycles=100,core_cmd_cycles=3")
    p = Program()
    one_mvin(p)
    p.cmd(FENCE)
    one_mvin(p)
    stats = run(p, tmp_path, monkeypatch, spec).stats
    # each call: 100 before its first command, 3 to issue it, then the mvin's 42
    assert stats["gemmini_cycles_modelled"] == 2 * (100 + 3 + 42)
    assert stats["gemmini_segments"] == 2
    assert stats["gemmini_wait_cycles_modelled"] == 2 * 42  # the core's own part is not a wait


def ws_tiles(p: Program, q: int, m: int) -> None:
    """Q weight tiles, each streaming M rows (M > DIM: several computes on the same weights)."""
    for tile in range(q):
        for first in range(0, m, DIM):
            rows = min(DIM, m - first)
            p.preload(4 * DIM + tile * DIM if first == 0 else GARBAGE, GARBAGE)
            p.compute(first, GARBAGE, preloaded=first == 0, a_rows=rows)


@pytest.mark.parametrize(("q", "m"), [(1, 16), (3, 4), (2, 32), (4, 16)])
def test_ws_mesh_formula(tmp_path, monkeypatch, q, m):
    """M + (Q-1) * max(M, DIM) + 3*DIM - 2 cycles for Q weight tiles of M rows (measured on RTL
    within +-2 cycles, allan-chenyi/T2SA_gemmini): the part after a fence, operands loaded."""
    def program(with_tiles: bool) -> Program:
        p = Program()
        p.config_ex(ws=True)
        for block in range(2 + q):  # A (2 blocks) then the Q weight tiles
            p.mvin(p.alloc(DIM * DIM), block * DIM if block < 2 else 4 * DIM + (block - 2) * DIM)
        p.cmd(FENCE)
        if with_tiles:
            ws_tiles(p, q, m)
        return p

    loads = modelled(program(False), tmp_path / "a", monkeypatch)
    total = modelled(program(True), tmp_path / "b", monkeypatch)
    assert total - loads == m + (q - 1) * max(m, DIM) + 3 * DIM - 2


def test_model_is_deterministic_and_reads_no_clock(tmp_path, monkeypatch):
    p = Program()
    p.config_ex(ws=True)
    for block in range(4):
        p.mvin(p.alloc(DIM * DIM), block * DIM)
    ws_tiles(p, 2, 32)
    p.mvout(p.out(DIM * DIM), ACC)
    monkeypatch.delenv("GEMMINI_TIMING", raising=False)
    first = p.run(tmp_path / "a").stats
    second = p.run(tmp_path / "b").stats
    assert first == second and first["gemmini_cycles_modelled"] > 0
    # the figure comes from the command stream only: no wall clock anywhere in the model
    for name in ("timing.cc", "timing.h", "stats.cc"):
        text = (REPO / "gemmini" / "spike" / name).read_text()
        assert not re.search(r"chrono|<ctime>|clock\(|gettimeofday|rdtsc", text), name


def test_counters_read_the_models_events(tmp_path, monkeypatch):
    """gemmini_counter.h's protocol: configure counters, run, read (and snapshot) them."""
    def configure(index: int, code: int, external: bool = False) -> int:
        return (index << 4) | 0x8 | (code << 12) | (int(external) << 31)

    p = Program()
    p.cmd("COUNTER", 0x1)  # reset
    p.cmd("COUNTER", configure(0, 9))  # LOAD_ACTIVE_CYCLE
    p.cmd("COUNTER", configure(1, 24))  # EXE_ACTIVE_CYCLE
    p.cmd("COUNTER", configure(2, 12))  # STORE_ACTIVE_CYCLE
    p.cmd("COUNTER", configure(3, 4, external=True))  # RDMA_BYTES_REC
    p.cmd("COUNTER", configure(4, 5, external=True))  # WDMA_BYTES_SENT
    p.cmd("COUNTER", configure(5, 8))  # LOAD_DMA_WAIT_CYCLE: not modelled, reads 0
    p.config_ex(ws=True)
    p.mvin(p.alloc(DIM * DIM), 0)
    p.mvin(p.alloc(DIM * DIM), DIM)
    p.preload(DIM, ACC)
    p.compute(0, GARBAGE, preloaded=True)
    p.mvout(p.out(DIM * DIM), ACC)
    reads = [len(p.cmds)]
    for index in range(6):
        p.cmd("COUNTER", index << 4)
    p.cmd("COUNTER", 0x4)  # snapshot
    one_mvin(p)  # counters move on, the snapshot does not
    p.cmd("COUNTER", 0 << 4)
    p.cmd("COUNTER", 0x2)  # snapshot off
    p.cmd("COUNTER", 0 << 4)
    result = run(p, tmp_path, monkeypatch)
    rd = {int(m[1]): int(m[2]) for m in re.finditer(r"^RD (\d+) (\d+)$", result.stdout, re.M)}
    values = [rd[reads[0] + i] for i in range(6)]
    events = result.stats["events"]
    assert values == [64, 1 + 2 * DIM, 32, 2 * DIM * DIM, DIM * DIM, 0]
    assert values[:5] == [events["load_busy"] - 32, events["execute_busy"],
                          events["store_busy"], events["dma_read_bytes"] - DIM * DIM,
                          events["dma_write_bytes"]]
    snap, live = rd[reads[0] + 8], rd[reads[0] + 10]
    assert (snap, live) == (64, 96)


def test_bad_timing_override_is_one_line(tmp_path, monkeypatch):
    p = Program()
    one_mvin(p)
    monkeypatch.setenv("GEMMINI_TIMING", "mem_latncy=3")
    with pytest.raises(UserError):
        p.run(tmp_path)


def test_cycles_command_prints_one_json_object(capsys, tmp_path):
    """The command on a 32^3 call: one JSON object, modelled, controllers busy, utilization."""
    from ivit_gemmini.gemmini import cycles

    config = tmp_path / "config.yaml"
    config.write_text("gemmini:\n  dim: 16\n")
    assert cycles.main(["matmul", "32", "32", "32", "--config", str(config)]) == 0
    import json

    out = json.loads(capsys.readouterr().out)
    assert out["cycles"] > out["execute"] >= 8 * DIM  # 8 computes of 16 rows at least
    assert out["load"] > 0 and out["store"] > 0
    assert out["utilization"] == round(32**3 / (DIM * DIM * out["cycles"]), 4)
    assert out["config"]["dim"] == 16 and "modelled" in out["kind"]
    assert cycles.main(["matmul", "0", "4", "4"]) == 1
    assert "must be an integer in 1.." in capsys.readouterr().err


def test_upstream_counter_api_reads_the_stats_events(tmp_path):
    """A C program using gemmini_counter.h's API (reset, configure, snapshot, read) around a
    tiled_matmul_auto reads what the stats JSON reports; unmodelled codes read zero."""
    from spike_helpers import PROGRAMS, extension

    from ivit_gemmini.firmware.toolchain import build_elf
    from ivit_gemmini.simulate.spike import run_spike

    elf = build_elf([PROGRAMS / "counters_matmul.c"], tmp_path / "c.elf",
                    [REPO / "gemmini" / "include", REPO / "gemmini" / "isa"])
    run = run_spike(elf, extension=extension(), timeout_s=60, stats_json=tmp_path / "s.json")
    read = {int(m[1]): int(m[2]) for m in re.finditer(r"^CNT (\d+) (\d+)$", run.stdout, re.M)}
    ev = run.stats["events"]
    assert read == {9: ev["load_busy"], 24: ev["execute_busy"], 12: ev["store_busy"],
                    46 + 4: ev["dma_read_bytes"],
                    46 + 5: ev["dma_write_bytes"], 29: ev["scratchpad_a_wait"], 8: 0}
    assert ev["dma_read_bytes"] == 2 * 64 * 64 and ev["dma_write_bytes"] == 64 * 64
    assert ev["load_busy"] > 0 and ev["execute_busy"] >= 64 * 64 * 64 // (DIM * DIM)


def test_cycles_command_beyond_the_case_runners_2_mib():
    """128 x 3072 x 768 (B alone is 2.25 MiB): runs, and is no faster than the mesh's peak."""
    from ivit_gemmini.gemmini.cycles import MatmulCall, matmul_cycles

    out = matmul_cycles(MatmulCall(128, 3072, 768))
    assert out["cycles"] >= 128 * 3072 * 768 // (DIM * DIM) and 0 < out["utilization"] <= 1
    assert out["events"]["dma_read_bytes"] >= 128 * 3072 + 3072 * 768
