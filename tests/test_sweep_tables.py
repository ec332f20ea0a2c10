"""The sweep's points, tables and figures (src/ivit_gemmini/sweep/table.py, figures.py) on
synthetic Spike stats files whose figures are computed by hand below."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from ivit_gemmini.errors import UserError
from ivit_gemmini.model.architecture import DEIT_SMALL, DEIT_TINY
from ivit_gemmini.sweep.table import aggregate_sweep, model_name, point_row, sweep_points

SECTION = {"dim": 16, "bank_num": 4, "bank_rows": 1024, "acc_rows": 256, "max_bytes": 64}


def stats(path: Path, *, instret: int, cycles: int, macs: int, bytes_in: int, bytes_out: int,
          wall: float, old: bool = False) -> Path:
    gem = {"macs_useful": macs, "bytes_in": bytes_in, "bytes_out": bytes_out}
    if old:  # stats written before the timing model: the older estimate only
        gem["cycles"] = {"overlapped": cycles}
    else:  # the core waits for all but 100 of the Gemmini cycles
        gem.update(gemmini_cycles_modelled=cycles, gemmini_wait_cycles_modelled=cycles - 100,
                   cycles={"modelled": cycles})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"wall_s": wall, "gemmini": gem, "steps": [],
                                "kernels": {"total": {"instret": instret}}}), encoding="utf-8")
    return path


def logits(path: Path, values: list[int]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, np.array(values, dtype=np.int64))
    return path


def two_images(tmp: Path, *, second_spike: list[int], old: bool = False) -> dict:
    s = [stats(tmp / "a.json", instret=1000, cycles=400, macs=64_000, bytes_in=100,
               bytes_out=50, wall=1.0, old=old),
         stats(tmp / "b.json", instret=3000, cycles=600, macs=64_000, bytes_in=300,
               bytes_out=150, wall=2.0, old=old)]
    spike = [logits(tmp / "sa.npy", [1, 2, 3]), logits(tmp / "sb.npy", second_spike)]
    ref = [logits(tmp / "ra.npy", [1, 2, 3]), logits(tmp / "rb.npy", [4, 5, 6])]
    return {"stats": s, "spike_logits": spike, "reference_logits": ref}


def test_point_row_by_hand(tmp_path: Path) -> None:
    row = point_row(model="deit-tiny", config="dim16_sp4x1024_acc256", section=SECTION,
                    labels=["a", "b"], **two_images(tmp_path, second_spike=[4, 5, 6]))
    assert row["instructions"] == 2000  # (1000 + 3000) / 2
    assert row["gemmini_cycles"] == 500  # (400 + 600) / 2
    assert row["utilization"] == 0.5  # 64,000 MACs / (16 * 16 * 500)
    assert row["bytes_moved"] == 300  # (150 + 450) / 2
    assert row["spike_wall_s"] == 1.5
    assert row["scratchpad_kib"] == 64  # 4 * 1024 rows * 16 B
    assert row["accumulator_kib"] == 16  # 256 rows * 16 * 4 B
    assert row["labels"] == "a/b"
    assert row["core_cycles"] is None and row["total_cycles"] is None  # no core-cycle profile
    assert row["exact"] is True


def test_one_differing_logit_is_not_exact(tmp_path: Path) -> None:
    row = point_row(model="m", config="c", section=SECTION, labels=["x"],
                    **two_images(tmp_path, second_spike=[4, 5, 7]))
    assert row["exact"] is False


def test_older_stats_fall_back_to_the_overlapped_estimate(tmp_path: Path) -> None:
    row = point_row(model="m", config="c", section=SECTION, labels=["x"],
                    **two_images(tmp_path, second_spike=[4, 5, 6], old=True))
    assert row["gemmini_cycles"] == 500


def test_model_names() -> None:
    assert model_name(dataclasses.asdict(DEIT_TINY)) == "deit-tiny"
    assert model_name(dataclasses.asdict(DEIT_SMALL)) == "deit-small"
    other = {**dataclasses.asdict(DEIT_TINY), "depth": 4}
    assert model_name(other) == "vit-d4-w192-p16-224px"


def run_points(tmp: Path, arch, configs: dict[str, dict], images: list[str],
               spike_of: dict[str, list[int]]) -> Path:
    """A run folder's files for sweep_points: manifest, per-build stats and logits."""
    tmp.mkdir(parents=True, exist_ok=True)
    manifest = tmp / "manifest.json"
    manifest.write_text(json.dumps({"arch": dataclasses.asdict(arch)}), encoding="utf-8")
    for name in configs:
        for n, image in enumerate(images):
            stats(tmp / "stats" / name / f"{image}.json", instret=1000 * (n + 1),
                  cycles=256 * (n + 1), macs=16 * 16 * 128 * (n + 1), bytes_in=10, bytes_out=0,
                  wall=0.5)
            logits(tmp / "spike" / name / f"{image}.npy", spike_of.get(name, [7, 8]))
    for image in images:
        logits(tmp / "ref" / f"{image}.npy", [7, 8])
    out = tmp / "points.csv"
    sweep_points(manifest, {n: {"section": s, "labels": [n]} for n, s in configs.items()},
                 images, stats=str(tmp / "stats/{config}/{image}.json"),
                 spike_logits=str(tmp / "spike/{config}/{image}.npy"),
                 reference_logits=str(tmp / "ref/{image}.npy"), profile=None, out=out)
    return out


def test_aggregate_joins_runs_sorted_with_labelled_headers_and_figures(tmp_path: Path) -> None:
    d8 = {**SECTION, "dim": 8}
    small = run_points(tmp_path / "small", DEIT_SMALL, {"c16": SECTION, "c8": d8}, ["x"], {})
    tiny = run_points(tmp_path / "tiny", DEIT_TINY, {"c16": SECTION}, ["x", "y"], {})
    out = tmp_path / "out"
    aggregate_sweep([small, tiny], csv_out=out / "sweep.csv", md_out=out / "sweep.md",
                    cycles_png=out / "c.png", utilization_png=out / "u.png")
    rows = list(csv.DictReader((out / "sweep.csv").read_text(encoding="utf-8").splitlines()))
    assert [(r["model"], r["config"]) for r in rows] == [
        ("deit-tiny", "c16"), ("deit-small", "c8"), ("deit-small", "c16")]
    # tiny: images 1 and 2 -> instructions (1000 + 2000) / 2, cycles (256 + 512) / 2 = 384,
    # MACs (32,768 + 65,536) / 2 = 49,152 -> utilization 49,152 / (256 * 384) = 0.5.
    assert rows[0]["instructions"] == "1500" and rows[0]["gemmini_cycles"] == "384"
    assert float(rows[0]["utilization"]) == 0.5
    # small on DIM 8: 32,768 MACs / (64 * 256) = 2.0: the synthetic MACs exceed an 8x8 mesh.
    assert float(rows[1]["utilization"]) == 2.0
    assert all(r["exact"] == "true" for r in rows) and rows[0]["core_cycles"] == ""
    md = (out / "sweep.md").read_text(encoding="utf-8")
    for header in ("Gemmini cycles (modelled)", "core cycles (modelled)",
                   "total cycles (modelled)", "mesh utilization (modelled)",
                   "instructions (counted)", "Spike s (measured)"):
        assert header in md
    for png in ("c.png", "u.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_point_that_is_not_exact_fails_the_sweep_unless_warn(tmp_path: Path) -> None:
    points = run_points(tmp_path, DEIT_TINY, {"c16": SECTION}, ["x"], {"c16": [7, 9]})
    out = tmp_path / "out"
    kw = {"csv_out": out / "s.csv", "md_out": out / "s.md", "cycles_png": out / "c.png",
          "utilization_png": out / "u.png"}
    with pytest.raises(UserError, match="deit-tiny on c16"):
        aggregate_sweep([points], **kw)
    assert not out.exists()
    aggregate_sweep([points], on_mismatch="warn", **kw)
    assert "**NO**" in (out / "s.md").read_text(encoding="utf-8")


def test_a_missing_image_file_is_one_line(tmp_path: Path) -> None:
    files = two_images(tmp_path, second_spike=[4, 5, 6])
    files["spike_logits"][1].unlink()
    with pytest.raises(UserError, match=r"sb\.npy is missing"):
        point_row(model="m", config="c", section=SECTION, labels=["x"], **files)


def test_points_files_of_the_runs_or_this_run() -> None:
    from ivit_gemmini.sweep.targets import points_files

    assert points_files({"sweep": {"runs": []}}) == ["results/sweep/points.csv"]
    assert points_files({"sweep": {"runs": ["deit-tiny", "b"]}}) == [
        "deit-tiny/results/sweep/points.csv", "b/results/sweep/points.csv"]


def test_core_cycles_from_a_profile_by_hand(tmp_path: Path) -> None:
    files = two_images(tmp_path, second_spike=[4, 5, 6])
    for path in files["stats"]:  # one kernel "k" of 800 instructions, the rest outside kernels
        data = json.loads(path.read_text(encoding="utf-8"))
        data["steps"] = [{"name": "k", "kind": "core", "instret": 800, "cycles": 800}]
        path.write_text(json.dumps(data), encoding="utf-8")
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps({"kernel_cpi": {"k": 2.0}, "glue_cpi": 1.5}), encoding="utf-8")
    row = point_row(model="m", config="c", section=SECTION, labels=["x"], profile=profile,
                    **files)
    # image a: 800 * 2 + (1000 - 800) * 1.5 = 1900; image b: 1600 + 2200 * 1.5 = 4900
    assert row["core_cycles"] == (1900 + 4900) / 2
    assert row["total_cycles"] == 3400 + 400  # + the mean Gemmini cycles the core waits for
