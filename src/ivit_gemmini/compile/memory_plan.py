"""Static memory planning: offsets in one arena for buffers with known live ranges.

Greedy by size (largest first), each buffer at the lowest 64-byte-aligned offset that does not
overlap any already placed buffer whose live range intersects its own. Two buffers live at the
same step never share bytes, so a kernel's outputs never alias its inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

ALIGN = 64


def align(n: int, to: int = ALIGN) -> int:
    return (n + to - 1) // to * to


@dataclass(frozen=True)
class Interval:
    """A buffer of `size` bytes live from step `first` to step `last` (inclusive)."""

    name: str
    size: int
    first: int
    last: int

    def overlaps(self, other: Interval) -> bool:
        return self.first <= other.last and other.first <= self.last


def plan(intervals: list[Interval]) -> tuple[dict[str, int], int]:
    """({name: offset}, arena size) with no two overlapping live buffers sharing bytes."""
    placed: list[tuple[int, Interval]] = []
    offsets: dict[str, int] = {}
    for iv in sorted(intervals, key=lambda v: (-v.size, v.first, v.name)):
        busy = sorted((off, off + align(other.size)) for off, other in placed if other.overlaps(iv))
        offset = 0
        for start, end in busy:
            if offset + align(iv.size) <= start:
                break
            offset = max(offset, end)
        offsets[iv.name] = offset
        placed.append((offset, iv))
    size = max((off + align(iv.size) for off, iv in placed), default=0)
    return offsets, size
