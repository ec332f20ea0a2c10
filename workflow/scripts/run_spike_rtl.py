"""Snakemake shim: spike-rtl (Spike with our RTL mesh) on one shard of images for one Gemmini
configuration."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from ivit_gemmini.cli import run_stage
from ivit_gemmini.shards.stages import spike_shard

p, i, w = snakemake.params, snakemake.input, snakemake.wildcards
run_stage(snakemake.log[0], spike_shard, w.config, w.shard, list(p.images), [i.quantized],
          i.library, i.extension, i.manifest, snakemake.output[0], code=p.code,
          job_log=snakemake.log[0], timeout_s=p.timeout_s, memory_mb=p.memory_mb,
          stack_kb=p.stack_kb, backend="spike-rtl")
