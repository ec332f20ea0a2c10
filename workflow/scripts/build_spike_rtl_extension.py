"""Snakemake shim: build (or reuse) the `spike-rtl` Gemmini extension (our RTL mesh, Verilated
for the build config's DIM) and place it at the output."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from ivit_gemmini.cli import run_stage
from ivit_gemmini.simulate.spike_stage import install_extension

run_stage(snakemake.log[0], install_extension, snakemake.params.cache_dir, snakemake.output[0],
          params_header=snakemake.input.params, mesh="rtl",
          broken_pe=snakemake.params.broken_pe)
