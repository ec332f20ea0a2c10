"""Snakemake shim: params -> the Relax integer graph as TVMScript (results/model/graph.py)."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from ivit_gemmini.cli import run_stage
from ivit_gemmini.compile.stage import write_graph

run_stage(snakemake.log[0], write_graph, snakemake.input.npz, snakemake.input.manifest,
          snakemake.output[0])
