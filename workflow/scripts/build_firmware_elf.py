"""Snakemake shim: link one image's int8 input with main, the runtime and libmodel.a."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from ivit_gemmini.cli import run_stage
from ivit_gemmini.firmware.elf import build_firmware_elf_from_manifest

run_stage(snakemake.log[0], build_firmware_elf_from_manifest, snakemake.input.library,
          snakemake.input.image, snakemake.input.manifest, snakemake.output[0],
          memory_mb=snakemake.params.memory_mb, stack_kb=snakemake.params.stack_kb)
