"""Snakemake shim: logit files -> results/tables/agreement.csv + agreement.md."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from ivit_gemmini.cli import run_stage
from ivit_gemmini.evaluate.agreement import compute_agreement

p = snakemake.params
run_stage(snakemake.log[0], compute_agreement, list(snakemake.input.logits), p.backends,
          p.images, on_mismatch=p.on_mismatch, demo=p.demo, csv_out=snakemake.output.csv,
          md_out=snakemake.output.md, manifest=snakemake.input.manifest)
