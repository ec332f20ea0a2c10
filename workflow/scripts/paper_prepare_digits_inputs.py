"""Snakemake shim: the digits test images -> results/inputs/{image}.bin (int8, 1x8x8)."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from ivit_gemmini.cli import run_stage
from ivit_gemmini.paper.digits import write_digits_inputs

run_stage(snakemake.log[0], write_digits_inputs, snakemake.input.manifest, list(snakemake.output))
