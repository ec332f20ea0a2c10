"""Snakemake shim: end the run non-zero (one line) when any image failed."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from ivit_gemmini.cli import run_stage
from ivit_gemmini.shards.collect import check_failures

run_stage(snakemake.log[0], check_failures, snakemake.input.failures, snakemake.output[0])
