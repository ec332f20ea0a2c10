"""Snakemake shim: shard summaries -> results/paper/verification.csv + verification.md."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from ivit_gemmini.cli import run_stage
from ivit_gemmini.shards.collect import table_stage

i, p = snakemake.input, snakemake.params
run_stage(snakemake.log[0], table_stage, "verification", list(i.summaries), p.images, p.backends,
          manifest=i.manifest, class_names=p.class_names, labels=(list(i.labels) or [None])[0],
          csv_out=snakemake.output.csv, md_out=snakemake.output.md, sources=p.sources)
