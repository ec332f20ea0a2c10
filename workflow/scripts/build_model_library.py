"""Snakemake shim: compile the model archive once into results/build/<config>/libmodel.a."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from ivit_gemmini.cli import run_stage
from ivit_gemmini.firmware.elf import build_model_library

run_stage(snakemake.log[0], build_model_library, snakemake.input.archive, snakemake.output[0],
          jobs=snakemake.threads, params_header=snakemake.input.params)
