"""Snakemake shim: shard summaries -> results/tables/predictions.csv + predictions.md."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from ivit_gemmini.cli import run_stage
from ivit_gemmini.shards.collect import table_stage

p = snakemake.params
run_stage(snakemake.log[0], table_stage, "predictions", list(snakemake.input.summaries),
          p.images, p.backends, manifest=snakemake.input.manifest,
          class_names=p.class_names, demo=p.demo, checkpoint=p.checkpoint,
          csv_out=snakemake.output.csv, md_out=snakemake.output.md, sources=p.sources)
