"""Snakemake shim: write scikit-image's demo photographs as PNG files."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from pathlib import Path

from ivit_gemmini.cli import run_stage
from ivit_gemmini.model.images import export_demo_images

run_stage(snakemake.log[0], export_demo_images, Path(snakemake.output[0]).parent)
