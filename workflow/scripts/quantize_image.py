"""Snakemake shim: image file -> DeiT preprocessing -> results/inputs/{image}.bin (int8)."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from ivit_gemmini.cli import run_stage
from ivit_gemmini.model.images import quantize_image

run_stage(snakemake.log[0], quantize_image, snakemake.input.image, snakemake.input.npz,
          snakemake.input.manifest, snakemake.output[0],
          exif_orientation=snakemake.params.exif_orientation)
