"""Snakemake shim: make the seeded DeiT-tiny I-ViT checkpoint, calibrated on the demo images."""
# ruff: noqa: F821  (`snakemake` is injected by the script directive)
from pathlib import Path

from ivit_gemmini.cli import run_stage


def main(images: list[str], out: str) -> None:
    from ivit_gemmini.model.architecture import DEIT_TINY
    from ivit_gemmini.model.demo import make_demo_checkpoint
    from ivit_gemmini.model.images import load_preprocessed

    calibration = load_preprocessed([Path(p) for p in images], DEIT_TINY.image_size)
    make_demo_checkpoint(calibration, Path(out), seed=0, arch=DEIT_TINY)


run_stage(snakemake.log[0], main, list(snakemake.input), snakemake.output[0])
