"""Cluster resources of the simulation jobs, derived from their own timeouts."""

from __future__ import annotations

import math

# Minutes between our own wall timeout and SLURM's kill: our timeout fires first, so a slow run
# ends with a clear message and a kept log instead of a job SLURM cut off mid-write.
SLURM_MARGIN_MIN = 5


def slurm_runtime_minutes(timeout_s: float) -> int:
    """The SLURM time limit (minutes) of a job whose simulator is killed after `timeout_s`."""
    if not timeout_s > 0:
        raise ValueError(f"timeout_s must be positive, got {timeout_s!r}")
    return math.ceil(timeout_s / 60) + SLURM_MARGIN_MIN
