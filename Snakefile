# ivit-gemmini: an I-ViT checkpoint -> integer params -> logits on every backend -> tables.
# Run with `make demo`, or `snakemake --cores all [--configfile my.yaml]`. Stages live in
# workflow/rules/<stage>.smk; the logic lives in the ivit_gemmini package (src/).
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/model.smk"
include: "workflow/rules/gemmini.smk"
include: "workflow/rules/compile.smk"
include: "workflow/rules/firmware.smk"
include: "workflow/rules/simulate.smk"
include: "workflow/rules/spike_rtl.smk"
include: "workflow/rules/verilator.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/profile.smk"
include: "workflow/rules/sweep.smk"


check_backends()


rule all:
    default_target: True
    input:
        get_final_output(),
        core_cycles.cycles_tables(config),


rule model_only:
    input:
        get_model_output(),


rule tables:
    input:
        get_table_output(),
