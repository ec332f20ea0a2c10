# Sweep stage: this run's model on every Gemmini build of `gemmini_configs` (one row each in
# results/sweep/points.csv), then the sweep tables and figures joining the points of one or more
# runs (config sweep.runs; `make sweep` runs one folder per DeiT size). Logic:
# ivit_gemmini.sweep.


from ivit_gemmini.simulate import core_cycles
from ivit_gemmini.sweep import targets as sweep_targets


localrules:
    sweep,
    sweep_points,
    aggregate_sweep,


# Per-image files the Spike shard jobs write (ivit_gemmini.shards.stages), as path patterns.
SWEEP_STATS = "results/stats/spike/{config}/{image}.json"
SWEEP_LOGITS = "results/logits/spike/{config}/{image}.npy"


rule sweep_points:
    input:
        manifest="results/model/manifest.json",
        # Spike on every build (the shard jobs write the per-image files).
        spike=[shard_summary("spike", s, build=b) for b in BUILDS for s in SHARDS],
        reference=get_summaries(["torch-int"]),
        # Each build's own core-cycle profile (its glue code and cache behaviour differ).
        profiles=[p for b in BUILDS for p in core_cycles.profile_files(config, b)],
    output:
        "results/sweep/points.csv",
    log:
        "logs/sweep_points/sweep_points.log",
    conda:
        "../../envs/evaluate.yaml"
    params:
        builds=sweep_targets.builds_param(BUILDS),
        images=list(IMAGES),
        # Path patterns (in a dict: Snakemake leaves their {config} and {image} alone).
        patterns={
            "stats": SWEEP_STATS,
            "spike_logits": SWEEP_LOGITS,
            "reference_logits": "results/logits/torch-int/{image}.npy",
            "profile": (core_cycles.profile_files(config, "{config}") or [None])[0],
        },
    script:
        "../scripts/sweep_points.py"


rule aggregate_sweep:
    input:
        points=sweep_targets.points_files(config),
    output:
        csv=report(
            "results/sweep/sweep.csv",
            caption="../report/sweep.rst",
            category="Sweep",
        ),
        md=report(
            "results/sweep/sweep.md",
            caption="../report/sweep.rst",
            category="Sweep",
        ),
        cycles=report(
            "results/sweep/cycles_per_image.png",
            caption="../report/fig_sweep_cycles.rst",
            category="Sweep",
        ),
        utilization=report(
            "results/sweep/utilization.png",
            caption="../report/fig_sweep_utilization.rst",
            category="Sweep",
        ),
    log:
        "logs/aggregate_sweep/aggregate_sweep.log",
    conda:
        "../../envs/evaluate.yaml"
    params:
        on_mismatch=config["agreement"]["on_mismatch"],
    script:
        "../scripts/aggregate_sweep.py"


rule sweep:
    input:
        rules.aggregate_sweep.output,
