"""Snakemake shim: run one image's ELF on the Chipyard simulator; keep the log, write stats
(with the cycle count), then logits."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from ivit_gemmini.cli import run_stage
from ivit_gemmini.simulate.verilator_stage import run_verilator_stage

p = snakemake.params
run_stage(snakemake.log.stage, run_verilator_stage, snakemake.input.elf,
          snakemake.input.manifest, simulator=p.simulator, dramsim_ini_dir=p.dramsim_ini_dir,
          max_cycles=p.max_cycles, timeout_s=p.timeout_s, log_path=snakemake.log.verilator,
          logits_path=snakemake.output.logits, stats_path=snakemake.output.stats)
