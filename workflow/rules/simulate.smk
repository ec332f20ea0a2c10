# Simulate stage (Spike): our Gemmini extension for the installed spike, then one job per shard
# of images and Gemmini configuration: per image a temporary ELF, its Spike log, stats and
# logits under results/{logs,stats,logits}/spike/<config>/ (logits last, only after a complete,
# parsed prediction block). A trap or timeout is a failure record, not a failed job.


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
        cache_dir=os.path.relpath(Path(workflow.basedir) / "build" / "spike"),
        code=stage_code("spike_extension"),
    script:
        "../scripts/build_spike_extension.py"


rule run_spike:
    input:
        library="results/build/{config}/libmodel.a",
        extension="results/build/{config}/libgemmini.so",
        manifest="results/model/manifest.json",
        quantized=shard_summary("quantize"),
        sources=rel(firmware_dependencies()),
    output:
        update("results/shards/spike/{config}/{shard}.json"),
    log:
        "logs/run_spike/{config}/{shard}.log",
    benchmark:
        "results/benchmarks/run_spike/{config}/{shard}.tsv"
    conda:
        "../../envs/simulate.yaml"
    resources:
        runtime=shard_runtime(config["spike"]["timeout_s"]),
        mem_mb=config["spike"]["mem_mb"],
        cpus_per_task=1,
    params:
        images=shard_images,
        timeout_s=config["spike"]["timeout_s"],
        code=stage_code("spike"),
        memory_mb=config["firmware"]["memory_mb"],
        stack_kb=config["firmware"]["stack_kb"],
    script:
        "../scripts/run_spike.py"
