"""`ivit-infer`: top-5 of one image (or of each image of a folder) on a simulated Gemmini, for
users of the seed's `run_inference_spike.py`.

It does not run anything itself: it writes a small config into the output folder and asks the
project's Snakemake workflow for that image's logits on the chosen simulator, so every stage
(params, model library, simulation) is cached there and a second image only re-links and
re-simulates; while it runs, it names the stage the workflow is in. Then it prints the seed's
block (`Top-5 Predictions:` / `  1. Class 282: tiger cat`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from ivit_gemmini.errors import UserError
from ivit_gemmini.paths import REPO_ROOT, require_repo_dir
from ivit_gemmini.snakemake_main import MODULE as SNAKEMAKE_MODULE

SIMULATORS = ("spike", "verilator")
DEFAULT_OUTPUT = Path("ivit-infer-out")
DEFAULT_TIMEOUT_S = 1800.0
LOG_NAME = "ivit-infer.log"

DESCRIPTION = """\
Classify one image (or every image of a folder) with the I-ViT integer model on a simulated
Gemmini accelerator and print its top-5 classes. Runs the project's Snakemake workflow
(checkpoint -> integer params -> Gemmini C model library -> RISC-V ELF -> simulator) in
--output-dir, so repeated runs reuse every stage that has not changed: a new image costs one
link and one simulation."""

EPILOG = """\
example:
  ivit-infer --image cat.jpg --checkpoint checkpoints/checkpoint.pth.tar
  ivit-infer --image photos/      # every image in the folder, one top-5 block each
output files (under --output-dir):
  results/logits/<simulator>/<config>/<image>.npy   int64 logits at the manifest's logit scale
  results/logs/<simulator>/<config>/<image>.log     the simulator's full log
  results/stats/<simulator>/<config>/<image>.json   instructions, wall time, Gemmini statistics
  ivit-infer.log                           the workflow's own output"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ivit-infer", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--image", required=True, type=Path,
        help="the image to classify (JPEG, PNG, ...), or a folder: every image in it is "
             "classified (one top-5 block each, sub-folders not searched); each is resized and "
             "centre-cropped as DeiT expects, then quantized to int8 on the host",
    )
    parser.add_argument(
        "--checkpoint", default="demo",
        help="the I-ViT QAT checkpoint (.pth / .pth.tar, loaded with weights_only=True); "
             "'demo' (default) builds a seeded random DeiT-tiny whose predictions mean nothing",
    )
    parser.add_argument(
        "--simulator", choices=SIMULATORS, default="spike",
        help="spike (default): Spike with this project's Gemmini extension, built on first use; "
             "verilator: a Chipyard Verilator simulator given by --verilator-binary",
    )
    parser.add_argument(
        "--verilator-binary", type=Path, default=None,
        help="with --simulator verilator: the simulator-chipyard.harness-<Config> executable",
    )
    parser.add_argument(
        "--output-dir", type=Path, default=DEFAULT_OUTPUT,
        help=f"folder for the workflow's results and caches (default: {DEFAULT_OUTPUT}); reuse "
             "it to skip stages that are already built",
    )
    parser.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT_S, metavar="SECONDS",
        help=f"wall-clock limit of the simulation (default: {DEFAULT_TIMEOUT_S:g} s); a run "
             "that exceeds it fails with a clear message and leaves no logits",
    )
    parser.add_argument(
        "--cores", type=int, default=os.cpu_count() or 1,
        help="cores the workflow may use for independent jobs (default: all)",
    )
    parser.add_argument(
        "--class-names", default=None, metavar="FILE",
        help="text file with one class name per line (default: ImageNet's names for a "
             "1000-class model, else 'class N')",
    )
    return parser


def image_id(image: Path) -> str:
    """The workflow's id for `image` (its sanitised file stem)."""
    return next(iter(image_ids(image)))


def image_ids(image: Path) -> dict[str, Path]:
    """{workflow id: file} of `--image`: the file, or every image of the folder (the same
    discovery and ids as config 'images' given a folder)."""
    from ivit_gemmini.model.images import find_images

    try:
        return find_images([str(image)])
    except UserError:
        if image.is_dir():
            raise UserError(f"--image {image} is a folder without images (.jpg, .png, ...): "
                            "give an image file or a folder of images") from None
        raise


def write_config(args: argparse.Namespace, out_dir: Path) -> Path:
    """The workflow config for this one image: the repository's defaults plus the options."""
    defaults = require_repo_dir(REPO_ROOT / "config") / "config.yaml"
    config = yaml.safe_load(defaults.read_text(encoding="utf-8"))
    checkpoint = args.checkpoint
    if checkpoint != "demo":
        checkpoint = str(Path(checkpoint).resolve())
    config.update(checkpoint=checkpoint, images=[str(args.image.resolve())],
                  backends=[args.simulator])
    if args.class_names is not None:
        config["class_names"] = str(Path(args.class_names).resolve())
    config[args.simulator]["timeout_s"] = args.timeout
    if args.simulator == "verilator":
        config["verilator"]["simulator"] = str(args.verilator_binary.resolve())
    path = out_dir / "ivit-infer.config.yaml"
    from ivit_gemmini.io import atomic_write_text

    atomic_write_text(path, yaml.safe_dump(config, sort_keys=False))
    return path


def check_args(args: argparse.Namespace) -> None:
    if not args.image.exists():
        raise UserError(f"--image {args.image} does not exist: give an image file or a folder "
                        "of images")
    if args.checkpoint != "demo" and not Path(args.checkpoint).is_file():
        raise UserError(f"--checkpoint {args.checkpoint} does not exist: give a checkpoint file "
                        "or 'demo'")
    if args.timeout <= 0:
        raise UserError(f"--timeout {args.timeout:g} must be a positive number of seconds")
    if args.simulator == "verilator" and args.verilator_binary is None:
        raise UserError("--simulator verilator needs --verilator-binary "
                        "(a Chipyard simulator-chipyard.harness-<Config> executable)")
    if args.cores < 1:
        raise UserError(f"--cores {args.cores} must be at least 1")


def snakemake_command(config: Path, out_dir: Path, targets: str | list[str],
                      cores: int) -> list[str]:
    return [
        sys.executable, "-m", SNAKEMAKE_MODULE, "-s", str(REPO_ROOT / "Snakefile"),
        "--directory", str(out_dir), "--cores", str(cores), "--configfile", str(config), "--",
        *([targets] if isinstance(targets, str) else targets),
    ]


# What each rule does, for the stage line ivit-infer prints while the workflow runs.
STAGES = {
    "export_demo_images": "writing the demo photographs",
    "make_demo_checkpoint": "making the demo checkpoint",
    "export_params": "exporting the integer params from the checkpoint",
    "quantize_images": "quantizing the image to int8",
    "write_gemmini_params": "writing the Gemmini configuration header",
    "emit_model_library": "compiling the model to C for Gemmini (TVM)",
    "build_model_library": "building libmodel.a (RISC-V)",
    "build_spike_extension": "building the Gemmini extension for Spike",
    "run_spike": "linking the image's program and simulating it on Spike",
    "run_verilator": "linking the image's program and simulating it on Verilator",
}
RULE_LINE = re.compile(r"^(?:local)?rule (\w+):")
TARGET_RULES = ("backend_outputs",)  # the target itself: no work, no stage line


def stage_of(line: str) -> str | None:
    """The stage a Snakemake output line announces (`rule run_spike:`), or None."""
    match = RULE_LINE.match(line.strip())
    if match is None or match.group(1) in TARGET_RULES:
        return None
    return STAGES.get(match.group(1), match.group(1))


def run_workflow(cmd: list[str], log: Path) -> None:
    """Run Snakemake with its output in `log`, printing each stage as it starts; on failure
    raise its `error:` lines as one."""
    with open(log, "w", encoding="utf-8") as fh:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert proc.stdout is not None
        for line in proc.stdout:
            fh.write(line)
            stage = stage_of(line)
            if stage is not None:
                print(f"ivit-infer: {stage} ...", file=sys.stderr, flush=True)
        returncode = proc.wait()
    if returncode != 0:
        text = log.read_text(encoding="utf-8", errors="replace").splitlines()
        errors = [ln.strip() for ln in text if ln.strip().startswith("error:")]
        reason = errors[-1].removeprefix("error:").strip() if errors else "see the log"
        raise UserError(f"the workflow failed: {reason} (full log: {log})")


def image_files(out_dir: Path, simulator: str, image: str) -> dict[str, str]:
    """The image's files from the newest shard summary of `simulator` (UserError if the
    simulation failed: its one-line reason and log)."""
    from ivit_gemmini.shards.job import OK, read_summary

    summaries = sorted((out_dir / "results/shards" / simulator).glob("*/*.json"),
                       key=lambda p: p.stat().st_mtime_ns)
    for path in reversed(summaries):
        entry = read_summary(path).get("images", {}).get(image)
        if entry is None:
            continue
        if entry.get("status") != OK:
            raise UserError(f"{simulator} failed on {image}: {entry.get('reason')} "
                            f"(log: {out_dir / entry.get('log', '')})")
        return dict(entry["files"])
    raise UserError(f"the workflow wrote no {simulator} result for {image}: see "
                    f"{out_dir / LOG_NAME}")


def format_top5(logits: list[int], names: list[str], k: int = 5) -> str:
    """The seed's block: `Top-5 Predictions:` then `  1. Class 282: tiger cat` lines."""
    from ivit_gemmini.evaluate.topk import topk

    lines = [f"Top-{k} Predictions:"]
    for rank, cls in enumerate(topk(logits, k), start=1):
        lines.append(f"  {rank}. Class {cls}: {names[cls]}")
    return "\n".join(lines)


def infer(args: argparse.Namespace) -> str:
    """Run the workflow for the image (or the folder's images) and return the text to print."""
    import numpy as np

    from ivit_gemmini.evaluate.class_names import resolve_class_names

    check_args(args)
    out_dir = args.output_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    images = image_ids(args.image)
    config = write_config(args, out_dir)
    targets = ["backend_outputs"]
    what = next(iter(images)) if len(images) == 1 else f"{len(images)} images"
    print(f"ivit-infer: running the workflow for {what} on {args.simulator} in {out_dir} "
          f"(log: {out_dir / LOG_NAME})", file=sys.stderr)
    from ivit_gemmini.runner import clear_stale_lock

    hint = f"{Path(sys.executable).parent / 'snakemake'} --unlock --directory {out_dir}"
    if clear_stale_lock(out_dir, hint):  # an earlier ivit-infer that was killed
        print(f"ivit-infer: removed the lock a killed run left in {out_dir}", file=sys.stderr)
    run_workflow(snakemake_command(config, out_dir, targets, args.cores), out_dir / LOG_NAME)

    manifest = json.loads((out_dir / "results/model/manifest.json").read_text(encoding="utf-8"))
    names = resolve_class_names(args.class_names, int(manifest["arch"]["num_classes"]))
    blocks = []
    for image, source in images.items():
        files = image_files(out_dir, args.simulator, image)
        logits = np.load(out_dir / files["logits"], allow_pickle=False).tolist()
        text = format_top5(logits, names)
        stats_path = out_dir / files.get("stats", "-")
        if stats_path.is_file():
            stats = json.loads(stats_path.read_text(encoding="utf-8"))
            total = stats.get("kernels", {}).get("total", {})
            if "instret" in total:
                text += (f"\n({args.simulator}: {total['instret']:,} instructions retired, "
                         f"{stats.get('wall_s', 0.0):.2f} s simulation wall time)")
        blocks.append(text if len(images) == 1 else f"{source.name}:\n{text}")
    text = "\n\n".join(blocks)
    if args.checkpoint == "demo":
        text += "\n(demo checkpoint: random weights, the classes mean nothing)"
    return text


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        print(infer(args))
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
