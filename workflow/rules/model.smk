# Model stage: demo images and checkpoint, checkpoint -> integer params, images -> int8 inputs,
# and the two host reference backends (torch-int, torch-fakequant). Per-image work runs in
# shards (one job per shard, ivit_gemmini.shards): the job's declared output is its summary
# (update(): Snakemake keeps it, the job reuses its current entries), the per-image files
# (results/inputs/<image>.bin, results/logits/<backend>/<image>.npy) are written by the job.


register_backend("torch-int")
register_backend("torch-fakequant")


rule export_demo_images:
    output:
        expand("results/images/demo/{image}.png", image=DEMO_IMAGES),
    log:
        "logs/export_demo_images/export_demo_images.log",
    benchmark:
        "results/benchmarks/export_demo_images/export_demo_images.tsv"
    conda:
        "../../envs/model.yaml"
    script:
        "../scripts/export_demo_images.py"


rule make_demo_checkpoint:
    input:
        expand("results/images/demo/{image}.png", image=DEMO_IMAGES),
    output:
        "results/model/{demo}_checkpoint.pth",
    log:
        "logs/make_demo_checkpoint/{demo}.log",
    benchmark:
        "results/benchmarks/make_demo_checkpoint/{demo}.tsv"
    wildcard_constraints:
        demo="demo(_tiny|_small|_base)?",
    conda:
        "../../envs/model.yaml"
    params:
        checkpoint=get_demo_checkpoint_name,
    script:
        "../scripts/make_demo_checkpoint.py"


rule export_params:
    input:
        checkpoint=get_checkpoint(),
    output:
        npz="results/model/params.npz",
        manifest="results/model/manifest.json",
    log:
        "logs/export_params/export_params.log",
    benchmark:
        "results/benchmarks/export_params/export_params.tsv"
    conda:
        "../../envs/model.yaml"
    params:
        num_heads=config["num_heads"],
        code=stage_code("export_params"),
    script:
        "../scripts/export_params.py"


rule quantize_images:
    input:
        images=shard_image_files,
        manifest="results/model/manifest.json",
    output:
        update("results/shards/quantize/{shard}.json"),
    log:
        "logs/quantize_images/{shard}.log",
    benchmark:
        "results/benchmarks/quantize_images/{shard}.tsv"
    conda:
        "../../envs/model.yaml"
    resources:
        runtime=shard_runtime(config["shards"]["host_timeout_s"]),
        mem_mb=config["shards"]["mem_mb"],
        cpus_per_task=1,
    params:
        sources=shard_sources,
        stamp=shard_image_stamp,
        exif_orientation=config["exif_orientation"],
        code=stage_code("quantize"),
    script:
        "../scripts/quantize_shard.py"


rule run_torch_int:
    input:
        npz="results/model/params.npz",
        manifest="results/model/manifest.json",
        quantized=shard_summary("quantize"),
    output:
        update("results/shards/torch-int/{shard}.json"),
    log:
        "logs/run_torch_int/{shard}.log",
    benchmark:
        "results/benchmarks/run_torch_int/{shard}.tsv"
    conda:
        "../../envs/model.yaml"
    threads: config["shards"]["threads"]
    resources:
        runtime=shard_runtime(config["shards"]["host_timeout_s"]),
        mem_mb=config["shards"]["mem_mb"],
        cpus_per_task=config["shards"]["threads"],
    params:
        backend="torch-int",
        images=shard_images,
        code=stage_code("torch-int"),
    script:
        "../scripts/run_host_shard.py"


rule run_torch_fakequant:
    input:
        checkpoint=get_checkpoint(),
        npz="results/model/params.npz",
        manifest="results/model/manifest.json",
        quantized=shard_summary("quantize"),
    output:
        update("results/shards/torch-fakequant/{shard}.json"),
    log:
        "logs/run_torch_fakequant/{shard}.log",
    benchmark:
        "results/benchmarks/run_torch_fakequant/{shard}.tsv"
    conda:
        "../../envs/model.yaml"
    threads: config["shards"]["threads"]
    resources:
        runtime=shard_runtime(config["shards"]["host_timeout_s"]),
        mem_mb=config["shards"]["mem_mb"],
        cpus_per_task=config["shards"]["threads"],
    params:
        backend="torch-fakequant",
        images=shard_images,
        num_heads=config["num_heads"],
        code=stage_code("torch-fakequant"),
    script:
        "../scripts/run_host_shard.py"
