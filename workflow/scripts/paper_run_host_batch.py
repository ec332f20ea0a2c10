"""Snakemake shim: one host backend on a batch of images -> one logit file per image."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from ivit_gemmini.cli import run_stage
from ivit_gemmini.paper.batch import run_host_batch

i, p = snakemake.input, snakemake.params
run_stage(snakemake.log[0], run_host_batch, p.backend, i.npz, i.manifest, i.checkpoint,
          p.num_heads, list(i.images), list(snakemake.output))
