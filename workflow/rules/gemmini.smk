# Gemmini configuration: config["gemmini"] -> the generated params header every build of this
# configuration compiles against (model library, Spike extension), first on the include path.
# An unsupported configuration, or one on which gemmini.h cannot tile the model's matmuls, stops
# the workflow at start-up with one line (every build of `gemmini_configs`).
from ivit_gemmini.gemmini.config import config_from_workflow
from ivit_gemmini.sweep.configs import check_feasible, startup_architecture

try:
    config_from_workflow(config["gemmini"])
    check_feasible(BUILDS, *startup_architecture(config["checkpoint"]))
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
        gemmini=get_gemmini_section,
    script:
        "../scripts/write_gemmini_params.py"
