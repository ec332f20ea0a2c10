# Verilator stage (RTL): the same ELF as Spike on a Chipyard simulator built elsewhere (e.g.
# `make CONFIG=GemminiRocketConfig` in Chipyard's sims/verilator), with Chipyard's command line.
# Off unless config verilator.simulator names one; a configured simulator is checked here, at
# start-up. One job per shard and configuration, as run_spike (a temporary ELF per image).
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
        library="results/build/{config}/libmodel.a",
        manifest="results/model/manifest.json",
        quantized=shard_summary("quantize"),
        sources=rel(firmware_dependencies()),
        simulator=VERILATOR_INPUT,
    output:
        update("results/shards/verilator/{config}/{shard}.json"),
    log:
        "logs/run_verilator/{config}/{shard}.log",
    benchmark:
        "results/benchmarks/run_verilator/{config}/{shard}.tsv"
    conda:
        "../../envs/verilator.yaml"
    resources:
        runtime=shard_runtime(config["verilator"]["timeout_s"]),
        mem_mb=config["verilator"]["mem_mb"],
        cpus_per_task=1,
    params:
        images=shard_images,
        simulator=config["verilator"]["simulator"],
        dramsim_ini_dir=config["verilator"]["dramsim_ini_dir"],
        max_cycles=config["verilator"]["max_cycles"],
        timeout_s=config["verilator"]["timeout_s"],
        memory_mb=config["firmware"]["memory_mb"],
        stack_kb=config["firmware"]["stack_kb"],
        code=stage_code("verilator"),
    script:
        "../scripts/run_verilator.py"
