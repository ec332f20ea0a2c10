# Firmware stage: the model archive -> libmodel.a once per build config; then per image only its
# int8 input is assembled and linked with main + runtime + libmodel.a (seconds, not a rebuild).
from ivit_gemmini.firmware.elf import firmware_dependencies, library_dependencies


def get_firmware_build_config():
    """The build config whose model.tar the firmware links: the compile stage's choice when it
    defines get_build_config(), else "default"."""
    chooser = globals().get("get_build_config")
    return chooser() if callable(chooser) else "default"


def get_firmware_elf(wildcards):
    return f"results/elf/{get_firmware_build_config()}/{wildcards.image}.elf"


rule build_model_library:
    input:
        archive="results/build/{config}/model.tar",
        sources=library_dependencies(),
    output:
        "results/build/{config}/libmodel.a",
    log:
        "logs/build_model_library/{config}.log",
    benchmark:
        "results/benchmarks/build_model_library/{config}.tsv"
    wildcard_constraints:
        config="[A-Za-z0-9_.-]+",
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
    script:
        "../scripts/build_firmware_elf.py"
