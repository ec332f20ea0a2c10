"""Prediction tables and class names."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from ivit_gemmini.errors import UserError
from ivit_gemmini.evaluate.class_names import resolve_class_names
from ivit_gemmini.evaluate.predictions import write_predictions


def test_predictions_csv_and_markdown(tmp_path):
    logits = {"torch-int": {"cat": np.array([3, 10, -2, 10, 7, 0, 1], np.int64)},
              "spike": {"cat": np.array([0, 0, 0, 0, 0, 0, 1], np.int64)}}
    names = [f"n{i}" for i in range(7)]
    write_predictions(logits, ["torch-int", "spike"], ["cat"], names, 0.25, demo=True,
                      checkpoint="demo", csv_out=tmp_path / "p.csv", md_out=tmp_path / "p.md",
                      sources={"cat": "photos/my cat.jpg"})
    rows = list(csv.DictReader((tmp_path / "p.csv").read_text().splitlines()))
    assert len(rows) == 10
    assert {r["source"] for r in rows} == {"photos/my cat.jpg"}  # the image's file, every row
    first = [(r["rank"], r["class_index"], r["class_name"], r["logit_int"], r["logit_float"])
             for r in rows[:5]]
    assert first == [("1", "1", "n1", "10", "2.5"), ("2", "3", "n3", "10", "2.5"),
                     ("3", "4", "n4", "7", "1.75"), ("4", "0", "n0", "3", "0.75"),
                     ("5", "6", "n6", "1", "0.25")]
    assert [r["class_index"] for r in rows[5:]] == ["6", "0", "1", "2", "3"]
    md = (tmp_path / "p.md").read_text()
    assert "mean nothing" in md
    assert "## cat (torch-int): `photos/my cat.jpg`" in md and "Top-5 Predictions:" in md
    assert "  1. Class 1: n1  (logit 10 = 2.5000)" in md


def test_class_names_imagenet_and_fallbacks(tmp_path):
    from timm.data import ImageNetInfo

    names = resolve_class_names(None, 1000)
    assert names[282] == "tiger cat" and len(names) == 1000
    info = ImageNetInfo()  # read without timm, so compare with timm's own descriptions
    assert names == [info.index_to_description(i) for i in range(1000)]
    assert resolve_class_names(None, 3) == ["class 0", "class 1", "class 2"]
    (tmp_path / "names.txt").write_text("a\nb\n\n")
    assert resolve_class_names(str(tmp_path / "names.txt"), 2) == ["a", "b"]
    with pytest.raises(UserError, match="has 2 names but the model has 3"):
        resolve_class_names(["a", "b"], 3)
    with pytest.raises(UserError, match="not found"):
        resolve_class_names(str(tmp_path / "none.txt"), 2)
