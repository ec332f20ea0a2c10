# Config validation, wildcard constraints and the input functions every stage uses.
# Logic that grows beyond a few lines belongs in the ivit_gemmini package, not here.
import os
import sys
from pathlib import Path

# The checkout this Snakefile belongs to, for the package (ivit_gemmini.paths: the C sources
# under gemmini/) and for the conda envs' post-deploy script (envs/install-package.sh), in
# this process and every job it starts, however the package was installed. (Set, not read:
# not an `envvars:` requirement; update() keeps snakemake --lint from taking it for one.)
os.environ.update(IVIT_GEMMINI_REPO=str(Path(workflow.basedir).resolve()))

from ivit_gemmini.codehash import stage_code
from ivit_gemmini.config import load_schema, validate_config
from ivit_gemmini.errors import UserError
from ivit_gemmini.firmware.elf import firmware_dependencies, library_dependencies
from ivit_gemmini.model.architecture import DEMO_CHECKPOINTS
from ivit_gemmini.model.images import DEMO_IMAGES, ID_PATTERN, find_images
from ivit_gemmini.model.checkpoint_peek import checkpoint_num_classes
from ivit_gemmini.paper.dataset import (
    DIGITS_SOURCE,
    check_folder_labels,
    dataset_images,
    image_sources,
)
from ivit_gemmini.shards.plan import SHARD_PATTERN, image_stamp, plan_shards
from ivit_gemmini.simulate.resources import slurm_runtime_minutes
from ivit_gemmini.sweep.configs import expand_builds

# Backends whose logits some rule can produce; each stage registers the ones it implements.
AVAILABLE_BACKENDS = []


wildcard_constraints:
    image=ID_PATTERN,
    backend="[a-z][a-z0-9-]*",
    shard=SHARD_PATTERN,
    config="[A-Za-z0-9_.-]+",


# With profiles/slurm every shard job (quantize_images and each backend's run_* rule) and every
# build is a SLURM job; only these small aggregation rules run on the submitting host
# (tests/test_verilator_workflow.py checks that this list names no shard rule).
localrules:
    all,
    model_only,
    tables,
    backend_outputs,
    export_demo_images,
    make_demo_checkpoint,
    write_gemmini_params,
    tabulate_predictions,
    compute_agreement,
    collect_failures,
    check_failures,


# Backends simulated per Gemmini configuration: their outputs sit under .../<backend>/<config>/.
SIMULATORS = ("spike", "spike-rtl", "verilator")


def register_backend(name):
    """Called by a stage .smk that has a rule writing results/logits/<name>/{image}.npy."""
    AVAILABLE_BACKENDS.append(name)


def check_backends():
    """After all includes: every configured backend must have a rule (one line if not)."""
    missing = [b for b in config["backends"] if b not in AVAILABLE_BACKENDS]
    if missing:
        sys.exit(
            f"error: backend(s) {', '.join(missing)} are not available in this workflow yet "
            f"(available: {', '.join(AVAILABLE_BACKENDS)}); fix config 'backends'"
        )


def is_demo_checkpoint():
    """demo, demo-small, demo-base: a seeded DeiT made here (random weights)."""
    return config["checkpoint"] in DEMO_CHECKPOINTS


def get_demo_checkpoint_name(wildcards):
    """demo_small -> demo-small: the `checkpoint:` value whose architecture to make."""
    return wildcards.demo.replace("_", "-")


def is_digits_checkpoint():
    """checkpoint "digits": the QAT model that report.smk trains on scikit-learn's digits."""
    return config["checkpoint"] == "digits"


def get_checkpoint():
    """The checkpoint file: the generated demo one, the trained digits one, or the user's."""
    if is_demo_checkpoint():
        return f"results/model/{config['checkpoint'].replace('-', '_')}_checkpoint.pth"
    if is_digits_checkpoint():
        return "results/paper/digits/checkpoint.pth"
    return config["checkpoint"]


def get_num_classes():
    """The checkpoint's class count when it can be known at start-up (None otherwise)."""
    if is_demo_checkpoint():
        return 1000
    if is_digits_checkpoint():
        return 10
    return checkpoint_num_classes(config["checkpoint"])


def get_image_source(wildcards):
    return IMAGES[wildcards.image]


def shard_summary(stage, shard="{shard}", build=None):
    """The summary file of one shard job of `stage` (a backend or "quantize")."""
    if stage in SIMULATORS:
        return f"results/shards/{stage}/{build or get_build_config()}/{shard}.json"
    return f"results/shards/{stage}/{shard}.json"


def get_summaries(backends=None):
    """Summaries of every shard of the given backends (default: the configured ones)."""
    chosen = config["backends"] if backends is None else backends
    return [shard_summary(b, s) for b in chosen for s in SHARDS]


def shard_images(wildcards):
    return SHARDS[wildcards.shard]


def shard_image_files(wildcards):
    """The image files of a shard that the workflow makes (the demo photographs), inputs of its
    quantization. The user's own images are not inputs (50,000 input files slow the DAG
    down): `shard_image_stamp` reruns the shard when one of them changes."""
    return [
        IMAGES[i] for i in SHARDS[wildcards.shard] if IMAGES[i].startswith("results/")
    ]


def shard_image_stamp(wildcards):
    """Size and modification time of the shard's own image files, as a params entry: an
    edited or replaced image reruns its shard (which computes only that image)."""
    return image_stamp(
        [
            IMAGES[i]
            for i in SHARDS[wildcards.shard]
            if IMAGES[i] != DIGITS_SOURCE and not IMAGES[i].startswith("results/")
        ]
    )


def shard_sources(wildcards):
    return {i: IMAGES[i] for i in SHARDS[wildcards.shard]}


def shard_runtime(timeout_s):
    """SLURM minutes of a shard job: its images times the per-image timeout."""
    return slurm_runtime_minutes(timeout_s * max(len(v) for v in SHARDS.values()))


def rel(paths):
    """Repository files relative to the working directory: a moved or cloned checkout (with
    its results) keeps the same paths, so nothing reruns (issue 14.5)."""
    return [os.path.relpath(p) for p in paths]


def get_model_output():
    return [
        "results/model/params.npz",
        "results/model/manifest.json",
    ] + get_summaries(["quantize"])


def get_table_output():
    return [
        "results/tables/predictions.csv",
        "results/tables/predictions.md",
        "results/tables/agreement.csv",
        "results/tables/agreement.md",
        "results/tables/failures.csv",
        "results/tables/failures.md",
    ]


def get_final_output():
    """Everything `rule all` builds; later stages (report) append their targets here."""
    return (
        get_model_output()
        + ["results/model/graph.py"]
        + get_table_output()
        + ["results/tables/complete.txt"]
    )


try:
    validate_config(
        config,
        load_schema(Path(workflow.basedir) / "workflow/schemas/config.schema.yaml"),
    )
    # A `dataset:` source (paper tables) replaces `images`; see ivit_gemmini.paper.dataset.
    IMAGES = dataset_images(config["dataset"])
    if IMAGES is not None:
        pass
    elif config["images"] == "demo":
        names = config["demo_images"] or DEMO_IMAGES
        IMAGES = {name: f"results/images/demo/{name}.png" for name in names}
    else:
        IMAGES = {k: str(p) for k, p in find_images(config["images"]).items()}
    if (
        not is_demo_checkpoint()
        and not is_digits_checkpoint()
        and not Path(config["checkpoint"]).is_file()
    ):
        raise UserError(
            f"checkpoint not found: {config['checkpoint']} (looked for "
            f"{Path(config['checkpoint']).resolve()}; fix config 'checkpoint' or use 'demo')"
        )
    SHARDS = plan_shards(IMAGES, config["shards"]["size"])
    # Each image's file as the tables name it (a relative path where possible).
    IMAGE_SOURCES = image_sources(IMAGES, config["dataset"])
    # A folder data set's labels are checked now, not after every backend ran on every image.
    if config["dataset"]["source"] == "folder":
        check_folder_labels(config["dataset"], IMAGES, get_num_classes())
    # The Gemmini builds of this run: `gemmini_configs` (deduplicated by value) or `gemmini`.
    BUILDS = expand_builds(config)
except UserError as err:
    sys.exit(f"error: {err}")


def get_build_config():
    """Name of the (first) Gemmini build configuration: the model library is built per
    configuration under results/build/<name>/; simulator outputs sit under
    .../<backend>/<name>/."""
    return next(iter(BUILDS))


def get_gemmini_section(wildcards):
    """The `gemmini:`-style section of the build {config} (the first build's for a folder no
    configuration names: write_gemmini_params then refuses it)."""
    build = BUILDS.get(wildcards.config) or BUILDS[get_build_config()]
    return build.section


def get_spike_extension_sources():
    """Every file the extension build reads (repository paths, so they work from any --directory)."""
    root = Path(workflow.basedir) / "gemmini"
    files = [p for p in (root / "spike").iterdir() if p.suffix in (".cc", ".h")]
    files += [
        root / "include" / "gemmini_params.h",
        root / "isa" / "gemmini_commands.h",
    ]
    return rel(sorted(str(p) for p in files if p.is_file()))
