"""Snakemake shim: one histogram + cache-model Spike run -> the core-cycle profile JSON."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from ivit_gemmini.cli import run_stage
from ivit_gemmini.simulate.core_cycles import profile_stage

i, p = snakemake.input, snakemake.params
run_stage(snakemake.log.stage, profile_stage, i.spike, i.library, i.extension, i.manifest,
          timeout_s=p.timeout_s, log_path=snakemake.log.spike, out=snakemake.output[0],
          memory_mb=p.memory_mb, stack_kb=p.stack_kb)
