"""The prediction-block parser: complete blocks parse exactly; every broken log is refused."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ivit_gemmini.errors import UserError
from ivit_gemmini.simulate.prediction_log import parse_prediction_log


def ranked(values: list[int], k: int = 5) -> list[int]:
    # Independent of the code under test: sort pairs (-logit, class).
    return [c for _, c in sorted((-v, c) for c, v in enumerate(values))][:k]


def block(values: list[int], per_line: int = 8, top: list[int] | None = None,
          done: str = "IVIT-DONE status=0", end: bool = True) -> str:
    n = len(values)
    lines = [f"IVIT-BEGIN version=1 classes={n} input_bytes=192"]
    for first in range(0, n, per_line):
        lines.append(f"IVIT-LOGITS {first} " + " ".join(map(str, values[first:first + per_line])))
    top = ranked(values) if top is None else top
    lines.append(f"Top-{len(top)} Predictions:")
    lines += [f"  {r + 1}. Class {c}" for r, c in enumerate(top)]
    lines += ["IVIT-STEP 0 kind=gemmini cycles=10 instret=11 name=gemmini_matmul_qkv",
              "IVIT-STEP 1 kind=core cycles=20 instret=21 name=fused_shiftmax"]
    lines += ["IVIT-COUNTER kind=gemmini calls=3 cycles=10 instret=11",
              "IVIT-COUNTER kind=core calls=4 cycles=20 instret=21",
              "IVIT-COUNTER kind=total calls=1 cycles=40 instret=40"]
    if end:
        lines.append(f"IVIT-END logits={n}")
    if done:
        lines.append(done)
    return "\n".join(lines) + "\n"


VALUES = [5, -3, 2**40, 7, 7, -(2**47), 0, 12, 1, 7, 3]


def test_complete_block_parses_exactly() -> None:
    log = parse_prediction_log("bbl noise\n" + block(VALUES), num_classes=len(VALUES))
    assert log.logits.dtype == np.int64
    assert log.logits.tolist() == VALUES
    assert log.top == [2, 7, 3, 4, 9]  # ties at 7 ranked by class index
    assert log.input_bytes == 192
    assert log.counters["gemmini"].instret == 11
    assert log.counters["core"].calls == 4
    assert log.counters["total"].cycles == 40
    assert [(s.name, s.kind, s.instret) for s in log.steps] == [
        ("gemmini_matmul_qkv", "gemmini", 11), ("fused_shiftmax", "core", 21)]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=40),
       st.integers(1, 9))
def test_roundtrip_any_int64_logits(values: list[int], per_line: int) -> None:
    log = parse_prediction_log(block(values, per_line=per_line))
    assert log.logits.tolist() == values
    assert log.top == ranked(values)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hello\nIVIT-DONE status=0\n", "no prediction block"),
        (block(VALUES, end=False, done=""), "truncated"),
        (block(VALUES, done=""), "no IVIT-DONE"),
        (block(VALUES, done="IVIT-DONE status=3"), "status 3"),
        (block(VALUES)[:200], "truncated"),
        ("IVIT-BEGIN version=1 classes=3 input_bytes=1\nIVIT-TRAP mcause=0x2 mepc=0x80001234 "
         "mtval=0x0\n", "trapped"),
        ("IVIT-TRAP mcause=0x7 mepc=0x80001234 mtval=0x80805ff8\nIVIT-TRAP-WHY stack overflow: "
         "raise firmware.stack_kb\n", r"trapped \(mcause 0x7 .*\): stack overflow: raise "
                                      r"firmware.stack_kb"),
        ("IVIT-ERROR the model returned status 7\nIVIT-DONE status=3\n", "returned status 7"),
        ("gemmini: error: mvin: local address 0x99999 out of range\n", "Gemmini model"),
        (block(VALUES, top=[2, 7, 4, 3, 9]), "disagrees"),
        (block(VALUES, top=[2, 7, 3]), "incomplete top-k"),
        (block(VALUES) + block(VALUES), "2 prediction blocks"),
        (block(VALUES).replace("IVIT-LOGITS 8 ", "IVIT-LOGITS 9 "), "missing"),
        (block(VALUES).replace("IVIT-LOGITS 8 ", "IVIT-LOGITS 7 "), "printed twice"),
        (block(VALUES).replace("version=1", "version=2"), "version"),
        (block(VALUES).replace("IVIT-STEP 1 ", "IVIT-STEP 2 "), "step 2 out of order"),
        (block(VALUES).replace("IVIT-COUNTER kind=total", "IVIT-COUNTER kind=other"), "total"),
    ],
)
def test_broken_logs_are_refused(text: str, message: str) -> None:
    with pytest.raises(UserError, match=message) as info:
        parse_prediction_log(text, source="run.log")
    assert "\n" not in str(info.value)
    assert str(info.value).startswith("run.log: ")


def test_wrong_class_count_is_refused() -> None:
    with pytest.raises(UserError, match="11 logits but the model has 1000"):
        parse_prediction_log(block(VALUES), num_classes=1000)
