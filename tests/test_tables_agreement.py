"""Agreement table: statistics checked against hand-computed values."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from ivit_gemmini.errors import UserError
from ivit_gemmini.evaluate import agreement
from ivit_gemmini.evaluate.logits import save_logits

L = {
    # image "x": torch-int top5 = [0,1,2,3,4]; fakequant swaps 0/5 -> top1 differs, overlap 4/5
    "torch-int": {"x": np.array([9, 8, 7, 6, 5, 4, 0], np.int64),
                  "y": np.array([1, 2, 3, 4, 5, 6, 7], np.int64)},
    "torch-fakequant": {"x": np.array([4, 8, 7, 6, 5, 9, 0], np.int64),
                        "y": np.array([1, 2, 3, 4, 5, 6, 7], np.int64)},
    "spike": {"x": np.array([9, 8, 7, 6, 5, 4, 0], np.int64),
              "y": np.array([1, 2, 3, 4, 5, 6, 10], np.int64)},
}


def _row(rows, a, b, image):
    return next(r for r in rows if (r.backend_a, r.backend_b, r.image) == (a, b, image))


def test_pair_statistics():
    rows = agreement.compare(L, ["torch-int", "torch-fakequant", "spike"], ["x", "y"])
    assert len(rows) == 3 * 3  # 3 pairs x (summary + 2 images)
    s = _row(rows, "torch-int", "torch-fakequant", agreement.ALL_IMAGES)
    assert (s.images, s.top1_agreement, s.top5_overlap, s.logits_identical,
            s.max_abs_logit_diff) == (2, 0.5, 0.9, 1, 5)
    assert not s.must_match and not s.mismatch
    x = _row(rows, "torch-int", "torch-fakequant", "x")
    assert (x.top1_agreement, x.top5_overlap, x.logits_identical) == (0.0, 0.8, 0)
    sp = _row(rows, "torch-int", "spike", agreement.ALL_IMAGES)
    # y: spike's last logit is 10 vs 7 -> same top-5 set and top-1 (class 6), not identical
    assert (sp.top1_agreement, sp.top5_overlap, sp.logits_identical, sp.max_abs_logit_diff) == (
        1.0, 1.0, 1, 3)
    assert sp.must_match and sp.mismatch


def test_mismatch_fails_and_writes_nothing(tmp_path, capsys):
    with pytest.raises(UserError, match="torch-int vs spike differ on 1 of 2 images") as err:
        agreement.write_agreement(L, ["torch-int", "spike"], ["x", "y"], on_mismatch="fail",
                                  demo=False, csv_out=tmp_path / "a.csv", md_out=tmp_path / "a.md")
    assert "\n" not in str(err.value)
    assert list(tmp_path.iterdir()) == []
    assert "MISMATCH" in capsys.readouterr().err  # the table goes to the log


def test_warn_writes_tables(tmp_path):
    agreement.write_agreement(L, ["torch-int", "torch-fakequant", "spike"], ["x", "y"],
                              on_mismatch="warn", demo=True, csv_out=tmp_path / "a.csv",
                              md_out=tmp_path / "a.md", logit_scale=0.5)
    rows = list(csv.DictReader((tmp_path / "a.csv").read_text().splitlines()))
    assert rows[0] == {"backend_a": "torch-int", "backend_b": "torch-fakequant", "image": "(all)",
                       "images": "2", "top1_agreement": "0.5000", "top5_overlap": "0.9000",
                       "logits_identical": "1", "max_abs_logit_diff": "5"}
    md = (tmp_path / "a.md").read_text()
    assert "Exact backends disagree: torch-int vs spike" in md
    assert "random weights" in md
    assert "78.6% top-1 and 93.4% top-5" in md  # the seed's figures, for comparison
    assert "| torch-int | torch-fakequant | (all) | 50.0% | 90.0% | 1/2 | 5 (2.5) |" in md


def test_compute_agreement_from_files(tmp_path):
    paths = []
    for backend in ["torch-int", "torch-fakequant"]:
        for image, vec in L[backend].items():
            path = tmp_path / "logits" / backend / f"{image}.npy"
            save_logits(path, vec)
            paths.append(path)
    agreement.compute_agreement(paths[::-1], ["torch-int", "torch-fakequant"], ["x", "y"],
                                on_mismatch="fail", demo=False, csv_out=tmp_path / "a.csv",
                                md_out=tmp_path / "a.md")
    assert "identical logits" in (tmp_path / "a.md").read_text()


def test_single_backend_has_nothing_to_compare(tmp_path):
    agreement.write_agreement(L, ["torch-int"], ["x"], on_mismatch="fail", demo=False,
                              csv_out=tmp_path / "a.csv", md_out=tmp_path / "a.md")
    assert "nothing to compare" in (tmp_path / "a.md").read_text()
    assert (tmp_path / "a.csv").read_text().count("\n") == 1


def test_an_image_named_all_keeps_its_row_and_the_heat_map_reads_the_summary(tmp_path):
    """Issue 14 item 10: an image `all` (all.jpg) collided with the summary row: its own row
    vanished from the per-image table and the heat map read it as the summary (0%)."""
    from ivit_gemmini.model.images import find_images
    from ivit_gemmini.paper.figures import agreement_matrix

    for name in ("all.jpg", "b.jpg"):
        (tmp_path / name).write_bytes(b"")
    ids = list(find_images(str(tmp_path)))
    assert ids == ["all", "b"]
    same = np.arange(6, dtype=np.int64)
    logits = {"torch-int": {"all": same, "b": same},
              "spike": {"all": same + np.eye(6, dtype=np.int64)[0], "b": same}}  # `all` differs
    agreement.write_agreement(logits, ["torch-int", "spike"], ids, on_mismatch="warn",
                              demo=False, csv_out=tmp_path / "a.csv", md_out=tmp_path / "a.md")
    rows = list(csv.DictReader((tmp_path / "a.csv").read_text().splitlines()))
    assert [r["image"] for r in rows] == [agreement.ALL_IMAGES, "all", "b"]
    assert [r["logits_identical"] for r in rows] == ["1", "0", "1"]
    md = (tmp_path / "a.md").read_text()
    per_image = md.split("## Per image")[1]
    assert "| torch-int | spike | all | " in per_image
    same_share, top1 = agreement_matrix(tmp_path / "a.csv", ["torch-int", "spike"])
    assert same_share[0, 1] == 0.5 and top1[0, 1] == 1.0  # 1 of 2 images identical
