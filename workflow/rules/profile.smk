# Profile stage: one Spike run with the PC histogram (`-g`) and Rocket-sized cache models per
# model and Gemmini configuration, on the first image's ELF; its per-kernel core CPIs serve every
# image (the kernels' control flow hardly depends on the image), so the per-image Spike runs keep
# their speed. Then the per-image cycle table (counted instructions, modelled core and Gemmini
# cycles). The model is ivit_gemmini.simulate.core_cycles; docs/core-cycle-model.md.


from ivit_gemmini.simulate import core_cycles


localrules:
    tabulate_cycles,


PROFILE_IMAGE = next(iter(IMAGES))


rule profile_core_cycles:
    input:
        elf=f"results/elf/{{config}}/{PROFILE_IMAGE}.elf",
        extension="results/build/{config}/libgemmini.so",
        manifest="results/model/manifest.json",
        # The plain run of the same ELF: the histogram run must reproduce its logits.
        logits=f"results/logits/spike/{PROFILE_IMAGE}.npy",
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
    script:
        "../scripts/profile_core_cycles.py"


rule tabulate_cycles:
    input:
        stats=expand("results/stats/spike/{image}.json", image=IMAGES),
        profile=core_cycles.profile_files(config, get_build_config()),
    output:
        md="results/tables/cycles.md",
        csv="results/tables/cycles.csv",
    log:
        "logs/tabulate_cycles/tabulate_cycles.log",
    conda:
        "../../envs/simulate.yaml"
    script:
        "../scripts/tabulate_cycles.py"
