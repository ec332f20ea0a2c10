"""The static memory plan never lets two simultaneously live buffers share a byte."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ivit_gemmini.compile.memory_plan import ALIGN, Interval, plan

intervals = st.lists(
    st.tuples(st.integers(1, 5000), st.integers(0, 30), st.integers(0, 10)),
    min_size=1,
    max_size=40,
).map(lambda xs: [Interval(f"b{i}", s, f, f + d) for i, (s, f, d) in enumerate(xs)])


@settings(max_examples=200, deadline=None)
@given(ivs=intervals)
def test_live_buffers_are_disjoint_aligned_and_inside_the_arena(ivs: list[Interval]) -> None:
    offsets, size = plan(ivs)
    for a in ivs:
        assert offsets[a.name] % ALIGN == 0
        assert offsets[a.name] + a.size <= size
        for b in ivs:
            if a.name < b.name and a.first <= b.last and b.first <= a.last:
                a0, b0 = offsets[a.name], offsets[b.name]
                assert a0 + a.size <= b0 or b0 + b.size <= a0, (a, b, a0, b0)


def test_buffers_with_disjoint_lifetimes_reuse_memory() -> None:
    chain = [Interval(f"t{i}", 1000, i, i + 1) for i in range(10)]  # each lives two steps
    offsets, size = plan(chain)
    assert size == 2 * 1024  # two 1000-byte buffers (aligned to 1024) are enough
    assert len(set(offsets.values())) == 2
