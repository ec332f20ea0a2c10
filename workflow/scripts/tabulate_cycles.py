"""Snakemake shim: per-image counted instructions and modelled cycles -> results/tables/cycles.*"""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from ivit_gemmini.cli import run_stage
from ivit_gemmini.shards.collect import cycles_stage

i = snakemake.input
run_stage(snakemake.log[0], cycles_stage, list(i.summaries), snakemake.params.images,
          list(i.profile), md_out=snakemake.output.md, csv_out=snakemake.output.csv)
