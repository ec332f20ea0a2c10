"""The memory an ELF is linked for (config firmware.memory_mb / stack_kb) on Spike: the default
fits rocket-chip's 256 MiB memory port, and every overrun stops with one line naming the key
that fixes it instead of hanging."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from ivit_gemmini.errors import UserError
from ivit_gemmini.firmware import toolchain
from ivit_gemmini.firmware.toolchain import build_elf
from ivit_gemmini.simulate.spike import run_spike, spike_command

PROGRAMS = Path(__file__).resolve().parent / "spike_programs"
MIB = 1 << 20


def build(tmp_path: Path, name: str = "runtime_memory", *, memory_mb: int = 256,
          stack_kb: int = 1024, **defines: str) -> Path:
    return build_elf([PROGRAMS / f"{name}.c"], tmp_path / f"{name}.elf", [], defines=defines,
                     memory_mb=memory_mb, stack_kb=stack_kb)


def symbols(elf: Path) -> dict[str, int]:
    out = subprocess.run(["riscv64-unknown-elf-nm", str(elf)], capture_output=True, text=True,
                         check=True).stdout
    return {parts[2]: int(parts[0], 16) for parts in map(str.split, out.splitlines())
            if len(parts) == 3}


def test_default_elf_runs_on_spike_with_256_mib(tmp_path: Path) -> None:
    # The old layout put the stack at 0xA0000000: with -m256 Spike printed nothing and spun.
    elf = build(tmp_path, "runtime_hello")
    assert "-m256" in spike_command(elf, None)
    run = run_spike(elf, extension=None, timeout_s=20, memory_mb=256)
    assert "hello 42" in run.stdout and run.status == 0


def test_layout_fits_the_configured_memory(tmp_path: Path) -> None:
    sym = symbols(build(tmp_path, memory_mb=64, stack_kb=256, PAST_HEAP="1"))
    base = toolchain.MEMORY_BASE
    assert sym["ivit_reset"] == base  # Chipyard's boot ROM jumps to the DRAM base
    assert sym["__bss_end"] <= sym["__ivit_guard_start"]
    assert sym["__ivit_guard_end"] - sym["__ivit_guard_start"] == toolchain.STACK_GUARD
    assert sym["__stack"] - sym["__ivit_guard_end"] == 256 << 10
    assert sym["__heap_end"] == sym["__ivit_memory_end"] == base + 64 * MIB


def test_machine_with_less_memory_stops_at_start(tmp_path: Path) -> None:
    elf = build(tmp_path, memory_mb=256)
    with pytest.raises(UserError, match=r"load access fault .*mtval 0x8ffffff8\): 0x8ffffff8 "
                                        r"lies in the 256 MiB .* set firmware.memory_mb") as e:
        run_spike(elf, extension=None, timeout_s=20, memory_mb=128)
    assert "\n" not in str(e.value)


def test_stack_overflow_traps_naming_stack_kb(tmp_path: Path) -> None:
    elf = build(tmp_path, stack_kb=16, STACK_OVERFLOW="1")
    with pytest.raises(UserError, match=r"store access fault .*stack overflow: the 16 KiB "
                                        r"stack .*raise firmware.stack_kb"):
        run_spike(elf, extension=None, timeout_s=20)


def test_access_past_the_heap_names_memory_mb(tmp_path: Path) -> None:
    elf = build(tmp_path, memory_mb=32, PAST_HEAP="1")
    with pytest.raises(UserError, match=r"store access fault .*mtval 0x82000000\): 0x82000000 "
                                        r"is outside the program's memory .*raise "
                                        r"firmware.memory_mb"):
        run_spike(elf, extension=None, timeout_s=20, memory_mb=32)


def test_malloc_stops_at_the_end_of_memory(tmp_path: Path) -> None:
    elf = build(tmp_path, memory_mb=16, stack_kb=64, HEAP_FILL="1")
    heap_mib = (symbols(elf)["__heap_end"] - symbols(elf)["__heap_start"]) / MIB
    run = run_spike(elf, extension=None, timeout_s=60, memory_mb=16)
    blocks = int(run.stdout.split("heap blocks ")[1].split()[0])
    assert heap_mib - 2 < blocks <= heap_mib  # every block written, none past the end


def test_program_too_large_is_refused_at_link_time(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"needs (\d+) MiB .*firmware.memory_mb is 64: raise "
                                        r"firmware.memory_mb to at least \1") as e:
        build(tmp_path, memory_mb=64, BIG_BSS="80")
    need = int(str(e.value).split("needs ")[1].split(" MiB")[0])
    # Independently: the same program linked with room to spare ends its stack below need MiB.
    sym = symbols(build(tmp_path, memory_mb=256, BIG_BSS="80"))
    used = sym["__stack"] - toolchain.MEMORY_BASE
    assert (need - 1) * MIB < used <= need * MIB
    assert "\n" not in str(e.value)


@pytest.mark.parametrize(("memory_mb", "stack_kb"), [(0, 1024), (4096, 1024), (16, 2)])
def test_bad_memory_config_is_user_error(tmp_path: Path, memory_mb: int, stack_kb: int) -> None:
    with pytest.raises(UserError, match="firmware"):
        build(tmp_path, memory_mb=memory_mb, stack_kb=stack_kb)


@pytest.mark.slow
def test_workflow_links_and_runs_for_the_configured_memory(tmp_path: Path,
                                                          toy_checkpoint: Path) -> None:
    from workflow_helpers import run_workflow

    photo = sorted((toy_checkpoint.parent / "demo").glob("*.png"))[0]
    config = {"checkpoint": str(toy_checkpoint), "images": [str(photo)],
              "backends": ["torch-int", "spike"], "firmware": {"memory_mb": 4, "stack_kb": 256}}
    cfg = "dim16_sp4x4096_acc1024"
    target = f"results/shards/spike/{cfg}/0of1.json"  # the spike shard job (ELFs are temporary)
    run = run_workflow(tmp_path, config, "--", target)
    assert run.returncode == 0, run.stderr[-3000:]
    log = (tmp_path / "results/logs/spike" / cfg / f"{photo.stem}.log").read_text()
    assert " -m4 " in log.splitlines()[0]  # Spike got the memory the ELF was linked for
    assert (tmp_path / "results/logits/spike" / cfg / f"{photo.stem}.npy").is_file()
    # A memory the model does not fit: the changed key reruns the shard, the link says what to
    # do, as the image's failure record (the shard job itself succeeds).
    config["firmware"] = {"memory_mb": 1, "stack_kb": 1000}
    run = run_workflow(tmp_path, config, "--", target)
    assert run.returncode == 0, run.stderr[-3000:]
    entry = json.loads((tmp_path / target).read_text())["images"][photo.stem]
    assert entry["status"] == "failed"
    assert re.fullmatch(r".*needs \d+ MiB .*but firmware.memory_mb is 1: raise "
                        r"firmware.memory_mb to at least \d+ .*", entry["reason"]), entry
