"""Snakemake shim: the data set's labels -> results/paper/labels.csv."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from ivit_gemmini.cli import run_stage
from ivit_gemmini.paper.dataset import write_labels_stage

run_stage(snakemake.log[0], write_labels_stage, snakemake.params.dataset,
          dict(snakemake.params.images), snakemake.input.manifest, snakemake.output[0])
