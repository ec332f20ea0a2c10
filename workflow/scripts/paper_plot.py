"""Snakemake shim: one paper figure (accuracy bars, agreement heat map, per-kernel cost)."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from ivit_gemmini.cli import run_stage
from ivit_gemmini.paper import figures
from ivit_gemmini.shards.collect import layer_costs_stage

kind, src, out = snakemake.params.kind, snakemake.input[0], snakemake.output[0]
if kind == "agreement":
    run_stage(snakemake.log[0], figures.agreement_heatmap, src, snakemake.params.backends, out)
elif kind == "accuracy":
    run_stage(snakemake.log[0], figures.accuracy_bars, src, out)
else:
    run_stage(snakemake.log[0], layer_costs_stage, src, out)
