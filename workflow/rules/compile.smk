# Compile stage: params -> the Relax integer graph (TVMScript), the Gemmini model library
# (MLF-style archive, once per Gemmini configuration), the tvm-cpu library (once per model)
# and the tvm-cpu backend per shard of images.

register_backend("tvm-cpu")


rule write_relax_graph:
    input:
        npz="results/model/params.npz",
        manifest="results/model/manifest.json",
    output:
        "results/model/graph.py",
    log:
        "logs/write_relax_graph/write_relax_graph.log",
    benchmark:
        "results/benchmarks/write_relax_graph/write_relax_graph.tsv"
    conda:
        "../../envs/compile.yaml"
    params:
        code=stage_code("relax_graph"),
    script:
        "../scripts/write_relax_graph.py"


rule emit_model_library:
    input:
        npz="results/model/params.npz",
        manifest="results/model/manifest.json",
    output:
        archive="results/build/{config}/model.tar",
        metadata="results/build/{config}/metadata.json",
    log:
        "logs/emit_model_library/{config}.log",
    benchmark:
        "results/benchmarks/emit_model_library/{config}.tsv"
    conda:
        "../../envs/compile.yaml"
    params:
        gemmini=get_gemmini_section,
        code=stage_code("model_library"),
    script:
        "../scripts/emit_model_library.py"


rule build_tvm_cpu_library:
    input:
        npz="results/model/params.npz",
        manifest="results/model/manifest.json",
    output:
        "results/build/tvm-cpu/model.so",
    log:
        "logs/build_tvm_cpu_library/build_tvm_cpu_library.log",
    benchmark:
        "results/benchmarks/build_tvm_cpu_library/build_tvm_cpu_library.tsv"
    conda:
        "../../envs/compile.yaml"
    params:
        code=stage_code("tvm-cpu-library"),
    script:
        "../scripts/build_tvm_cpu_library.py"


rule run_tvm_cpu:
    input:
        library="results/build/tvm-cpu/model.so",
        manifest="results/model/manifest.json",
        quantized=shard_summary("quantize"),
    output:
        update("results/shards/tvm-cpu/{shard}.json"),
    log:
        "logs/run_tvm_cpu/{shard}.log",
    benchmark:
        "results/benchmarks/run_tvm_cpu/{shard}.tsv"
    conda:
        "../../envs/compile.yaml"
    threads: config["shards"]["threads"]
    resources:
        runtime=shard_runtime(config["shards"]["host_timeout_s"]),
        mem_mb=config["shards"]["mem_mb"],
        cpus_per_task=config["shards"]["threads"],
    params:
        backend="tvm-cpu",
        images=shard_images,
        code=stage_code("tvm-cpu"),
    script:
        "../scripts/run_host_shard.py"
