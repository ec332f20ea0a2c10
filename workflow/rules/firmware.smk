# Firmware stage: the model archive -> libmodel.a once per build config; then per image only its
# int8 input is assembled and linked with main + runtime + libmodel.a (seconds, not a rebuild).


rule build_model_library:
    input:
        archive="results/build/{config}/model.tar",
        params="results/build/{config}/include/gemmini_params.h",
        sources=library_dependencies(),
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
    script:
        "../scripts/build_model_library.py"


rule build_firmware_elf:
    input:
        library="results/build/{config}/libmodel.a",
        image="results/inputs/{image}.bin",
        manifest="results/model/manifest.json",
        sources=firmware_dependencies(),
    output:
        "results/elf/{config}/{image}.elf",
    log:
        "logs/build_firmware_elf/{config}/{image}.log",
    benchmark:
        "results/benchmarks/build_firmware_elf/{config}/{image}.tsv"
    wildcard_constraints:
        config="[A-Za-z0-9_.-]+",
    conda:
        "../../envs/firmware.yaml"
    params:
        memory_mb=config["firmware"]["memory_mb"],
        stack_kb=config["firmware"]["stack_kb"],
    script:
        "../scripts/build_firmware_elf.py"
