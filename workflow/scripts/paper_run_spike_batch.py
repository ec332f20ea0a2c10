"""Snakemake shim: link and run on Spike a batch of images -> per image ELF, stats, logits."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from ivit_gemmini.cli import run_stage
from ivit_gemmini.paper.batch import run_spike_batch

i, o = snakemake.input, snakemake.output
run_stage(snakemake.log[0], run_spike_batch, i.library, i.extension, i.manifest, list(i.images),
          list(o.elfs), list(o.logits), list(o.stats), snakemake.params.spike_logs,
          timeout_s=snakemake.params.timeout_s, memory_mb=snakemake.params.memory_mb,
          stack_kb=snakemake.params.stack_kb)
