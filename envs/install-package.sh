#!/bin/sh
# Post-deploy script of every env here (envs/<stage>.post-deploy.sh links to this file).
# Snakemake runs it once after creating the env from envs/<stage>.yaml, with the env activated
# and the run's working directory as the current folder; it has copied both files under
# .snakemake/conda/, so no path relative to them leads back to the checkout. The workflow
# exports the checkout as IVIT_GEMMINI_REPO (workflow/rules/common.smk). Editable, so the env
# runs the checkout's current code.
set -eu
: "${IVIT_GEMMINI_REPO:?is not set: create the envs through the ivit-gemmini Snakefile}"
test -f "$IVIT_GEMMINI_REPO/pyproject.toml" || {
    echo "error: IVIT_GEMMINI_REPO=$IVIT_GEMMINI_REPO is not the ivit-gemmini checkout" >&2
    exit 1
}
python -m pip install --no-deps --editable "$IVIT_GEMMINI_REPO"
