# Verilator stage (RTL): the same ELF as Spike on a Chipyard simulator built elsewhere (e.g.
# `make CONFIG=GemminiRocketConfig` in Chipyard's sims/verilator), with Chipyard's command line.
# Off unless config verilator.simulator names one; a configured simulator is checked here, at
# start-up. The simulator log is a `log:` so it is kept when the run fails; logits come last.
from ivit_gemmini.simulate.resources import slurm_runtime_minutes
from ivit_gemmini.simulate.verilator_stage import check_verilator_config

register_backend("verilator")

try:
    VERILATOR_SIMULATOR = check_verilator_config(
        config["verilator"], config["backends"]
    )
except UserError as err:
    sys.exit(f"error: {err}")
# The simulator binary is an input, so a rebuilt simulator reruns the stage.
VERILATOR_INPUT = [] if VERILATOR_SIMULATOR is None else [str(VERILATOR_SIMULATOR)]


rule run_verilator:
    input:
        elf=get_firmware_elf,
        manifest="results/model/manifest.json",
        simulator=VERILATOR_INPUT,
    output:
        logits="results/logits/verilator/{image}.npy",
        stats="results/stats/verilator/{image}.json",
    log:
        stage="logs/run_verilator/{image}.log",
        verilator="results/logs/verilator/{image}.log",
    benchmark:
        "results/benchmarks/run_verilator/{image}.tsv"
    conda:
        "../../envs/verilator.yaml"
    resources:
        runtime=slurm_runtime_minutes(config["verilator"]["timeout_s"]),
        mem_mb=config["verilator"]["mem_mb"],
        cpus_per_task=1,
    params:
        simulator=config["verilator"]["simulator"],
        dramsim_ini_dir=config["verilator"]["dramsim_ini_dir"],
        max_cycles=config["verilator"]["max_cycles"],
        timeout_s=config["verilator"]["timeout_s"],
    script:
        "../scripts/run_verilator.py"
