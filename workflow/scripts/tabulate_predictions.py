"""Snakemake shim: logit files -> results/tables/predictions.csv + predictions.md."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from ivit_gemmini.cli import run_stage
from ivit_gemmini.evaluate.predictions import tabulate_predictions

p = snakemake.params
run_stage(snakemake.log[0], tabulate_predictions, list(snakemake.input.logits),
          snakemake.input.npz, snakemake.input.manifest, p.backends, p.images, p.class_names,
          demo=p.demo, checkpoint=p.checkpoint, csv_out=snakemake.output.csv,
          md_out=snakemake.output.md, sources=p.sources)
