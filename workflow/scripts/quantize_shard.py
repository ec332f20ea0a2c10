"""Snakemake shim: one shard of images -> results/inputs/<image>.bin (int8) + the summary."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from ivit_gemmini.cli import run_stage
from ivit_gemmini.shards.stages import quantize_shard

run_stage(snakemake.log[0], quantize_shard, snakemake.wildcards.shard,
          dict(snakemake.params.sources), snakemake.input.manifest, snakemake.output[0],
          code=snakemake.params.code, job_log=snakemake.log[0],
          exif_orientation=snakemake.params.exif_orientation)
