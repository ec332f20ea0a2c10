# Simulate stage (Spike): our Gemmini extension for the installed spike, then one run per image.
# The Spike log is a `log:` so it is kept when the run fails; the logits are written last, only
# after a complete, parsed prediction block.


from ivit_gemmini.simulate.resources import slurm_runtime_minutes

register_backend("spike")


def get_spike_extension_sources():
    """Every file the extension build reads (repository paths, so they work from any --directory)."""
    root = Path(workflow.basedir) / "gemmini"
    files = [p for p in (root / "spike").iterdir() if p.suffix in (".cc", ".h")]
    files += [
        root / "include" / "gemmini_params.h",
        root / "isa" / "gemmini_commands.h",
    ]
    return sorted(str(p) for p in files if p.is_file())


rule build_spike_extension:
    input:
        get_spike_extension_sources(),
    output:
        "results/build/spike/libgemmini.so",
    log:
        "logs/build_spike_extension/build_spike_extension.log",
    benchmark:
        "results/benchmarks/build_spike_extension/build_spike_extension.tsv"
    params:
        cache_dir=str(Path(workflow.basedir) / "build" / "spike"),
    script:
        "../scripts/build_spike_extension.py"


rule run_spike:
    input:
        elf=get_firmware_elf,
        extension="results/build/spike/libgemmini.so",
        manifest="results/model/manifest.json",
    output:
        logits="results/logits/spike/{image}.npy",
        stats="results/stats/spike/{image}.json",
    log:
        stage="logs/run_spike/{image}.log",
        spike="results/logs/spike/{image}.log",
    benchmark:
        "results/benchmarks/run_spike/{image}.tsv"
    resources:
        runtime=slurm_runtime_minutes(config["spike"]["timeout_s"]),
        mem_mb=config["spike"]["mem_mb"],
        cpus_per_task=1,
    params:
        timeout_s=config["spike"]["timeout_s"],
    script:
        "../scripts/run_spike.py"
