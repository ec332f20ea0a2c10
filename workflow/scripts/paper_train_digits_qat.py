"""Snakemake shim: train the digits ViT in float, then I-ViT QAT -> an I-ViT checkpoint."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from ivit_gemmini.cli import run_stage
from ivit_gemmini.paper.train import train_digits_stage

o, p = snakemake.output, snakemake.params
run_stage(snakemake.log[0], train_digits_stage, o.checkpoint, o.fp32, o.predictions, o.metrics,
          seed=p.seed, float_epochs=p.float_epochs, qat_epochs=p.qat_epochs)
