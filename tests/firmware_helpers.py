"""Test helpers for the firmware stage: the stand-in model archive (a TEST DOUBLE of the
compiler's model.tar, tests/firmware_standin/) and its golden logits computed with numpy."""

from __future__ import annotations

import tarfile
import tempfile
from pathlib import Path

import numpy as np

STANDIN_DIR = Path(__file__).resolve().parent / "firmware_standin"
CLASSES = 10
INPUT_BYTES = 3 * 8 * 8
BIAS = (np.arange(CLASSES, dtype=np.int64) * 1_000_003 - 4_000_000).astype(np.int32)


def standin_defines(**extra: int) -> dict[str, str]:
    base = {"STANDIN_CLASSES": CLASSES, "STANDIN_INPUT_BYTES": INPUT_BYTES, **extra}
    return {k: str(v) for k, v in base.items()}


def make_standin_archive(out: Path, extra_config: str = "") -> Path:
    """A model.tar laid out like the compiler's (codegen/host/src) holding the stand-in model;
    `extra_config` goes into its config header (e.g. "#define STANDIN_HANG 1")."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        return _pack(Path(tmp), out, extra_config)


def _pack(stage: Path, out: Path, extra_config: str) -> Path:
    src = stage / "codegen" / "host" / "src"
    src.mkdir(parents=True, exist_ok=True)
    include = stage / "codegen" / "host" / "include"
    include.mkdir(parents=True, exist_ok=True)
    (include / "standin_config.h").write_text(
        extra_config + f"#ifndef STANDIN_CLASSES\n#define STANDIN_CLASSES {CLASSES}\n#endif\n"
        f"#ifndef STANDIN_INPUT_BYTES\n#define STANDIN_INPUT_BYTES {INPUT_BYTES}\n#endif\n"
    )
    for name in ("standin_model.c", "standin_bias.S"):
        (src / name).write_bytes((STANDIN_DIR / name).read_bytes())
    BIAS.astype("<i4").tofile(src / "standin_bias.bin")
    with tarfile.open(out, "w") as tar:
        tar.add(stage / "codegen", arcname="codegen")
    return out


def standin_golden(inp: np.ndarray) -> np.ndarray:
    """The stand-in's logits, from its defining formula, in numpy int64."""
    i = np.arange(INPUT_BYTES, dtype=np.int64)[None, :]
    c = np.arange(CLASSES, dtype=np.int64)[:, None]
    w = (i * 31 + c * 17) % 255 - 127
    return (w @ inp.astype(np.int64)) * 4096 + BIAS.astype(np.int64)


def random_input(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(-128, 128, INPUT_BYTES).astype(np.int8)


def write_quantize_summary(work, names) -> None:
    """The quantize shard's summary as quantize_images would write it for `names` (inputs
    written by the test itself under results/inputs/), one shard (`0of1`)."""
    import json as _json
    from pathlib import Path as _Path

    summary = _Path(work) / "results/shards/quantize/0of1.json"
    summary.parent.mkdir(parents=True, exist_ok=True)
    entries = {n: {"status": "ok", "key": "test", "files": {"input": f"results/inputs/{n}.bin"}}
               for n in names}
    summary.write_text(_json.dumps({"stage": "quantize", "shard": "0of1", "images": entries}))
