"""Snakemake shim: make a seeded demo I-ViT checkpoint (DeiT-tiny, -small or -base: random
weights), calibrated on the demo images."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from pathlib import Path

from ivit_gemmini.cli import run_stage


def main(images: list[str], out: str, checkpoint: str) -> None:
    from ivit_gemmini.model.architecture import DEMO_CHECKPOINTS
    from ivit_gemmini.model.demo import make_demo_checkpoint
    from ivit_gemmini.model.images import load_preprocessed

    arch = DEMO_CHECKPOINTS[checkpoint]
    calibration = load_preprocessed([Path(p) for p in images], arch.image_size)
    make_demo_checkpoint(calibration, Path(out), seed=0, arch=arch)


run_stage(snakemake.log[0], main, list(snakemake.input), snakemake.output[0],
          snakemake.params.checkpoint)
