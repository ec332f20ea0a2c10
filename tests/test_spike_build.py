"""The extension build is cached by content: a second call reuses the library without running
the compiler, and any change to a source or header changes the cache key."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from spike_helpers import extension

from ivit_gemmini.simulate import spike


def test_second_build_reuses_library(monkeypatch: pytest.MonkeyPatch) -> None:
    lib = extension()
    mtime = lib.stat().st_mtime_ns

    def no_compiler(*args: object, **kwargs: object) -> None:
        raise AssertionError("the compiler ran although nothing changed")

    monkeypatch.setattr(subprocess, "run", no_compiler)
    assert spike.build_extension(lib.parent) == lib
    assert lib.stat().st_mtime_ns == mtime


def test_source_change_changes_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    copy = tmp_path / "spike"
    shutil.copytree(spike.EXTENSION_DIR, copy)
    monkeypatch.setattr(spike, "EXTENSION_DIR", copy)
    before = spike._extension_key("g++")
    (copy / "kernels.cc").write_text((copy / "kernels.cc").read_text() + "\n// edit\n")
    assert spike._extension_key("g++") != before
