"""Snakemake shim: the sweep points of one or more runs -> sweep.csv, sweep.md, figures."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from ivit_gemmini.cli import run_stage
from ivit_gemmini.sweep.table import aggregate_sweep

o = snakemake.output
run_stage(snakemake.log[0], aggregate_sweep, list(snakemake.input.points), csv_out=o.csv,
          md_out=o.md, cycles_png=o.cycles, utilization_png=o.utilization,
          on_mismatch=snakemake.params.on_mismatch)
