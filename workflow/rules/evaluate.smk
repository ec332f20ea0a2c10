# Evaluate stage: top-5 prediction tables and the agreement between backends, on the images
# that succeeded on every backend (read from the shard summaries); the list of failed images,
# and a last check that ends the run non-zero when there are any.


rule tabulate_predictions:
    input:
        summaries=get_summaries(),
        manifest="results/model/manifest.json",
    output:
        csv=report(
            "results/tables/predictions.csv",
            caption="../report/predictions.rst",
            category="Predictions",
        ),
        md="results/tables/predictions.md",
    log:
        "logs/tabulate_predictions/tabulate_predictions.log",
    benchmark:
        "results/benchmarks/tabulate_predictions/tabulate_predictions.tsv"
    conda:
        "../../envs/evaluate.yaml"
    params:
        backends=config["backends"],
        images=list(IMAGES),
        class_names=config["class_names"],
        demo=is_demo_checkpoint(),
        checkpoint=config["checkpoint"],
        code=stage_code("tables"),
        sources=IMAGE_SOURCES,
    script:
        "../scripts/tabulate_predictions.py"


rule compute_agreement:
    input:
        summaries=get_summaries(),
        manifest="results/model/manifest.json",
    output:
        csv=report(
            "results/tables/agreement.csv",
            caption="../report/agreement.rst",
            category="Agreement",
        ),
        md="results/tables/agreement.md",
    log:
        "logs/compute_agreement/compute_agreement.log",
    benchmark:
        "results/benchmarks/compute_agreement/compute_agreement.tsv"
    conda:
        "../../envs/evaluate.yaml"
    params:
        backends=config["backends"],
        images=list(IMAGES),
        on_mismatch=config["agreement"]["on_mismatch"],
        demo=is_demo_checkpoint(),
        code=stage_code("tables"),
    script:
        "../scripts/compute_agreement.py"


rule backend_outputs:
    input:
        get_summaries(),


rule collect_failures:
    input:
        summaries=get_summaries(["quantize", *config["backends"]]),
    output:
        csv="results/tables/failures.csv",
        md="results/tables/failures.md",
    log:
        "logs/collect_failures/collect_failures.log",
    conda:
        "../../envs/evaluate.yaml"
    params:
        code=stage_code("tables"),
    script:
        "../scripts/collect_failures.py"


rule check_failures:
    input:
        failures="results/tables/failures.csv",
        tables=[t for t in get_table_output() if "failures" not in t],
    output:
        "results/tables/complete.txt",
    log:
        "logs/check_failures/check_failures.log",
    conda:
        "../../envs/evaluate.yaml"
    script:
        "../scripts/check_failures.py"
