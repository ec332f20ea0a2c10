"""Snakemake shim: logits of the first images -> results/paper/verification.csv + .md."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from ivit_gemmini.cli import run_stage
from ivit_gemmini.paper.verification import tabulate_verification

i, p = snakemake.input, snakemake.params
run_stage(snakemake.log[0], tabulate_verification, list(i.logits), i.manifest, p.backends,
          p.images, p.class_names, (list(i.labels) or [None])[0], csv_out=snakemake.output.csv,
          md_out=snakemake.output.md, sources=p.sources)
