"""Snakemake shim: one histogram + cache-model Spike run -> the core-cycle profile JSON."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from ivit_gemmini.cli import run_stage
from ivit_gemmini.simulate.core_cycles import profile_stage

i = snakemake.input
run_stage(snakemake.log.stage, profile_stage, i.elf, i.extension, i.manifest, i.logits,
          timeout_s=snakemake.params.timeout_s, log_path=snakemake.log.spike,
          out=snakemake.output[0], memory_mb=snakemake.params.memory_mb)
