# The two commands: `make demo` and `make test`. Both install what is missing first (a no-op
# when nothing changed), see scripts/setup.sh.
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
CONFIG ?= config/config.yaml
PYTEST_ARGS ?=
# Debian 12 packages the project needs (add yours here; setup installs only missing ones).
# g++ builds our Spike extension and the host checks of the C model library; verilator
# simulates our RTL mesh (gemmini/rtl/) for the spike-rtl backend.
DEB_PACKAGES := python3 python3-venv g++ \
	gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf device-tree-compiler \
	munge slurmctld slurmd slurm-client verilator

.PHONY: setup demo test lint dry-run report clean paper sweep

setup:
	@VENV=$(VENV) scripts/setup.sh $(DEB_PACKAGES)

# The runner (src/ivit_gemmini/runner.py) runs Snakemake with quiet output, ends a failed run
# with one line per failed job, names a missing config file in one line, and clears the lock a
# killed run left behind.
RUN := $(BIN)/python -m ivit_gemmini.runner

demo: setup
	$(RUN) --cores all --configfile $(CONFIG)
	@cat results/tables/predictions.md results/tables/agreement.md
	@if [ -f results/tables/cycles.md ]; then cat results/tables/cycles.md; fi

# pytest exits 5 when it collects no tests; make treats that as a failure, as it should.
test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check src tests workflow/scripts benchmarks
	$(BIN)/snakefmt --check Snakefile workflow/rules
	$(BIN)/snakemake --lint --configfile $(CONFIG)

dry-run: setup
	$(RUN) --dry-run --cores all --configfile $(CONFIG)

# The paper's tables and figures (config/paper.yaml: QAT on scikit-learn's digits, its test set
# on every backend) in $(PAPER_DIR)/results/paper/, bundled into $(PAPER_DIR)/results/report.html.
# A working folder of its own, so that `make demo` and `make paper` never overwrite each
# other's model and both stay cached.
PAPER_CONFIG ?= config/paper.yaml
PAPER_DIR ?= runs/paper
PAPER_SMK = $(RUN) paper --cores all --directory $(PAPER_DIR) \
	--snakefile $(abspath Snakefile) --configfile $(abspath $(PAPER_CONFIG))
paper: setup
	$(PAPER_SMK)
	$(PAPER_SMK) --report results/report.html
	@cat $(PAPER_DIR)/results/paper/accuracy.md $(PAPER_DIR)/results/paper/verification.md

# The design-space sweep (config/sweep.yaml: DeiT-tiny, -small, -base x six Gemmini
# configurations on two demo photographs). One Snakemake run has one checkpoint, so each model
# runs in a folder of its own ($(SWEEP_DIR)/deit-<size>/, its points in results/sweep/points.csv);
# a last run in $(SWEEP_DIR) joins them into $(SWEEP_DIR)/results/sweep/sweep.md/.csv, the
# figures and results/report.html.
SWEEP_CONFIG ?= config/sweep.yaml
SWEEP_DIR ?= runs/sweep
SWEEP_MODELS ?= tiny small base
SWEEP_OPTS = --cores all --snakefile $(abspath Snakefile) --configfile $(abspath $(SWEEP_CONFIG))
sweep: setup
	for m in $(SWEEP_MODELS); do \
	  $(BIN)/snakemake sweep_points $(SWEEP_OPTS) --directory $(SWEEP_DIR)/deit-$$m \
	    --config checkpoint=demo-$$m || exit 1; \
	done
	$(BIN)/snakemake sweep $(SWEEP_OPTS) --directory $(SWEEP_DIR)
	$(BIN)/snakemake sweep $(SWEEP_OPTS) --directory $(SWEEP_DIR) --report results/report.html
	@cat $(SWEEP_DIR)/results/sweep/sweep.md

report: setup
	$(RUN) --cores all --configfile $(CONFIG) --report results/report.html

clean:
	rm -rf results logs .snakemake
