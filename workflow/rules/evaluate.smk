# Evaluate stage: top-5 prediction tables and the agreement between backends.


rule tabulate_predictions:
    input:
        logits=get_logits(),
        npz="results/model/params.npz",
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
        sources=IMAGE_SOURCES,
    script:
        "../scripts/tabulate_predictions.py"


rule compute_agreement:
    input:
        logits=get_logits(),
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
    script:
        "../scripts/compute_agreement.py"
