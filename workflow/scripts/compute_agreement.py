"""Snakemake shim: shard summaries -> results/tables/agreement.csv + agreement.md."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from ivit_gemmini.cli import run_stage
from ivit_gemmini.shards.collect import table_stage

p = snakemake.params
run_stage(snakemake.log[0], table_stage, "agreement", list(snakemake.input.summaries), p.images,
          p.backends, on_mismatch=p.on_mismatch, demo=p.demo, csv_out=snakemake.output.csv,
          md_out=snakemake.output.md, manifest=snakemake.input.manifest)
