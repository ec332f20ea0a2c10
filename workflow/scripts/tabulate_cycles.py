"""Snakemake shim: per-image counted instructions and modelled cycles -> results/tables/cycles.*"""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from ivit_gemmini.cli import run_stage
from ivit_gemmini.simulate.core_cycles import tabulate_cycles

run_stage(snakemake.log[0], tabulate_cycles, list(snakemake.input.stats),
          snakemake.input.profile, md_out=snakemake.output.md, csv_out=snakemake.output.csv)
