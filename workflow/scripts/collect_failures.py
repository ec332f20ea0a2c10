"""Snakemake shim: shard summaries -> results/tables/failures.csv + failures.md."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from ivit_gemmini.cli import run_stage
from ivit_gemmini.shards.collect import write_failures

run_stage(snakemake.log[0], write_failures, list(snakemake.input.summaries),
          snakemake.output.csv, snakemake.output.md)
