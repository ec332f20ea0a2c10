# Gemmini configuration: config["gemmini"] -> the generated params header every build of this
# configuration compiles against (model library, Spike extension), first on the include path.
# An unsupported configuration stops the workflow at start-up with one line.
from ivit_gemmini.gemmini.config import config_from_workflow

try:
    config_from_workflow(config["gemmini"])
except UserError as err:
    sys.exit(f"error: {err}")


rule write_gemmini_params:
    output:
        "results/build/{config}/include/gemmini_params.h",
    log:
        "logs/write_gemmini_params/{config}.log",
    wildcard_constraints:
        config="[A-Za-z0-9_.-]+",
    conda:
        "../../envs/firmware.yaml"
    params:
        gemmini=config["gemmini"],
        build_config=get_build_config(),
    script:
        "../scripts/write_gemmini_params.py"
