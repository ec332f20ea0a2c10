"""The real demo, end to end, exactly as `make demo` runs it (DeiT-tiny, four photographs)."""

from __future__ import annotations

import csv

import pytest
from workflow_helpers import leftovers, run_workflow


@pytest.mark.slow
def test_demo_end_to_end(tmp_path):
    run = run_workflow(tmp_path, {})  # every key at its default: the demo
    assert run.returncode == 0, run.stderr[-3000:]
    res = tmp_path / "results"
    assert sorted(p.name for p in (res / "images" / "demo").iterdir()) == [
        "astronaut.png", "chelsea.png", "coffee.png", "rocket.png"]
    md = (res / "tables" / "predictions.md").read_text()
    assert "Its predictions mean nothing" in md
    assert md.count("Top-5 Predictions:") == 4 * 4
    rows = list(csv.DictReader((res / "tables" / "predictions.csv").read_text().splitlines()))
    assert len(rows) == 4 * 4 * 5
    assert {r["image"] for r in rows} == {"chelsea", "coffee", "astronaut", "rocket"}
    # ImageNet names for the 1000-class demo model: each name is timm's for its index
    from timm.data import ImageNetInfo

    info = ImageNetInfo()
    assert all(r["class_name"] == info.index_to_description(int(r["class_index"])) for r in rows)
    agreement = list(csv.DictReader((res / "tables" / "agreement.csv").read_text().splitlines()))
    assert agreement[0]["image"] == "(all)" and agreement[0]["images"] == "4"
    assert leftovers(tmp_path) == []
