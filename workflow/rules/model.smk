# Model stage: demo images and checkpoint, checkpoint -> integer params, images -> int8 inputs,
# and the two host reference backends (torch-int, torch-fakequant).


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
    script:
        "../scripts/export_params.py"


rule quantize_image:
    input:
        image=get_image_source,
        npz="results/model/params.npz",
        manifest="results/model/manifest.json",
    output:
        "results/inputs/{image}.bin",
    log:
        "logs/quantize_image/{image}.log",
    benchmark:
        "results/benchmarks/quantize_image/{image}.tsv"
    conda:
        "../../envs/model.yaml"
    params:
        exif_orientation=config["exif_orientation"],
    script:
        "../scripts/quantize_image.py"


rule run_torch_int:
    input:
        npz="results/model/params.npz",
        manifest="results/model/manifest.json",
        image="results/inputs/{image}.bin",
    output:
        "results/logits/torch-int/{image}.npy",
    log:
        "logs/run_torch_int/{image}.log",
    benchmark:
        "results/benchmarks/run_torch_int/{image}.tsv"
    conda:
        "../../envs/model.yaml"
    script:
        "../scripts/run_torch_int.py"


rule run_torch_fakequant:
    input:
        checkpoint=get_checkpoint(),
        npz="results/model/params.npz",
        manifest="results/model/manifest.json",
        image="results/inputs/{image}.bin",
    output:
        "results/logits/torch-fakequant/{image}.npy",
    log:
        "logs/run_torch_fakequant/{image}.log",
    benchmark:
        "results/benchmarks/run_torch_fakequant/{image}.tsv"
    conda:
        "../../envs/model.yaml"
    params:
        num_heads=config["num_heads"],
    script:
        "../scripts/run_torch_fakequant.py"
