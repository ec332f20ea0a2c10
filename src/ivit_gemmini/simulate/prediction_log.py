"""Parsing the firmware's prediction block from a simulator's stdout (Spike or Verilator).

The block is printed by gemmini/firmware/prediction_block.c (its header documents the format).
A log is accepted only when it is complete and consistent: one block from IVIT-BEGIN to
IVIT-END, every logit index present once, the printed top-5 equal to the top-5 of the printed
logits, and the runtime's `IVIT-DONE status=0` after it. Anything else is a `UserError` naming
what is missing, so a crashed, cut or corrupted run can never become a row of a table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ivit_gemmini.errors import UserError
from ivit_gemmini.evaluate.topk import topk

BLOCK_VERSION = 1
TOP_K = 5  # IVIT_TOPK of prediction_block.h
_BEGIN = re.compile(r"^IVIT-BEGIN version=(\d+) classes=(\d+) input_bytes=(\d+)$")
_LOGITS = re.compile(r"^IVIT-LOGITS (\d+)((?: -?\d+)+)$")
_TOPK_HEADER = re.compile(r"^Top-(\d+) Predictions:$")
_RANK = re.compile(r"^(\d+)\. Class (\d+)$")
_COUNTER = re.compile(r"^IVIT-COUNTER kind=(\S+) calls=(\d+) cycles=(\d+) instret=(\d+)$")
_STEP = re.compile(r"^IVIT-STEP (\d+) kind=(\S+) cycles=(\d+) instret=(\d+) name=(\S+)$")
_END = re.compile(r"^IVIT-END logits=(\d+)$")
_DONE = re.compile(r"^IVIT-DONE status=(-?\d+)$")
_TRAP = re.compile(r"IVIT-TRAP mcause=(0x[0-9a-fA-F]+) mepc=(0x[0-9a-fA-F]+)")
_TRAP_WHY = "IVIT-TRAP-WHY "  # the runtime's explanation of an access fault (trap.c)
_ERROR = re.compile(r"^IVIT-ERROR (.*)$")
_GEMMINI_ERROR = re.compile(r"^gemmini: error: (.*)$")


@dataclass(frozen=True)
class KernelCounter:
    """Cycles and retired instructions of one kind of work (gemmini, core, total)."""

    kind: str
    calls: int
    cycles: int
    instret: int


@dataclass(frozen=True)
class StepCounter:
    """Cycles and retired instructions of one step (one kernel call) of the network."""

    name: str
    kind: str
    cycles: int
    instret: int


@dataclass(frozen=True)
class PredictionLog:
    """The content of one complete prediction block."""

    logits: np.ndarray  # int64, one per class
    top: list[int]  # the top-k the firmware printed (checked against `logits`)
    input_bytes: int
    counters: dict[str, KernelCounter] = field(default_factory=dict)
    steps: list[StepCounter] = field(default_factory=list)

    def counters_json(self) -> dict[str, dict[str, int]]:
        return {k: {"calls": c.calls, "cycles": c.cycles, "instret": c.instret}
                for k, c in self.counters.items()}

    def steps_json(self) -> list[dict[str, object]]:
        return [{"name": s.name, "kind": s.kind, "cycles": s.cycles, "instret": s.instret}
                for s in self.steps]


def _fail(source: str, what: str) -> UserError:
    return UserError(f"{source}: {what}")


def _check_failures(lines: list[str], source: str) -> None:
    """Traps and reported errors first: they explain a missing block better than its absence."""
    for line in lines:
        if trap := _TRAP.search(line):
            why = next((ln.removeprefix(_TRAP_WHY).strip() for ln in lines
                        if ln.startswith(_TRAP_WHY)), "see the log")
            raise _fail(source, f"the program trapped (mcause {trap.group(1)} at pc "
                                f"{trap.group(2)}): {why}")
        if err := _GEMMINI_ERROR.match(line):
            raise _fail(source, f"the Gemmini model stopped the program: {err.group(1)}")
        if err := _ERROR.match(line):
            raise _fail(source, f"the firmware reported an error: {err.group(1)}")


def parse_prediction_log(text: str, *, source: str = "simulator log",
                         num_classes: int | None = None) -> PredictionLog:
    """Parse the prediction block of `text`; `source` names the log in error messages."""
    lines = [ln.strip() for ln in text.splitlines()]
    _check_failures(lines, source)
    begins = [i for i, ln in enumerate(lines) if ln.startswith("IVIT-BEGIN")]
    if not begins:
        raise _fail(source, "no prediction block (no IVIT-BEGIN line): the program ended before "
                            "printing its results; see the log")
    if len(begins) > 1:
        raise _fail(source, f"{len(begins)} prediction blocks (IVIT-BEGIN lines), expected one")
    head = _BEGIN.match(lines[begins[0]])
    if head is None or int(head.group(1)) != BLOCK_VERSION:
        raise _fail(source, f"unreadable block header {lines[begins[0]]!r} (expected version "
                            f"{BLOCK_VERSION}): rebuild the firmware")
    classes, input_bytes = int(head.group(2)), int(head.group(3))
    if num_classes is not None and classes != num_classes:
        raise _fail(source, f"the firmware printed {classes} logits but the model has "
                            f"{num_classes} classes: rebuild the firmware for this model")

    values: dict[int, int] = {}
    top: list[int] = []
    top_k: int | None = None
    counters: dict[str, KernelCounter] = {}
    steps: list[StepCounter] = []
    end_at: int | None = None
    for i in range(begins[0] + 1, len(lines)):
        line = lines[i]
        if m := _LOGITS.match(line):
            first = int(m.group(1))
            for offset, tok in enumerate(m.group(2).split()):
                if first + offset in values:
                    raise _fail(source, f"logit {first + offset} printed twice: corrupt log")
                values[first + offset] = int(tok)
        elif m := _TOPK_HEADER.match(line):
            top_k = int(m.group(1))
        elif m := _RANK.match(line):
            if int(m.group(1)) != len(top) + 1:
                raise _fail(source, f"top-k rank {m.group(1)} out of order: corrupt log")
            top.append(int(m.group(2)))
        elif m := _STEP.match(line):
            if int(m.group(1)) != len(steps):
                raise _fail(source, f"step {m.group(1)} out of order: corrupt log")
            steps.append(StepCounter(m.group(5), m.group(2), int(m.group(3)), int(m.group(4))))
        elif m := _COUNTER.match(line):
            kind = m.group(1)
            counters[kind] = KernelCounter(kind, *(int(m.group(g)) for g in (2, 3, 4)))
        elif m := _END.match(line):
            if int(m.group(1)) != classes:
                raise _fail(source, f"block end says {m.group(1)} logits, header {classes}")
            end_at = i
            break
    if end_at is None:
        raise _fail(source, "truncated prediction block (no IVIT-END line): the run was cut off "
                            "(timeout or instruction limit?); see the log")
    done = next((m for ln in lines[end_at + 1:] if (m := _DONE.match(ln))), None)
    if done is None:
        raise _fail(source, "no IVIT-DONE marker after the prediction block: the program did not "
                            "finish; see the log")
    if int(done.group(1)) != 0:
        raise _fail(source, f"the program ended with status {done.group(1)}")

    if sorted(values) != list(range(classes)):
        missing = sorted(set(range(classes)) - set(values))[:5]
        raise _fail(source, f"{classes - len(set(values) & set(range(classes)))} logits missing "
                            f"or out of range (first missing: {missing}): corrupt log")
    if any(not -(2**63) <= v < 2**63 for v in values.values()):
        raise _fail(source, "a logit does not fit int64: corrupt log")
    logits = np.array([values[c] for c in range(classes)], dtype=np.int64)
    want = min(TOP_K, classes)
    if top_k != want or len(top) != want:
        raise _fail(source, f"incomplete top-k list ({len(top)} ranks under a Top-{top_k} header, "
                            f"expected {want}): corrupt log")
    expected = topk(logits, len(top))
    if top != expected:
        raise _fail(source, f"printed top-{len(top)} {top} disagrees with the printed logits' "
                            f"top-{len(top)} {expected}: corrupt log")
    if "total" not in counters:
        raise _fail(source, "no IVIT-COUNTER kind=total line: rebuild the firmware")
    return PredictionLog(logits=logits, top=top, input_bytes=input_bytes, counters=counters,
                         steps=steps)
