"""Shared fixtures (keep this file small: helpers live in tests/*_helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo() -> Path:
    """The repository root (where the Snakefile is)."""
    return REPO


@pytest.fixture(scope="session")
def toy_checkpoint(tmp_path_factory) -> Path:
    """A tiny I-ViT checkpoint (model.architecture.TOY, 32 px, 10 classes), calibrated on the
    demo photographs: the workflow runs on it in seconds."""
    from ivit_gemmini.model.architecture import TOY
    from ivit_gemmini.model.demo import make_demo_checkpoint
    from ivit_gemmini.model.images import export_demo_images, load_preprocessed

    folder = tmp_path_factory.mktemp("toy")
    photos = export_demo_images(folder / "demo")
    out = folder / "toy_checkpoint.pth"
    make_demo_checkpoint(load_preprocessed(photos, TOY.image_size), out, seed=1, arch=TOY)
    return out


@pytest.fixture(params=["functional", "rtl"], ids=["spike", "spike-rtl"])
def mesh_backend(request: pytest.FixtureRequest):
    """Run a test on both builds of the Spike extension: the functional mesh and our RTL mesh
    (Verilated). For modules built on tests/spike_helpers.py (`usefixtures("mesh_backend")`)."""
    import spike_helpers

    spike_helpers.MESH["backend"] = request.param
    yield request.param
    spike_helpers.MESH["backend"] = "functional"
