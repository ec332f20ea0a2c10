# Sweep stage: this run's model on every Gemmini build of `gemmini_configs` (one row each in
# results/sweep/points.csv), then the sweep tables and figures joining the points of one or more
# runs (config sweep.runs; `make sweep` runs one folder per DeiT size). Logic:
# ivit_gemmini.sweep.


from ivit_gemmini.sweep import targets as sweep_targets


localrules:
    sweep,
    sweep_points,
    aggregate_sweep,


# Per-image Spike outputs of a build, as path patterns ({config}, {image}).
SWEEP_STATS = "results/sweep/stats/{config}/{image}.json"
SWEEP_LOGITS = "results/sweep/logits/{config}/{image}.npy"


rule run_spike_config:
    input:
        elf="results/elf/{config}/{image}.elf",
        extension="results/build/{config}/libgemmini.so",
        manifest="results/model/manifest.json",
    output:
        logits=SWEEP_LOGITS,
        stats=SWEEP_STATS,
    log:
        stage="logs/run_spike_config/{config}/{image}.log",
        spike="results/sweep/logs/{config}/{image}.log",
    benchmark:
        "results/benchmarks/run_spike_config/{config}/{image}.tsv"
    wildcard_constraints:
        config="[A-Za-z0-9_.-]+",
    conda:
        "../../envs/simulate.yaml"
    resources:
        runtime=slurm_runtime_minutes(config["spike"]["timeout_s"]),
        mem_mb=config["spike"]["mem_mb"],
        cpus_per_task=1,
    params:
        timeout_s=config["spike"]["timeout_s"],
        memory_mb=config["firmware"]["memory_mb"],
    script:
        "../scripts/run_spike.py"


rule sweep_points:
    input:
        manifest="results/model/manifest.json",
        stats=expand(SWEEP_STATS, config=BUILDS, image=IMAGES),
        logits=expand(SWEEP_LOGITS, config=BUILDS, image=IMAGES),
        reference=expand("results/logits/torch-int/{image}.npy", image=IMAGES),
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
            "profile": None,
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
