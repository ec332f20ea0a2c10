# Paper stage: QAT on scikit-learn's digits, the data set's inputs and labels, and the paper's
# tables and figures (accuracy, verification, performance, agreement heat map, per-kernel cost),
# all annotated for `snakemake --report`. Tables read cached logits/stats only: rebuilding them
# never re-runs a backend.


localrules:
    paper,
    train_digits_qat,
    prepare_digits_inputs,
    write_labels,
    tabulate_accuracy,
    tabulate_verification,
    tabulate_performance,
    plot_accuracy,
    plot_agreement,
    plot_layer_costs,


def has_dataset():
    return config["dataset"]["source"] is not None


def is_digits_dataset():
    return config["dataset"]["source"] == "digits"


def get_verify_images():
    return list(IMAGES)[: config["paper"]["verify_images"]]


def get_verify_logits():
    return expand(
        "results/logits/{backend}/{image}.npy",
        backend=config["backends"],
        image=get_verify_images(),
    )


def get_spike_stats():
    """Spike statistics of every image, when spike is a configured backend."""
    if "spike" not in config["backends"]:
        return []
    return expand("results/stats/spike/{image}.json", image=IMAGES)


def get_fp32_predictions():
    """The FP32 model's test predictions exist only for the checkpoint trained here."""
    return ["results/paper/digits/fp32_predictions.csv"] if is_digits_checkpoint() else []


def get_training_metrics():
    return ["results/paper/digits/metrics.json"] if is_digits_checkpoint() else []


def get_dataset_description():
    source = config["dataset"]["source"]
    if source == "digits":
        return "scikit-learn digits, test split"
    return f"folder {config['dataset']['folder']}"


def get_paper_output():
    """Everything `rule paper` builds."""
    out = get_table_output() + [
        "results/paper/verification.md",
        "results/paper/verification.csv",
        "results/paper/performance.md",
        "results/paper/performance.csv",
        "results/paper/agreement.png",
    ]
    if has_dataset():
        out += [
            "results/paper/accuracy.md",
            "results/paper/accuracy.csv",
            "results/paper/accuracy.png",
        ]
    if "spike" in config["backends"]:
        out.append("results/paper/layer_costs.png")
    return out


rule paper:
    input:
        get_paper_output(),


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


if is_digits_dataset():

    # One job writes every digits input (quantize_image would need an image file per id).
    ruleorder: prepare_digits_inputs > quantize_image

    rule prepare_digits_inputs:
        input:
            manifest="results/model/manifest.json",
        output:
            expand("results/inputs/{image}.bin", image=IMAGES),
        log:
            "logs/prepare_digits_inputs/prepare_digits_inputs.log",
        benchmark:
            "results/benchmarks/prepare_digits_inputs/prepare_digits_inputs.tsv"
        conda:
            "../../envs/paper.yaml"
        script:
            "../scripts/paper_prepare_digits_inputs.py"


rule write_labels:
    input:
        manifest="results/model/manifest.json",
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
        logits=get_logits(),
        labels="results/paper/labels.csv",
        manifest="results/model/manifest.json",
        fp32=get_fp32_predictions(),
        metrics=get_training_metrics(),
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
        data=get_dataset_description(),
    script:
        "../scripts/paper_tabulate_accuracy.py"


rule tabulate_verification:
    input:
        logits=get_verify_logits(),
        manifest="results/model/manifest.json",
        labels=["results/paper/labels.csv"] if has_dataset() else [],
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
        images=get_verify_images(),
        class_names=config["class_names"],
    script:
        "../scripts/paper_tabulate_verification.py"


rule tabulate_performance:
    input:
        # Every logit file: the table is made after every per-image stage wrote its benchmark.
        logits=get_logits(),
        stats=get_spike_stats(),
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
        # The first image's run stands for all: the kernels are the same for every image.
        get_spike_stats()[:1],
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
