# Paper stage: QAT on scikit-learn's digits, the data set's inputs and labels, and the paper's
# tables and figures (accuracy, verification, performance, agreement heat map, per-kernel cost),
# all annotated for `snakemake --report`. Tables read cached logits/stats only: rebuilding them
# never re-runs a backend. The file lists come from ivit_gemmini.paper.targets.
from ivit_gemmini.paper import targets as paper_targets


localrules:
    paper,
    train_digits_qat,
    write_labels,
    tabulate_accuracy,
    tabulate_verification,
    tabulate_performance,
    plot_accuracy,
    plot_agreement,
    plot_layer_costs,


rule paper:
    input:
        paper_targets.paper_outputs(config, get_table_output()),


rule train_digits_qat:
    output:
        checkpoint="results/paper/digits/checkpoint.pth",
        fp32="results/paper/digits/fp32_model.pth",
        predictions="results/paper/digits/fp32_predictions.csv",
        metrics=report(
            "results/paper/digits/metrics.json",
            caption="../report/training.rst",
            category="Paper",
            subcategory="Training",
        ),
    log:
        "logs/train_digits_qat/train_digits_qat.log",
    benchmark:
        "results/benchmarks/train_digits_qat/train_digits_qat.tsv"
    conda:
        "../../envs/paper.yaml"
    params:
        seed=config["digits_qat"]["seed"],
        float_epochs=config["digits_qat"]["float_epochs"],
        qat_epochs=config["digits_qat"]["qat_epochs"],
    script:
        "../scripts/paper_train_digits_qat.py"


rule write_labels:
    input:
        manifest="results/model/manifest.json",
        # An edited labels file rewrites labels.csv (and the tables that read it).
        labels=[config["dataset"]["labels"]] if config["dataset"]["labels"] else [],
    output:
        "results/paper/labels.csv",
    log:
        "logs/write_labels/write_labels.log",
    benchmark:
        "results/benchmarks/write_labels/write_labels.tsv"
    conda:
        "../../envs/paper.yaml"
    params:
        dataset=config["dataset"],
        images=IMAGES,
    script:
        "../scripts/paper_write_labels.py"


rule tabulate_accuracy:
    input:
        summaries=get_summaries(),
        labels="results/paper/labels.csv",
        manifest="results/model/manifest.json",
        fp32=paper_targets.fp32_predictions(config),
        metrics=paper_targets.training_metrics(config),
    output:
        csv=report(
            "results/paper/accuracy.csv",
            caption="../report/accuracy.rst",
            category="Paper",
            subcategory="Accuracy",
        ),
        md="results/paper/accuracy.md",
    log:
        "logs/tabulate_accuracy/tabulate_accuracy.log",
    benchmark:
        "results/benchmarks/tabulate_accuracy/tabulate_accuracy.tsv"
    conda:
        "../../envs/paper.yaml"
    params:
        data=paper_targets.dataset_description(config),
        images=list(IMAGES),
        backends=config["backends"],
    script:
        "../scripts/paper_tabulate_accuracy.py"


rule tabulate_verification:
    input:
        summaries=get_summaries(),
        manifest="results/model/manifest.json",
        labels=paper_targets.labels(config),
    output:
        csv=report(
            "results/paper/verification.csv",
            caption="../report/verification.rst",
            category="Paper",
            subcategory="Verification",
        ),
        md="results/paper/verification.md",
    log:
        "logs/tabulate_verification/tabulate_verification.log",
    benchmark:
        "results/benchmarks/tabulate_verification/tabulate_verification.tsv"
    conda:
        "../../envs/paper.yaml"
    params:
        backends=config["backends"],
        images=paper_targets.verify_images(config, IMAGES),
        class_names=config["class_names"],
        sources={
            i: IMAGE_SOURCES[i] for i in paper_targets.verify_images(config, IMAGES)
        },
    script:
        "../scripts/paper_tabulate_verification.py"


rule tabulate_performance:
    input:
        # Every shard: the table is made after every shard job wrote its benchmark.
        summaries=get_summaries(),
        manifest="results/model/manifest.json",
    output:
        csv=report(
            "results/paper/performance.csv",
            caption="../report/performance.rst",
            category="Paper",
            subcategory="Performance",
        ),
        md="results/paper/performance.md",
    log:
        "logs/tabulate_performance/tabulate_performance.log",
    benchmark:
        "results/benchmarks/tabulate_performance/tabulate_performance.tsv"
    conda:
        "../../envs/paper.yaml"
    params:
        bench_root="results/benchmarks",
        images=list(IMAGES),
        spike=shard_summary("spike", "*"),
    script:
        "../scripts/paper_tabulate_performance.py"


rule plot_accuracy:
    input:
        "results/paper/accuracy.csv",
    output:
        report(
            "results/paper/accuracy.png",
            caption="../report/fig_accuracy.rst",
            category="Paper",
            subcategory="Figures",
        ),
    log:
        "logs/plot_accuracy/plot_accuracy.log",
    conda:
        "../../envs/paper.yaml"
    params:
        kind="accuracy",
    script:
        "../scripts/paper_plot.py"


rule plot_agreement:
    input:
        "results/tables/agreement.csv",
    output:
        report(
            "results/paper/agreement.png",
            caption="../report/fig_agreement.rst",
            category="Paper",
            subcategory="Figures",
        ),
    log:
        "logs/plot_agreement/plot_agreement.log",
    conda:
        "../../envs/paper.yaml"
    params:
        kind="agreement",
        backends=config["backends"],
    script:
        "../scripts/paper_plot.py"


rule plot_layer_costs:
    input:
        # The first shard's first image stands for all: the kernels are the same for every image.
        get_summaries(["spike"])[:1] if "spike" in config["backends"] else [],
    output:
        report(
            "results/paper/layer_costs.png",
            caption="../report/fig_layer_costs.rst",
            category="Paper",
            subcategory="Figures",
        ),
    log:
        "logs/plot_layer_costs/plot_layer_costs.log",
    conda:
        "../../envs/paper.yaml"
    params:
        kind="layer_costs",
    script:
        "../scripts/paper_plot.py"
