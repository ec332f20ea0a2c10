"""Snakemake shim: config["gemmini"] -> results/build/<config>/include/gemmini_params.h."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from ivit_gemmini.cli import run_stage
from ivit_gemmini.gemmini.config import write_workflow_params_header
from ivit_gemmini.sweep.configs import build_name

run_stage(snakemake.log[0], write_workflow_params_header, dict(snakemake.params.gemmini),
          snakemake.output[0], build_config=snakemake.wildcards.config,
          expected=build_name(dict(snakemake.params.gemmini)))
