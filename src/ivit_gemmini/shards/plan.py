"""Which shard an image belongs to: stable under adding images.

An image id goes to shard crc32(id) mod S, with S the smallest power of two such that
S * size >= the number of images. The assignment depends on the id alone (not on the other
ids or their order), so adding one image changes the membership of exactly one shard, until the
image count passes S * size and S doubles (then every shard job reruns, but each one only
computes the images it has no result for: see `shards.job`).
"""

from __future__ import annotations

import hashlib
import os
import zlib
from collections.abc import Iterable

DEFAULT_SIZE = 64
SHARD_PATTERN = r"[0-9]+of[0-9]+"


def num_shards(count: int, size: int) -> int:
    """Smallest power of two S with S * size >= count (1 for an empty run)."""
    if size < 1:
        raise ValueError(f"shard size must be positive, got {size}")
    shards = 1
    while shards * size < count:
        shards *= 2
    return shards


def shard_name(index: int, shards: int) -> str:
    width = len(str(shards - 1))
    return f"{index:0{width}d}of{shards}"


def shard_index(image_id: str, shards: int) -> int:
    return zlib.crc32(image_id.encode("utf-8")) % shards


def plan_shards(image_ids: Iterable[str], size: int) -> dict[str, list[str]]:
    """{shard name: image ids in the shard's order}; empty shards are left out."""
    ids = list(image_ids)
    shards = num_shards(len(ids), size)
    out: dict[str, list[str]] = {}
    for image in ids:
        out.setdefault(shard_name(shard_index(image, shards), shards), []).append(image)
    return dict(sorted(out.items()))


def image_stamp(paths: Iterable[str]) -> str:
    """A short hash of each file's path, size and modification time (one stat per file)."""
    h = hashlib.sha256()
    for path in paths:
        try:
            st = os.stat(path)
            h.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
        except OSError:
            h.update(f"{path}\0missing\0".encode())
    return h.hexdigest()[:16]
