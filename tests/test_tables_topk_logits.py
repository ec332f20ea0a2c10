"""Top-k tie rule and the float -> integer logit conversion."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivit_gemmini.errors import UserError
from ivit_gemmini.evaluate.logits import float_to_int_logits, load_logits, save_logits
from ivit_gemmini.evaluate.topk import topk


def test_topk_ties_prefer_lower_class_index():
    assert topk(np.array([5, 9, 9, 1, 9, 5], dtype=np.int64), 5) == [1, 2, 4, 0, 5]


def test_topk_extreme_int64_values():
    lo, hi = np.iinfo(np.int64).min, np.iinfo(np.int64).max
    assert topk(np.array([lo, hi, 0, hi, lo], dtype=np.int64), 3) == [1, 3, 2]


@given(st.lists(st.integers(-(2**40), 2**40), min_size=1, max_size=60),
       st.integers(1, 8))
def test_topk_matches_numpy_lexsort(values, k):
    arr = np.array(values, dtype=np.int64)
    # independent: lexsort sorts by the last key first (-value), then by index
    expected = np.lexsort((np.arange(arr.size), -arr))[:k].tolist()
    assert topk(arr, k) == expected


def test_float_logits_round_half_to_even():
    scale = 0.5
    floats = np.array([0.25, 0.75, 1.25, -0.25, -0.75, 0.2, 100.0])  # /0.5 -> .5 ties and more
    got = float_to_int_logits(floats, scale)
    assert got.dtype == np.int64
    assert got.tolist() == [round(f / scale) for f in floats.tolist()]  # Python rounds to even
    assert got.tolist() == [0, 2, 2, 0, -2, 0, 200]


def test_float_logits_reject_nan_and_bad_scale():
    with pytest.raises(UserError, match="non-finite"):
        float_to_int_logits(np.array([1.0, np.nan]), 0.1)
    with pytest.raises(UserError, match="logit scale"):
        float_to_int_logits(np.array([1.0]), 0.0)


def test_logit_files_roundtrip_and_checks(tmp_path):
    vec = np.array([3, -7, 2**40], dtype=np.int64)
    save_logits(tmp_path / "l.npy", vec)
    np.testing.assert_array_equal(load_logits(tmp_path / "l.npy", 3), vec)
    with pytest.raises(UserError, match="3 classes"):
        load_logits(tmp_path / "l.npy", 1000)
    np.save(tmp_path / "f.npy", vec.astype(np.float32))
    with pytest.raises(UserError, match="int64"):
        load_logits(tmp_path / "f.npy")
    with pytest.raises(ValueError):
        save_logits(tmp_path / "bad.npy", vec.astype(np.int32))
    assert not (tmp_path / "bad.npy").exists()
