"""Snakemake shim: params -> the Gemmini model library (results/build/<config>/model.tar)."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from ivit_gemmini.cli import run_stage
from ivit_gemmini.compile.stage import write_model_library

run_stage(snakemake.log[0], write_model_library, snakemake.input.npz, snakemake.input.manifest,
          snakemake.output.archive, gemmini=dict(snakemake.params.gemmini),
          metadata_out=snakemake.output.metadata)
