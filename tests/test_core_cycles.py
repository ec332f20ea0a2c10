"""The core cycle model (ivit_gemmini.simulate.core_cycles) on real Spike runs: a hand-written
kernel whose instruction mix and stalls are known from its code, and the profile rule on the TOY
model (logits unchanged, histogram counts = minstret, two images' mixes within 1%)."""

from __future__ import annotations

import json
import subprocess
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from workflow_helpers import run_workflow

from ivit_gemmini.firmware.toolchain import DEFAULT_MEMORY_MB, DEFAULT_STACK_KB, build_elf
from ivit_gemmini.shards.stages import temporary_elf
from ivit_gemmini.simulate.core_cycles import (
    KERNEL_PREFIX,
    RocketModel,
    disassemble,
    image_cycles,
    mix_distance,
    model_cycles,
    parse_cache_stats,
    parse_disassembly,
    parse_histogram,
    profile_command,
    retired_counts,
)
from ivit_gemmini.simulate.prediction_log import parse_prediction_log

PROGRAMS = Path(__file__).resolve().parent / "spike_programs"
CONFIG = "dim16_sp4x4096_acc1024"


def _profile(elf: Path, extension: Path | None = None) -> subprocess.CompletedProcess[str]:
    run = subprocess.run(profile_command(elf, extension), capture_output=True, text=True,
                         check=False, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    return run


@pytest.mark.parametrize("n", [1, 100])
def test_known_kernel_mix_and_stalls_are_exact(tmp_path: Path, n: int) -> None:
    elf = build_elf([PROGRAMS / "core_mix_kernel.c"], tmp_path / "mix.elf", [],
                    defines={"MIX_N": str(n)})
    run = _profile(elf)
    assert f"MIX sum={sum(i * i for i in range(n))} " in run.stdout
    insns = disassemble(elf)
    histogram = parse_histogram(run.stderr)
    cache = parse_cache_stats(run.stdout)
    mix = model_cycles(insns, histogram, cache)["mix_kernel"]
    # From the code: csrr, li, n x {ld, mul, add, addi, addi, bne}, csrr, sub, sd, addi, jalr.
    assert dict(mix.kinds) == {"csr": 2, "alu": 3 * n + 3, "load": n, "mul": n, "branch": n,
                               "store": 1, "jump": 1}
    assert mix.instructions == 6 * n + 7
    m = RocketModel()
    assert mix.stalls["load_use"] == n * m.load_use  # ld t1 -> mul reads t1 next
    assert mix.stalls["mul"] == n * (m.mul - 1)  # mul t2 -> add reads t2 next
    # bne taken n-1 times and missed once at the loop exit (none for n=1); the return.
    assert mix.taken == n - 1 + 1
    assert mix.stalls["branch"] == (n - 1) * m.taken + min(n - 1, 1) * m.mispredict + m.taken
    # The kernel's own minstret difference = what the histogram retired between the reads.
    between = int(run.stdout.split("minstret=")[1].split()[0])
    reads = sorted(pc for pc, i in insns.items()
                   if i.function == "mix_kernel" and i.kind == "csr")
    retired = retired_counts(insns, histogram)
    assert between == sum(c for pc, c in retired.items() if reads[0] <= pc < reads[1])
    assert cache["D$"]["Read Accesses"] > 0 and cache["I$"]["Read Misses"] > 0


def test_disassembly_parsing_reads_sources_and_gemmini_instructions() -> None:
    text = """
0000000080000000 <f>:
    80000000:	07c1                	c.addi	a5,16
    80000002:	97a2                	c.add	a5,s0
    80000004:	0007c583          	lbu	a1,0(a5)
    80000008:	00e8307b          	.4byte	0xe8307b
    8000000c:	e794                	c.sd	a3,8(a5)
    8000000e:	8082                	c.jr	ra
"""
    insns = parse_disassembly(text)
    assert insns[0x80000000].dest == "a5" and insns[0x80000000].sources == {"a5"}
    assert insns[0x80000002].sources == {"a5", "s0"}
    assert insns[0x80000004].kind == "load" and insns[0x80000004].sources == {"a5"}
    rocc = insns[0x80000008]  # funct 0, rd x0, rs1 x16 (a6), rs2 x14 (a4), xs1 xs2 set
    assert rocc.kind == "gemmini" and rocc.sources == {"a6", "a4"} and rocc.dest is None
    assert insns[0x8000000C].dest is None and insns[0x8000000C].sources == {"a3", "a5"}
    assert insns[0x8000000E].kind == "jump" and insns[0x8000000E].function == "f"


def test_image_cycles_joins_counted_instructions_with_the_profile() -> None:
    profile = {"kernel_cpi": {"a": 2.0, "b": 1.5}, "glue_cpi": 3.0}
    stats = {"steps": [{"name": "a", "instret": 100}, {"name": "b", "instret": 10},
                       {"name": "c", "instret": 1}],
             "kernels": {"total": {"instret": 121}},
             "gemmini": {"cycles": {"overlapped": 500}}}
    got = image_cycles(stats, profile)
    # 100*2 + 10*1.5 + (unknown kernel c at the glue CPI) 3 + (10 outside steps) * 3 = 248.
    assert got == {"instructions": 121, "core_cycles": 248, "gemmini_cycles": 500,
                   "gemmini_wait_cycles": 500, "total_cycles": 748}
    # The Gemmini timing model's single figure wins over the older overlapped estimate, and
    # only the part of it the core waits for adds to the core's cycles.
    stats["gemmini"]["gemmini_cycles_modelled"] = 700
    assert image_cycles(stats, profile)["total_cycles"] == 948
    stats["gemmini"]["gemmini_wait_cycles_modelled"] = 650
    got = image_cycles(stats, profile)
    assert (got["gemmini_cycles"], got["gemmini_wait_cycles"], got["total_cycles"]) == (
        700, 650, 898)


@pytest.mark.slow
def test_profile_rule_on_toy(tmp_path: Path, toy_checkpoint: Path) -> None:
    photos = sorted((toy_checkpoint.parent / "demo").glob("*.png"))[:2]
    config = {"checkpoint": str(toy_checkpoint), "images": [str(p) for p in photos],
              "backends": ["torch-int", "spike"]}
    # Two images: one shard (0of1); torch-int's shard job writes its logits beside spike's.
    run = run_workflow(tmp_path, config, "--", "results/tables/cycles.md",
                       "results/shards/torch-int/0of1.json")
    assert run.returncode == 0, run.stderr[-3000:]
    res = tmp_path / "results"
    profile = json.loads((res / "profile" / CONFIG / "core_cycles.json").read_text())
    first = profile["elf"].removesuffix(".elf")

    # The histogram run computed the same logits as the plain run and torch-int.
    log = (res / "logs/profile" / f"{CONFIG}.log").read_text()
    logits = parse_prediction_log(log).logits
    assert logits.tolist() == np.load(res / "logits/spike" / CONFIG / f"{first}.npy").tolist()
    assert logits.tolist() == np.load(res / "logits/torch-int" / f"{first}.npy").tolist()

    # The ELFs are temporary in the workflow: link them again as the spike shard job does.
    with ExitStack() as stack:
        elfs = {p.stem: stack.enter_context(temporary_elf(
            p.stem, res / "build" / CONFIG / "libmodel.a", res / "model" / "manifest.json",
            memory_mb=DEFAULT_MEMORY_MB, stack_kb=DEFAULT_STACK_KB, inputs=res / "inputs"))
            for p in photos}
        _check_counts_and_mixes(profile, elfs, elfs[first],
                                res / "build" / CONFIG / "libgemmini.so")

    table = (res / "tables/cycles.md").read_text()
    assert "core cycles (modelled)" in table and "core waits for Gemmini (modelled)" in table
    for photo in photos:
        stats = json.loads((res / "stats/spike" / CONFIG / f"{photo.stem}.json").read_text())
        row = image_cycles(stats, profile)
        assert row["core_cycles"] > row["instructions"]  # Rocket stalls: CPI > 1
        assert f"| {photo.stem} | {row['instructions']:,} | {row['core_cycles']:,} |" in table


def _check_counts_and_mixes(profile: dict[str, Any], elfs: dict[str, Path], elf: Path,
                            extension: Path) -> None:
    # Histogram counts = minstret: every kernel function that calls nothing retired exactly
    # its steps' minstret differences minus the fixed glue of ivit_call between the two
    # minstret reads (counted here from the disassembly).
    insns = disassemble(elf)
    call = sorted(pc for pc, i in insns.items() if i.function == "ivit_call")
    reads = [pc for pc in call if insns[pc].kind == "csr" and "minstret" in _raw(elf, pc)]
    glue = sum(1 for pc in call if reads[0] <= pc < reads[1])  # minstret read .. call
    leaves = [k for k in profile["kernel_instret"] if _is_leaf(insns, KERNEL_PREFIX + k)]
    assert len(leaves) >= 10
    for k in leaves:
        own = profile["functions"][KERNEL_PREFIX + k]["instructions"]
        assert profile["kernel_instret"][k] - own == profile["kernel_calls"][k] * glue, k

    # One profile serves every image: two images' mixes differ by far less than 1%.
    mixes = []
    for e in elfs.values():
        r = _profile(e, extension)
        mixes.append(model_cycles(disassemble(e), parse_histogram(r.stderr),
                                  parse_cache_stats(r.stdout)))
    assert 0 < mix_distance(*mixes) < 0.01


def _raw(elf: Path, pc: int) -> str:
    out = subprocess.run(["riscv64-unknown-elf-objdump", "-d", f"--start-address={pc:#x}",
                          f"--stop-address={pc + 4:#x}", str(elf)], capture_output=True,
                         text=True, check=True).stdout
    return out.strip().splitlines()[-1]


def _is_leaf(insns, function: str) -> bool:  # type: ignore[no-untyped-def]
    """A function that calls nothing (no jump that links ra)."""
    body = [i for i in insns.values() if i.function == function]
    return bool(body) and not any(i.kind == "jump" and i.dest == "ra" for i in body)
