# Compile stage: params -> the Relax integer graph (TVMScript), the Gemmini model library
# (MLF-style archive, once per Gemmini configuration) and the tvm-cpu backend per image.

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
    script:
        "../scripts/emit_model_library.py"


rule run_tvm_cpu:
    input:
        npz="results/model/params.npz",
        manifest="results/model/manifest.json",
        image="results/inputs/{image}.bin",
    output:
        "results/logits/tvm-cpu/{image}.npy",
    log:
        "logs/run_tvm_cpu/{image}.log",
    benchmark:
        "results/benchmarks/run_tvm_cpu/{image}.tsv"
    conda:
        "../../envs/compile.yaml"
    params:
        cache_dir="results/build/tvm-cpu",
    script:
        "../scripts/run_tvm_cpu.py"
