"""Snakemake shim: Spike stats (from the shard summaries) + benchmarks -> performance tables."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from ivit_gemmini.cli import run_stage
from ivit_gemmini.shards.collect import performance_stage

i, p = snakemake.input, snakemake.params
run_stage(snakemake.log[0], performance_stage, list(i.summaries), p.bench_root, p.images,
          i.manifest, csv_out=snakemake.output.csv, md_out=snakemake.output.md)
