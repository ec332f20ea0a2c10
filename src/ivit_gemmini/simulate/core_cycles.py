"""Core cycles from what the core executed: Spike's PC histogram joined with the ELF's
disassembly, turned into cycles by a model of an in-order, single-issue Rocket pipeline.

Counted (exact): `spike -g` prints how often every PC retired; `objdump -d` says which
instruction and which function each PC is. Modelled: the cycles those instructions take on a
Rocket core (`RocketModel`: every constant and its source is in docs/core-cycle-model.md),
with L1/L2 miss rates from Spike's own cache models (`--ic/--dc/--l2`) of the same run.

One profiling run per model and Gemmini configuration (rule `profile_core_cycles`) gives each
kernel's modelled cycles per retired instruction (CPI). An image's core cycles are its own
per-kernel instruction counts (the firmware's minstret counters, in its stats JSON) times those
CPIs, so per-image Spike runs stay fast; `image_cycles` is the one place that joins them with the
Gemmini timing model's cycles.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ivit_gemmini.errors import UserError
from ivit_gemmini.firmware.toolchain import DEFAULT_STACK_KB
from ivit_gemmini.io import atomic_write_text
from ivit_gemmini.simulate import spike
from ivit_gemmini.simulate.prediction_log import PredictionLog, parse_prediction_log
from ivit_gemmini.simulate.spike_stage import write_run_log

OBJDUMP = "riscv64-unknown-elf-objdump"
KERNEL_PREFIX = "__tvm_ffi_"  # tvm_adapter.packed_symbol: one function per kernel (step name)

# --- the workflow's files (workflow/rules/profile.smk) --------------------------------------------
def profile_files(config: Mapping[str, Any], build_config: str) -> list[str]:
    """The core-cycle profile of the current model and Gemmini configuration ([] without spike)."""
    if "spike" not in config["backends"]:
        return []
    return [f"results/profile/{build_config}/core_cycles.json"]


def cycles_tables(config: Mapping[str, Any]) -> list[str]:
    """The per-image cycle tables `rule all` builds when spike is a backend."""
    if "spike" not in config["backends"]:
        return []
    return ["results/tables/cycles.md", "results/tables/cycles.csv"]


# --- what the core waits for: the one place that reads the Gemmini timing model's figure ------
# The timing model's single modelled cycle count in the extension's stats (stats["gemmini"]):
# `gemmini_cycles_modelled`; runs made before that model carry `cycles.overlapped`.
GEMMINI_CYCLES_KEYS = (("gemmini_cycles_modelled",), ("cycles", "overlapped"))
# The part of them the modelled core spends waiting (at fences, for a full reservation station):
# what adds to the core's own cycles. Older stats have no such key: all Gemmini cycles count.
GEMMINI_WAIT_KEYS = (("gemmini_wait_cycles_modelled",), *GEMMINI_CYCLES_KEYS)


def gemmini_cycles(stats: Mapping[str, Any], keys: Sequence[Sequence[str]] = GEMMINI_CYCLES_KEYS
                   ) -> int:
    """The modelled Gemmini cycles of one run, from its stats JSON (0 without Gemmini)."""
    for path in keys:
        node: Any = stats.get("gemmini") or {}
        for key in path:
            node = node.get(key) if isinstance(node, Mapping) else None
        if isinstance(node, int):
            return node
    return 0


# --- the pipeline model's constants ------------------------------------------------------------
@dataclass(frozen=True)
class RocketModel:
    """Rocket (Chipyard's default big core) timing constants, in core cycles. Sources: see
    docs/core-cycle-model.md; these are upper bounds where the hardware has an early-out."""

    load_use: int = 1  # word/double load, dependent next instruction (bypass from MEM)
    load_use_subword: int = 2  # byte/half load: no fast bypass (mem_reg_slow_bypass)
    mul: int = 10  # MulDiv mulUnroll=8: 64/8 iterations + request + response
    mulw: int = 6  # 32-bit mul starts at iteration 4 of 8 (fastMulW)
    div: int = 67  # 64 + 1 iterations + request + response (divEarlyOut ignored)
    divw: int = 35  # 32 + 1 iterations + request + response
    taken: int = 1  # taken branch / jump redirected in fetch stage 2 (BTB miss case)
    mispredict: int = 3  # branch resolved in the memory stage (take_pc_mem): 3 killed stages
    l2_hit: int = 20  # L1 miss served by the L2: L2 pipeline + 8 beats of 8 B (assumed)
    l2_miss: int = 40  # extra for an L2 miss: WithInclusiveCache outerLatencyCycles
    writeback: int = 8  # a dirty 64-B line to the L2: 8 beats of 8 B (blocking D$, nMSHRs=0)


# Spike's cache options for Rocket's default L1s (64 sets x 4 ways x 64 B = 16 KiB) and the
# default Chipyard L2 (WithInclusiveCache: 512 KiB, 8 ways, 64 B lines = 1024 sets).
SPIKE_CACHE_ARGS = ("--ic=64:4:64", "--dc=64:4:64", "--l2=1024:8:64")

LOADS = {"lb", "lh", "lw", "ld", "lbu", "lhu", "lwu", "flw", "fld", "c.lw", "c.ld", "c.lwsp",
         "c.ldsp", "c.fld", "c.fldsp", "c.flw", "c.flwsp"}
SUBWORD_LOADS = {"lb", "lh", "lbu", "lhu"}
STORES = {"sb", "sh", "sw", "sd", "fsw", "fsd", "c.sw", "c.sd", "c.swsp", "c.sdsp", "c.fsd",
          "c.fsdsp", "c.fsw", "c.fswsp"}
MULS = {"mul": "mul", "mulh": "mul", "mulhu": "mul", "mulhsu": "mul", "mulw": "mulw"}
DIVS = {"div": "div", "divu": "div", "rem": "div", "remu": "div", "divw": "divw",
        "divuw": "divw", "remw": "divw", "remuw": "divw"}
BRANCHES = {"beq", "bne", "blt", "bge", "bltu", "bgeu", "c.beqz", "c.bnez"}
JUMPS = {"jal", "c.j", "c.jal"}
INDIRECT = {"jalr", "c.jr", "c.jalr"}
# Compressed two-address forms: the destination is also a source.
TWO_ADDRESS = {"c.addi", "c.addiw", "c.addi16sp", "c.slli", "c.srli", "c.srai", "c.andi",
               "c.add", "c.addw", "c.sub", "c.subw", "c.and", "c.or", "c.xor"}
NO_DEST = STORES | BRANCHES | {"c.j", "c.jr", "fence", "fence.i", "ecall", "ebreak", "mret",
                               "wfi", "c.nop", "c.ebreak", "sfence.vma"}
_REG = re.compile(r"\b(zero|ra|sp|gp|tp|fp|t[0-6]|s1[01]|s[0-9]|a[0-7]|f[tsa]1[01]|f[tsa][0-9])\b")
_LINE = re.compile(r"^\s*([0-9a-f]+):\s+([0-9a-f]+)\s+(\S+)\s*([^#<]*)")
_FUNC = re.compile(r"^([0-9a-f]+) <(.+)>:$")
_ABI = ["zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", *[f"a{i}" for i in range(8)],
        *[f"s{i}" for i in range(2, 12)], "t3", "t4", "t5", "t6"]


@dataclass(frozen=True)
class Insn:
    pc: int
    size: int
    op: str  # canonical mnemonic (objdump -M no-aliases); "rocc" for custom-3 (Gemmini)
    dest: str | None
    sources: frozenset[str]
    function: str

    @property
    def kind(self) -> str:
        if self.op in LOADS:
            return "load"
        if self.op in STORES:
            return "store"
        if self.op in MULS:
            return "mul"
        if self.op in DIVS:
            return "div"
        if self.op in BRANCHES:
            return "branch"
        if self.op in JUMPS or self.op in INDIRECT:
            return "jump"
        if self.op == "rocc":
            return "gemmini"
        if self.op.startswith("fence"):
            return "fence"
        if self.op.startswith("csr"):
            return "csr"
        if self.op.startswith("f") or self.op.startswith("c.f"):
            return "fp"
        return "alu"

    @property
    def control(self) -> bool:
        return self.kind in ("branch", "jump")


def _rocc(word: int, pc: int, function: str) -> Insn:
    """A custom-3 (Gemmini) instruction: rd/rs1/rs2 used when its xd/xs1/xs2 bits are set."""
    rd, rs1, rs2 = (word >> 7) & 31, (word >> 15) & 31, (word >> 20) & 31
    xd, xs1, xs2 = (word >> 14) & 1, (word >> 13) & 1, (word >> 12) & 1
    sources = {_ABI[r] for r, on in ((rs1, xs1), (rs2, xs2)) if on}
    return Insn(pc, 4, "rocc", _ABI[rd] if xd and rd else None, frozenset(sources), function)


def parse_disassembly(text: str) -> dict[int, Insn]:
    """`objdump -d -M no-aliases` output -> instruction per PC (data words in text skipped)."""
    out: dict[int, Insn] = {}
    function = "?"
    for line in text.splitlines():
        if m := _FUNC.match(line):
            function = m.group(2)
            continue
        m = _LINE.match(line)
        if m is None:
            continue
        pc, raw, op, operands = int(m.group(1), 16), m.group(2), m.group(3), m.group(4)
        size = len(raw) // 2
        if op in (".4byte", ".word") and size == 4 and int(raw, 16) & 0x7F == 0x7B:
            out[pc] = _rocc(int(raw, 16), pc, function)
            continue
        if op.startswith(".") or op in ("c.unimp", "unimp"):
            continue
        regs = _REG.findall(operands)
        writes = op not in NO_DEST and bool(regs)
        if op == "c.jalr":
            dest, sources = "ra", set(regs)
        elif writes:
            dest, sources = regs[0], set(regs[1:]) | ({regs[0]} if op in TWO_ADDRESS else set())
        else:
            dest, sources = None, set(regs)
        out[pc] = Insn(pc, size, op, None if dest == "zero" else dest, frozenset(sources),
                       function)
    return out


def disassemble(elf: Path) -> dict[int, Insn]:
    try:
        proc = subprocess.run([OBJDUMP, "-d", "-M", "no-aliases", str(elf)], capture_output=True,
                              text=True, check=False)
    except FileNotFoundError as exc:
        raise UserError(f"{OBJDUMP} not found: install the Debian package "
                        "binutils-riscv64-unknown-elf") from exc
    if proc.returncode != 0:
        raise UserError(f"{OBJDUMP} could not read {elf}: {proc.stderr.strip()[:200]}")
    return parse_disassembly(proc.stdout)


# --- Spike's outputs ----------------------------------------------------------------------------
_HIST = re.compile(r"^([0-9a-f]+) (\d+)$", re.MULTILINE)
_CACHE = re.compile(r"^(I\$|D\$|L2\$) ([A-Za-z ]+?):\s+([0-9.]+)%?\s*$", re.MULTILINE)


def parse_histogram(stderr: str) -> dict[int, int]:
    """Spike's `-g` histogram (stderr: "PC Histogram size:N" then "<hex pc> <count>" lines)."""
    if "PC Histogram size:" not in stderr:
        raise UserError("spike printed no PC histogram: run it with -g")
    text = stderr.split("PC Histogram size:", 1)[1]
    return {int(pc, 16): int(n) for pc, n in _HIST.findall(text)}


def parse_cache_stats(stdout: str) -> dict[str, dict[str, float]]:
    """Spike's cache model statistics: {"I$"|"D$"|"L2$": {"Read Misses": ..., ...}}."""
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for cache, key, value in _CACHE.findall(stdout):
        out[cache][key] = float(value)
    return dict(out)


# --- the pipeline model -------------------------------------------------------------------------
@dataclass
class Mix:
    """Counted instructions of one function (or kernel) by kind, and modelled stall cycles."""

    instructions: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    taken: int = 0
    mispredicts: int = 0
    stalls: Counter[str] = field(default_factory=Counter)

    @property
    def cycles(self) -> float:
        return self.instructions + sum(self.stalls.values())

    def add(self, other: Mix) -> None:
        self.instructions += other.instructions
        self.kinds.update(other.kinds)
        self.taken += other.taken
        self.mispredicts += other.mispredicts
        self.stalls.update(other.stalls)

    def to_json(self) -> dict[str, Any]:
        return {"instructions": self.instructions, "kinds": dict(sorted(self.kinds.items())),
                "taken": self.taken, "mispredicts": self.mispredicts,
                "stalls": {k: round(v, 1) for k, v in sorted(self.stalls.items())},
                "cycles": round(self.cycles, 1)}


def _successors(insns: Mapping[int, Insn], insn: Insn, limit: int) -> list[Insn]:
    """The next `limit` instructions in address order within the function, up to and including
    the first control-flow instruction (what follows it is not static)."""
    out: list[Insn] = []
    pc = insn.pc + insn.size
    while len(out) < limit and (nxt := insns.get(pc)) is not None and nxt.function == insn.function:
        out.append(nxt)
        if nxt.control:
            break
        pc += nxt.size
    return out


def _use_stall(insns: Mapping[int, Insn], insn: Insn, latency: int, unit_busy: bool) -> int:
    """Cycles a result of `latency` stalls its first consumer in straight-line code. A
    control-flow instruction that does not read it is assumed to be followed by a consumer."""
    if insn.dest is None:
        return 0
    for d, nxt in enumerate(_successors(insns, insn, latency - 1), start=1):
        if insn.dest in nxt.sources or (unit_busy and nxt.kind in ("mul", "div")):
            return latency - d
        if nxt.control:
            return max(0, latency - d - 1)
    return 0


def _cache_rates(cache: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    def rate(c: str, misses: str, accesses: str) -> float:
        n = cache.get(c, {}).get(accesses, 0.0)
        return cache.get(c, {}).get(misses, 0.0) / n if n else 0.0

    l2 = cache.get("L2$", {})
    l2_acc = l2.get("Read Accesses", 0.0) + l2.get("Write Accesses", 0.0)
    l2_miss = l2.get("Read Misses", 0.0) + l2.get("Write Misses", 0.0)
    d = cache.get("D$", {})
    d_miss = d.get("Read Misses", 0.0) + d.get("Write Misses", 0.0)
    return {"icache": rate("I$", "Read Misses", "Read Accesses"),
            "dcache_read": rate("D$", "Read Misses", "Read Accesses"),
            "dcache_write": rate("D$", "Write Misses", "Write Accesses"),
            "writebacks_per_miss": d.get("Writebacks", 0.0) / d_miss if d_miss else 0.0,
            "l2_miss": l2_miss / l2_acc if l2_acc else 0.0}


def retired_counts(insns: Mapping[int, Insn], histogram: Mapping[int, int]) -> dict[int, int]:
    """Retired instructions per PC. Spike's histogram counts a PC each time it is executed, and
    Spike executes every CSR instruction twice: the first attempt ends with serialize() (see its
    csrr* handlers), which restarts the instruction. So CSR counts are halved."""
    return {pc: n // 2 if (i := insns.get(pc)) is not None and i.kind == "csr" else n
            for pc, n in histogram.items()}


def model_cycles(insns: Mapping[int, Insn], histogram: Mapping[int, int],
                 cache: Mapping[str, Mapping[str, float]], model: RocketModel = RocketModel()
                 ) -> dict[str, Mix]:
    """Per function: the counted instruction mix and the modelled stalls of `model`.

    Cache misses are Spike's whole-run miss rates applied to each function's fetches, loads
    and stores (Spike counts them per run, not per PC)."""
    rates = _cache_rates(cache)
    miss_cost = model.l2_hit + rates["l2_miss"] * model.l2_miss \
        + rates["writebacks_per_miss"] * model.writeback
    latency = {"mul": model.mul, "mulw": model.mulw, "div": model.div, "divw": model.divw}
    mixes: dict[str, Mix] = defaultdict(Mix)
    retired = retired_counts(insns, histogram)
    for pc, n in retired.items():
        insn = insns.get(pc)
        if insn is None:  # Spike's boot ROM, or code outside the ELF's .text
            m = mixes["(outside the ELF)"]
            m.instructions += n
            m.kinds["other"] += n
            continue
        m = mixes[insn.function]
        m.instructions += n
        m.kinds[insn.kind] += n
        m.stalls["icache"] += n * rates["icache"] * miss_cost
        if insn.kind == "load":
            subword = insn.op in SUBWORD_LOADS
            nxt = _successors(insns, insn, 2)
            if insn.dest is not None and nxt and insn.dest in nxt[0].sources:
                m.stalls["load_use"] += n * (model.load_use_subword if subword
                                             else model.load_use)
            elif (subword and insn.dest is not None and len(nxt) == 2 and not nxt[0].control
                  and insn.dest in nxt[1].sources):
                m.stalls["load_use"] += n * (model.load_use_subword - 1)
            m.stalls["dcache"] += n * rates["dcache_read"] * miss_cost
        elif insn.kind == "store":
            m.stalls["dcache"] += n * rates["dcache_write"] * miss_cost
        elif insn.kind in ("mul", "div"):
            unit = MULS.get(insn.op) or DIVS[insn.op]
            m.stalls[insn.kind] += n * _use_stall(insns, insn, latency[unit], unit_busy=True)
        elif insn.kind == "branch":
            # Not-taken outcomes fall through, so they are at most the next PC's count.
            taken = max(0, n - retired.get(pc + insn.size, 0))
            missed = min(taken, n - taken)  # a 2-bit counter misses about once per loop exit
            m.taken += taken
            m.mispredicts += missed
            m.stalls["branch"] += taken * model.taken + missed * model.mispredict
        elif insn.kind == "jump":
            m.taken += n
            returns = insn.op in ("jalr", "c.jr") and insn.dest is None and "ra" in insn.sources
            indirect = insn.op in INDIRECT and not returns  # BTB target may be stale
            m.mispredicts += n if indirect else 0
            m.stalls["branch"] += n * (model.mispredict if indirect else model.taken)
    return dict(mixes)


def mix_distance(a: Mapping[str, Mix], b: Mapping[str, Mix]) -> float:
    """Relative L1 distance of two instruction mixes (per function and kind), 0 = identical."""
    keys = {(f, k) for mixes in (a, b) for f, m in mixes.items() for k in m.kinds}

    def get(mixes: Mapping[str, Mix], f: str, k: str) -> int:
        return mixes[f].kinds.get(k, 0) if f in mixes else 0

    total = sum(m.instructions for m in a.values())
    diff = sum(abs(get(a, f, k) - get(b, f, k)) for f, k in keys)
    return diff / total if total else 0.0


# --- the profiling run and the per-kernel CPIs ---------------------------------------------------
@dataclass
class Profile:
    """What one histogram run gives: per-function mixes, per-kernel CPIs, the run's counters."""

    functions: dict[str, Mix]
    kernel_cpi: dict[str, float]  # step name -> modelled core cycles per retired instruction
    glue_cpi: float  # CPI of instructions in no kernel function (driver calls, call glue)
    cache: dict[str, dict[str, float]]
    histogram_total: int
    model: RocketModel = field(default_factory=RocketModel)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"model": asdict(self.model), "spike_cache_args": list(SPIKE_CACHE_ARGS),
                "cache": self.cache, "histogram_instructions": self.histogram_total,
                "glue_cpi": round(self.glue_cpi, 4),
                "kernel_cpi": {k: round(v, 4) for k, v in sorted(self.kernel_cpi.items())},
                "functions": {f: m.to_json() for f, m in sorted(self.functions.items())},
                **self.extra}


def kernel_cpis(functions: Mapping[str, Mix], steps: Sequence[Mapping[str, Any]]
                ) -> tuple[dict[str, float], float]:
    """Per step name: modelled cycles / retired instructions of its steps (firmware counters).

    A kernel's own function (`__tvm_ffi_<name>`) is counted exactly; the rest of its steps'
    instructions (shared helpers such as the Gemmini driver, the call glue) get the CPI of all
    functions that are no kernel's, weighted by their counts ("glue")."""
    glue = Mix()
    for name, m in functions.items():
        if not name.startswith(KERNEL_PREFIX) and name != "(outside the ELF)":
            glue.add(m)
    glue_cpi = glue.cycles / glue.instructions if glue.instructions else 1.0
    instret: Counter[str] = Counter()
    for s in steps:
        instret[str(s["name"])] += int(s["instret"])
    cpi = {}
    for name, n in instret.items():
        own = functions.get(KERNEL_PREFIX + name, Mix())
        rest = max(0, n - own.instructions)
        cpi[name] = (own.cycles + rest * glue_cpi) / n if n else 1.0
    return cpi, glue_cpi


def profile_command(elf: Path, extension: Path | None,
                    memory_mb: int = spike.DEFAULT_MEMORY_MB) -> list[str]:
    cmd = spike.spike_command(elf, extension, memory_mb=memory_mb)
    return [cmd[0], "-g", *SPIKE_CACHE_ARGS, *cmd[1:]]


def run_profile(elf: Path, extension: Path | None, *, timeout_s: float, log_path: Path,
                num_classes: int | None = None, memory_mb: int = spike.DEFAULT_MEMORY_MB
                ) -> tuple[Profile, PredictionLog]:
    """Run `elf` on Spike with the histogram and cache models; return the profile and the
    parsed prediction block (its logits must equal the plain run's)."""
    cmd = profile_command(elf, extension, memory_mb)
    start = time.monotonic()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise UserError(f"the profiling run of {elf.name} timed out after {timeout_s:g} s: raise "
                        "spike.timeout_s") from None
    wall = time.monotonic() - start
    write_run_log(log_path, proc.stdout, proc.stderr.split("PC Histogram size:")[0],
                  f"exit {proc.returncode} after {wall:.3f} s: {' '.join(cmd)}")
    run = spike.check_run(elf, proc.stdout, proc.stderr, proc.returncode, wall, {})
    block = parse_prediction_log(run.stdout, source=f"profiling log {log_path}",
                                 num_classes=num_classes)
    histogram = parse_histogram(proc.stderr)
    cache = parse_cache_stats(proc.stdout)
    functions = model_cycles(disassemble(elf), histogram, cache)
    cpi, glue = kernel_cpis(functions, block.steps_json())
    profile = Profile(functions, cpi, glue, cache, sum(histogram.values()),
                      extra={"wall_s": round(wall, 3), "elf": elf.name})
    return profile, block


def image_cycles(stats: Mapping[str, Any], profile: Mapping[str, Any]) -> dict[str, int]:
    """One image's modelled cycles: its own counted instructions per kernel (stats JSON of its
    Spike run) times the profile's CPIs; plus the Gemmini cycles the core waits for (at the
    fence after every Gemmini call, or for a full reservation station). The one place these
    are joined."""
    cpi, glue = profile.get("kernel_cpi", {}), float(profile.get("glue_cpi", 1.0))
    steps = stats.get("steps") or []
    core = 0.0
    in_steps = 0
    for s in steps:
        n = int(s["instret"])
        core += n * float(cpi.get(str(s["name"]), glue))
        in_steps += n
    total_instret = int((stats.get("kernels") or {}).get("total", {}).get("instret", in_steps))
    core += max(0, total_instret - in_steps) * glue  # ivit_model_run's own copies and calls
    wait = gemmini_cycles(stats, GEMMINI_WAIT_KEYS)
    return {"instructions": total_instret, "core_cycles": round(core),
            "gemmini_cycles": gemmini_cycles(stats), "gemmini_wait_cycles": wait,
            "total_cycles": round(core) + wait}


def profile_stage(spike_summary: str, library: str, extension: str, manifest: str, *,
                  timeout_s: float, log_path: str, out: str,
                  memory_mb: int = spike.DEFAULT_MEMORY_MB,
                  stack_kb: int = DEFAULT_STACK_KB) -> None:
    """The `profile_core_cycles` rule: one histogram run of the first image that succeeded in
    a spike shard (`spike_summary`), its ELF linked as the shard job links it; its logits must
    equal that plain Spike run's, or the rule fails."""
    import numpy as np

    from ivit_gemmini.shards.collect import first_spike_image
    from ivit_gemmini.shards.stages import temporary_elf

    image, files = first_spike_image(spike_summary)
    arch = json.loads(Path(manifest).read_text(encoding="utf-8"))["arch"]
    with temporary_elf(image, library, manifest, memory_mb=int(memory_mb),
                       stack_kb=int(stack_kb)) as elf:
        profile, block = run_profile(elf, Path(extension), timeout_s=float(timeout_s),
                                     log_path=Path(log_path),
                                     num_classes=int(arch["num_classes"]),
                                     memory_mb=int(memory_mb))
    logits = files["logits"]
    plain = np.load(logits)
    if plain.tolist() != block.logits.tolist():
        raise UserError(f"the profiling run of {image}.elf changed the logits (vs {logits}):"
                        " spike -g must not change what the program computes; report this")
    data = profile.to_json()
    data["firmware_instret"] = block.counters["total"].instret
    # The firmware's minstret counters per kernel: with `functions`, they show that the
    # histogram counts what retired (tests/test_core_cycles.py).
    instret: Counter[str] = Counter()
    calls: Counter[str] = Counter()
    for s in block.steps:
        instret[s.name] += s.instret
        calls[s.name] += 1
    data["kernel_instret"] = dict(sorted(instret.items()))
    data["kernel_calls"] = dict(sorted(calls.items()))
    data["core_cycles"] = image_cycles({"steps": block.steps_json(),
                                        "kernels": block.counters_json()}, data)["core_cycles"]
    atomic_write_text(out, json.dumps(data, indent=1, sort_keys=True) + "\n")


CYCLE_COLUMNS = ("instructions (counted)", "core cycles (modelled)", "Gemmini cycles (modelled)",
                 "core waits for Gemmini (modelled)", "total cycles (modelled)")
_CYCLE_KEYS = ("instructions", "core_cycles", "gemmini_cycles", "gemmini_wait_cycles",
               "total_cycles")


def read_profile(path: str | Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    if "kernel_cpi" not in data:
        raise UserError(f"{path} is not a core-cycle profile: rerun rule profile_core_cycles")
    return data


def cycles_rows(stats_paths: Sequence[str | Path], profile: Mapping[str, Any]
                ) -> list[tuple[str, dict[str, int]]]:
    return [(Path(p).stem, image_cycles(json.loads(Path(p).read_text(encoding="utf-8")),
                                        profile)) for p in stats_paths]


def tabulate_cycles(stats_paths: Sequence[str | Path], profile_paths: Sequence[str | Path], *,
                    md_out: str | Path, csv_out: str | Path) -> None:
    """The `tabulate_cycles` rule: per image, counted instructions and modelled cycles."""
    if len(profile_paths) != 1:
        raise UserError("tabulate_cycles needs exactly one core-cycle profile")
    profile = read_profile(profile_paths[0])
    rows = cycles_rows(stats_paths, profile)
    csv_lines = ["image," + ",".join(_CYCLE_KEYS)]
    csv_lines += [f"{img}," + ",".join(str(r[k]) for k in _CYCLE_KEYS) for img, r in rows]
    md = ["# Cycles per image on Gemmini + Rocket", "",
          "| image | " + " | ".join(CYCLE_COLUMNS) + " |", "|---|" + "---:|" * len(CYCLE_COLUMNS)]
    md += [f"| {img} | " + " | ".join(f"{r[k]:,}" for k in _CYCLE_KEYS) + " |" for img, r in rows]
    md += ["", "Instructions are counted (Spike's minstret around the inference). Core cycles are "
           "modelled: each kernel's instructions times its cycles per instruction on an in-order "
           f"Rocket pipeline, from one PC-histogram run of {profile.get('elf', 'one image')} "
           "(docs/core-cycle-model.md). Gemmini cycles are the extension's timing model; the "
           "total is the core's cycles plus the part of them the core waits for Gemmini (at "
           "its fences).", ""]
    atomic_write_text(csv_out, "\n".join(csv_lines) + "\n")
    atomic_write_text(md_out, "\n".join(md))
