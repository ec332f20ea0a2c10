# Simulate stage (Spike): our Gemmini extension for the installed spike, then one run per image.
# The Spike log is a `log:` so it is kept when the run fails; the logits are written last, only
# after a complete, parsed prediction block.


from ivit_gemmini.simulate.resources import slurm_runtime_minutes

register_backend("spike")


rule build_spike_extension:
    input:
        sources=get_spike_extension_sources(),
        params="results/build/{config}/include/gemmini_params.h",
    output:
        "results/build/{config}/libgemmini.so",
    log:
        "logs/build_spike_extension/{config}.log",
    benchmark:
        "results/benchmarks/build_spike_extension/{config}.tsv"
    wildcard_constraints:
        config="[A-Za-z0-9_.-]+",
    conda:
        "../../envs/simulate.yaml"
    params:
        cache_dir=str(Path(workflow.basedir) / "build" / "spike"),
    script:
        "../scripts/build_spike_extension.py"


rule run_spike:
    input:
        elf=get_firmware_elf,
        extension=f"results/build/{get_build_config()}/libgemmini.so",
        manifest="results/model/manifest.json",
    output:
        logits="results/logits/spike/{image}.npy",
        stats="results/stats/spike/{image}.json",
    log:
        stage="logs/run_spike/{image}.log",
        spike="results/logs/spike/{image}.log",
    benchmark:
        "results/benchmarks/run_spike/{image}.tsv"
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
