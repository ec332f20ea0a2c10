"""The one ISA table: the committed C header equals a fresh generation, and the Spike model
decodes every code to the name the table gives it."""

from __future__ import annotations

import json
from pathlib import Path

from spike_helpers import REPO, Program

from ivit_gemmini.gemmini.isa import COMMANDS, CONFIG_KINDS, commands_header_text

HEADER = REPO / "gemmini" / "isa" / "gemmini_commands.h"


def test_committed_header_matches_generation() -> None:
    assert HEADER.read_text(encoding="utf-8") == commands_header_text()


def test_table_has_upstream_codes() -> None:
    # Independent expectation: upstream gemmini-rocc-tests include/gemmini.h.
    expected = {
        "CONFIG": 0,
        "MVIN2": 1,
        "MVIN": 2,
        "MVOUT": 3,
        "COMPUTE_PRELOADED": 4,
        "COMPUTE_ACCUMULATE": 5,
        "PRELOAD": 6,
        "FLUSH": 7,
        "LOOP_WS": 8,
        "LOOP_WS_CONFIG_BOUNDS": 9,
        "LOOP_WS_CONFIG_ADDRS_AB": 10,
        "LOOP_WS_CONFIG_ADDRS_DC": 11,
        "LOOP_WS_CONFIG_STRIDES_AB": 12,
        "LOOP_WS_CONFIG_STRIDES_DC": 13,
        "MVIN3": 14,
        "LOOP_CONV_WS": 15,
        "LOOP_CONV_WS_CONFIG_1": 16,
        "LOOP_CONV_WS_CONFIG_2": 17,
        "LOOP_CONV_WS_CONFIG_3": 18,
        "LOOP_CONV_WS_CONFIG_4": 19,
        "LOOP_CONV_WS_CONFIG_5": 20,
        "LOOP_CONV_WS_CONFIG_6": 21,
        "CLKGATE_EN": 22,
        "COUNTER": 126,
    }
    assert {name: code for name, (code, _) in COMMANDS.items()} == expected
    assert CONFIG_KINDS == {"CONFIG_EX": 0, "CONFIG_LD": 1, "CONFIG_ST": 2, "CONFIG_BERT": 3}


def test_header_defines_every_code() -> None:
    text = HEADER.read_text(encoding="utf-8")
    for name, (code, _) in COMMANDS.items():
        assert f"#define k_{name} {code} " in text
        assert f"  X({name}, {code}) \\" in text


def test_model_decodes_table_codes(tmp_path: Path) -> None:
    """Issue every command that is harmless without operands by its numeric code from the
    Python table; the model's statistics name each by its own decode."""
    p = Program()
    harmless = [n for n in COMMANDS if n.startswith(("LOOP_WS_CONFIG", "LOOP_CONV_WS_CONFIG"))]
    harmless += ["FLUSH", "CLKGATE_EN", "COUNTER"]
    for i, name in enumerate(harmless):
        for _ in range(i + 1):  # distinct counts catch a swapped pair
            p.cmd(COMMANDS[name][0], 0, 0)
    run = p.run(tmp_path)
    counts = json.loads((tmp_path / "stats.json").read_text())["commands"]
    assert counts == {name: i + 1 for i, name in enumerate(harmless)}
    assert run.stats["commands"] == counts
