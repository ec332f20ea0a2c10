"""Snakemake shim: params -> results/build/tvm-cpu/model.so (compiled once per model)."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from ivit_gemmini.cli import run_stage
from ivit_gemmini.compile.cpu_backend import build_library

run_stage(snakemake.log[0], build_library, snakemake.input.npz, snakemake.input.manifest,
          snakemake.output[0])
