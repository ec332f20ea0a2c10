"""Snakemake shim: the torch-fakequant backend (I-ViT's float semantics) on one image."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from ivit_gemmini.cli import run_stage
from ivit_gemmini.evaluate.host_backends import run_torch_fakequant

run_stage(snakemake.log[0], run_torch_fakequant, snakemake.input.checkpoint,
          snakemake.params.num_heads, snakemake.input.npz, snakemake.input.manifest,
          snakemake.input.image, snakemake.output[0])
