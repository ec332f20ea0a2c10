"""Snakemake shim: Spike stats (from the shard summaries) + core-cycle profile + this run's
benchmark TSVs -> results/paper/performance.csv + .md."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from ivit_gemmini.cli import run_stage
from ivit_gemmini.shards.collect import performance_stage

i, p = snakemake.input, snakemake.params
run_stage(snakemake.log[0], performance_stage, list(i.summaries), list(i.benchmarks), p.images,
          i.manifest, profile=list(i.profile), csv_out=snakemake.output.csv,
          md_out=snakemake.output.md)
