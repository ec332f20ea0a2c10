"""Snakemake shim: shard summaries + labels -> results/paper/accuracy.csv + accuracy.md."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from ivit_gemmini.cli import run_stage
from ivit_gemmini.shards.collect import table_stage

i, p = snakemake.input, snakemake.params
run_stage(snakemake.log[0], table_stage, "accuracy", list(i.summaries), p.images, p.backends,
          labels=i.labels, manifest=i.manifest, data=p.data,
          fp32_csv=(list(i.fp32) or [None])[0], metrics_json=(list(i.metrics) or [None])[0],
          csv_out=snakemake.output.csv, md_out=snakemake.output.md)
