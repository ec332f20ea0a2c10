"""Top-k on integer logits, with one tie rule shared by every backend.

Ranks by logit descending, then by class index ascending. Computed with Python integers so no
backend's own `topk` (TVM's C backend once miscompiled it) and no float conversion is involved.
"""

from __future__ import annotations

import numpy as np


def topk(logits: np.ndarray, k: int = 5) -> list[int]:
    """Class indices of the `k` largest logits (ties: lower class index first)."""
    values = [int(v) for v in np.asarray(logits).reshape(-1)]
    order = sorted(range(len(values)), key=lambda i: (-values[i], i))
    return order[: min(k, len(values))]
