#!/usr/bin/env bash
# Install what is missing, and nothing else: Debian packages (given as arguments, the list lives
# in the Makefile's DEB_PACKAGES) and the project venv (.venv, from requirements.txt + an editable
# install of the package). A second run with nothing changed only checks, in well under a second.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3}"
STAMP="$VENV/.ivit-gemmini-installed"

# --- Debian packages: one dpkg-query for all, apt-get only for the missing ones -------------
if [ "$#" -gt 0 ]; then
    installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "$@" 2>/dev/null || true)
    missing=()
    for pkg in "$@"; do
        # Exact name match (package names may contain '+', so no regex).
        awk -v p="$pkg" '($1 == p || index($1, p ":") == 1) && $2 == "ii" {f = 1} END {exit !f}' \
            <<<"$installed" || missing+=("$pkg")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        if [ "$(id -u)" -ne 0 ]; then
            echo "error: missing Debian packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
            exit 1
        fi
        echo "setup: installing Debian packages: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
fi

# --- Python venv: rebuilt only when requirements.txt or pyproject.toml change ---------------
want=$(cat requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c '' 2>/dev/null; then
    echo "setup: creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$want" ]; then
    echo "setup: installing Python packages into $VENV (requirements.txt)"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e .
    echo "$want" > "$STAMP"
fi
