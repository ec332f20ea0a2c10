"""Snakemake shim: the tvm-cpu backend (the Relax graph built by TVM for the host), one image."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from ivit_gemmini.cli import run_stage
from ivit_gemmini.compile.stage import run_tvm_cpu

run_stage(snakemake.log[0], run_tvm_cpu, snakemake.input.npz, snakemake.input.manifest,
          snakemake.input.image, snakemake.output[0], cache_dir=snakemake.params.cache_dir)
