"""Snakemake shim: a host backend (torch-int, torch-fakequant, tvm-cpu) on one shard."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from ivit_gemmini.cli import run_stage
from ivit_gemmini.shards.stages import host_shard

p, i = snakemake.params, snakemake.input
model = {k: i[k] for k in ("npz", "manifest", "checkpoint", "library") if k in i.keys()}  # noqa: SIM118 (a Namedlist: `in` tests values)
run_stage(snakemake.log[0], host_shard, p.backend, snakemake.wildcards.shard, list(p.images),
          [i.quantized], model, snakemake.output[0], code=p.code, job_log=snakemake.log[0],
          num_heads=p.get("num_heads"))
