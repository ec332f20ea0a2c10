# spike-rtl backend: the same ELF as `spike`, on Spike with a second build of our Gemmini
# extension in which every PRELOAD / COMPUTE runs on our SystemVerilog mesh (gemmini/rtl/),
# simulated cycle by cycle by Verilator for the configuration's DIM. Mirrors simulate.smk's
# run_spike; the stage code is the same (ivit_gemmini.simulate.spike_stage).
from ivit_gemmini.simulate.rtl import rtl_build_inputs

register_backend("spike-rtl")


rule build_spike_rtl_extension:
    input:
        sources=get_spike_extension_sources(),
        rtl=rtl_build_inputs(),
        params="results/build/{config}/include/gemmini_params.h",
    output:
        "results/build/{config}/libgemmini-rtl.so",
    log:
        "logs/build_spike_rtl_extension/{config}.log",
    benchmark:
        "results/benchmarks/build_spike_rtl_extension/{config}.tsv"
    wildcard_constraints:
        config="[A-Za-z0-9_.-]+",
    conda:
        "../../envs/simulate.yaml"
    params:
        cache_dir=os.path.relpath(Path(workflow.basedir) / "build" / "spike"),
        broken_pe=config["spike_rtl"]["broken_pe"],
    script:
        "../scripts/build_spike_rtl_extension.py"


rule run_spike_rtl:
    input:
        library="results/build/{config}/libmodel.a",
        extension="results/build/{config}/libgemmini-rtl.so",
        manifest="results/model/manifest.json",
        quantized=shard_summary("quantize"),
        sources=rel(firmware_dependencies()),
    output:
        update("results/shards/spike-rtl/{config}/{shard}.json"),
    log:
        "logs/run_spike_rtl/{config}/{shard}.log",
    benchmark:
        "results/benchmarks/run_spike_rtl/{config}/{shard}.tsv"
    conda:
        "../../envs/simulate.yaml"
    resources:
        runtime=shard_runtime(config["spike_rtl"]["timeout_s"]),
        mem_mb=config["spike_rtl"]["mem_mb"],
        cpus_per_task=1,
    params:
        images=shard_images,
        timeout_s=config["spike_rtl"]["timeout_s"],
        code=stage_code("spike"),
        memory_mb=config["firmware"]["memory_mb"],
        stack_kb=config["firmware"]["stack_kb"],
    script:
        "../scripts/run_spike_rtl.py"
