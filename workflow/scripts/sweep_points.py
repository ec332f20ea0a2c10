"""Snakemake shim: this run's model on every Gemmini build -> results/sweep/points.csv."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from ivit_gemmini.cli import run_stage
from ivit_gemmini.sweep.table import sweep_points

p = snakemake.params
run_stage(snakemake.log[0], sweep_points, snakemake.input.manifest, dict(p.builds),
          list(p.images), **dict(p.patterns), out=snakemake.output[0])
