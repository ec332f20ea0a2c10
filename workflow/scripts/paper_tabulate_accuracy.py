"""Snakemake shim: logits + labels -> results/paper/accuracy.csv + accuracy.md."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from ivit_gemmini.cli import run_stage
from ivit_gemmini.paper.accuracy import tabulate_accuracy

i = snakemake.input
run_stage(snakemake.log[0], tabulate_accuracy, list(i.logits), i.labels, i.manifest,
          snakemake.params.data, fp32_csv=(list(i.fp32) or [None])[0],
          metrics_json=(list(i.metrics) or [None])[0], csv_out=snakemake.output.csv,
          md_out=snakemake.output.md)
