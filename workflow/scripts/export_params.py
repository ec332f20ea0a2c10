"""Snakemake shim: checkpoint -> results/model/params.npz + manifest.json."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from pathlib import Path

from ivit_gemmini.cli import run_stage


def main(checkpoint: str, num_heads: int | None, npz: str, manifest: str) -> None:
    from ivit_gemmini.model.checkpoint import load_checkpoint
    from ivit_gemmini.model.params import export_params

    export_params(load_checkpoint(Path(checkpoint), num_heads=num_heads), Path(npz), Path(manifest))


run_stage(snakemake.log[0], main, snakemake.input.checkpoint, snakemake.params.num_heads,
          snakemake.output.npz, snakemake.output.manifest)
