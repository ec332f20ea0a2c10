# Firmware stage: the model archive -> libmodel.a once per build config. Each image's ELF (its
# int8 input linked with main + runtime + libmodel.a) is made inside the simulator's shard job,
# in a temporary folder: the parameters are on disk once per configuration (issue 14.8).


rule build_model_library:
    input:
        archive="results/build/{config}/model.tar",
        params="results/build/{config}/include/gemmini_params.h",
        sources=rel(library_dependencies()),
    output:
        "results/build/{config}/libmodel.a",
    log:
        "logs/build_model_library/{config}.log",
    benchmark:
        "results/benchmarks/build_model_library/{config}.tsv"
    wildcard_constraints:
        config="[A-Za-z0-9_.-]+",
    conda:
        "../../envs/firmware.yaml"
    threads: 2
    params:
        code=stage_code("model_library"),
    script:
        "../scripts/build_model_library.py"
