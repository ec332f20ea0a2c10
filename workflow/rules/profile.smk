# Profile stage: one Spike run with the PC histogram (`-g`) and Rocket-sized cache models per
# model and Gemmini configuration, on the ELF of the first image of the first spike shard that
# succeeded (linked in a temporary folder, as the shard job links it); its per-kernel core CPIs
# serve every image (the kernels' control flow hardly depends on the image), so the per-image
# Spike runs keep their speed. Then the per-image cycle table (counted instructions, modelled
# core and Gemmini cycles, from the stats the spike shard jobs wrote). The model is
# ivit_gemmini.simulate.core_cycles; docs/core-cycle-model.md.


from ivit_gemmini.simulate import core_cycles


localrules:
    tabulate_cycles,


# The first shard: the profiled image is its first that ran on Spike.
PROFILE_SHARD = next(iter(SHARDS))


rule profile_core_cycles:
    input:
        # Its plain run: the histogram run must reproduce those logits.
        spike=shard_summary("spike", PROFILE_SHARD, build="{config}"),
        library="results/build/{config}/libmodel.a",
        extension="results/build/{config}/libgemmini.so",
        manifest="results/model/manifest.json",
        sources=rel(firmware_dependencies()),
    output:
        "results/profile/{config}/core_cycles.json",
    log:
        stage="logs/profile_core_cycles/{config}.log",
        spike="results/logs/profile/{config}.log",
    benchmark:
        "results/benchmarks/profile_core_cycles/{config}.tsv"
    wildcard_constraints:
        config="[A-Za-z0-9_.-]+",
    conda:
        "../../envs/simulate.yaml"
    resources:
        runtime=slurm_runtime_minutes(10 * config["spike"]["timeout_s"]),
        mem_mb=config["spike"]["mem_mb"],
        cpus_per_task=1,
    params:
        # The histogram and cache models slow Spike down: allow 10x the plain run's timeout.
        timeout_s=10 * config["spike"]["timeout_s"],
        memory_mb=config["firmware"]["memory_mb"],
        stack_kb=config["firmware"]["stack_kb"],
    script:
        "../scripts/profile_core_cycles.py"


rule tabulate_cycles:
    input:
        summaries=get_summaries(["spike"]),
        profile=core_cycles.profile_files(config, get_build_config()),
    output:
        md="results/tables/cycles.md",
        csv="results/tables/cycles.csv",
    log:
        "logs/tabulate_cycles/tabulate_cycles.log",
    conda:
        "../../envs/simulate.yaml"
    params:
        images=list(IMAGES),
    script:
        "../scripts/tabulate_cycles.py"
