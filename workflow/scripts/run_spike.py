"""Snakemake shim: run one image's ELF on Spike; keep the log, write stats, then logits."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from ivit_gemmini.cli import run_stage
from ivit_gemmini.simulate.spike_stage import run_spike_stage

run_stage(snakemake.log.stage, run_spike_stage, snakemake.input.elf, snakemake.input.extension,
          snakemake.input.manifest, timeout_s=snakemake.params.timeout_s,
          log_path=snakemake.log.spike, logits_path=snakemake.output.logits,
          stats_path=snakemake.output.stats, memory_mb=snakemake.params.memory_mb)
