"""Snakemake shim: the torch-int backend (the integer specification) on one image."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from ivit_gemmini.cli import run_stage
from ivit_gemmini.evaluate.host_backends import run_torch_int

run_stage(snakemake.log[0], run_torch_int, snakemake.input.npz, snakemake.input.manifest,
          snakemake.input.image, snakemake.output[0])
