"""Where the repository's non-Python parts are (gemmini/ C sources, the Snakefile, config/).

They are not package data: the C runtime, the Gemmini headers and the Spike extension are
compiled from the checkout. The workflow exports the checkout it runs from as
IVIT_GEMMINI_REPO (workflow/rules/common.smk), so its jobs find it however the package was
installed (editable, a plain `pip install`, a conda env); without it, an editable install or a
PYTHONPATH=src checkout is found from the package's own path.
"""

from __future__ import annotations

import os
from pathlib import Path

from ivit_gemmini.errors import UserError

REPO_ENV = "IVIT_GEMMINI_REPO"


def repo_root() -> Path:
    """The checkout: $IVIT_GEMMINI_REPO, else the folder above src/ of this package."""
    env = os.environ.get(REPO_ENV)
    return Path(env).resolve() if env else Path(__file__).resolve().parents[2]


REPO_ROOT = repo_root()


def require_repo_dir(path: Path) -> Path:
    """`path` (a folder of the checkout), or a one-line UserError saying how to point at it."""
    if not Path(path).is_dir():
        raise UserError(
            f"{path} does not exist: the ivit-gemmini checkout was not found (installed without "
            f"it?); set {REPO_ENV} to the checkout's folder or run through its Snakefile"
        )
    return Path(path)
