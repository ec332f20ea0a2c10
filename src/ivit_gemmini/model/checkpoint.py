"""Loading and validating an I-ViT QAT checkpoint.

`load_checkpoint` reads the file with `torch.load(weights_only=True)` (no code runs), unwraps
`{"model": ...}` / `{"state_dict": ...}` and DataParallel's `module.` prefix, infers the
architecture from tensor shapes, checks every tensor the integer graph needs, and raises ONE
`UserError` that lists what is wrong.
"""

from __future__ import annotations

import hashlib
import io
import math
import pickle
import pickletools
import re
import warnings
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ivit_gemmini.errors import UserError
from ivit_gemmini.model.architecture import Architecture
from ivit_gemmini.model.checkpoint_keys import KeySpec, Kind, integer_graph_specs

SHIFTMAX_SCALE = 2.0**-15  # I-ViT's IntSoftmax(output_bit=16)
MAX_LISTED = 5  # problems spelled out in the error; the rest are counted
RESAVE = "torch.save(model.state_dict(), path)"


@dataclass(frozen=True)
class Checkpoint:
    """A validated checkpoint: CPU tensors (float32 where floating), its shape and identity."""

    state: dict[str, torch.Tensor]
    arch: Architecture
    sha256: str
    path: Path


def load_checkpoint(path: str | Path, num_heads: int | None = None) -> Checkpoint:
    """Load, validate and describe the checkpoint at `path`.

    `num_heads` cannot be read from shapes; it defaults to dim // 64 (DeiT's rule), at least 1.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"checkpoint {path} does not exist (or is not a file); check the "
                        "checkpoint path in the config, or build the demo checkpoint")
    sha256 = _sha256(path)
    state = _unwrap(_torch_load(path), path)
    _reject_foreign(state, path)
    arch, problems = _infer_architecture(state, num_heads)
    if arch is not None:
        problems += validate_state(state, arch)
    if problems:
        raise UserError(_describe(path, arch, problems))
    assert arch is not None
    return Checkpoint(state=_normalized(state), arch=arch, sha256=sha256, path=path)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _torch_load(path: Path) -> Any:
    try:
        with warnings.catch_warnings():
            # e.g. "Detected pickle protocol 4": the error below says it better.
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        # torch words its weights_only refusals in several ways ("Unsupported global: GLOBAL
        # x", "unsupported GLOBAL posix.system whose module posix is blocked", "Unsupported
        # operand 149", ...): rather than match each, list the file's imports without running it.
        code = _pickled_code(path)
        if code:
            raise UserError(
                f"checkpoint {path} contains pickled Python objects "
                f"({', '.join(code[:MAX_LISTED])}) that need code to load, which "
                "torch.load(weights_only=True) will not execute; re-save it as a plain "
                f"state_dict with {RESAVE}") from None
        raise UserError(_unreadable(path, "not a PyTorch file")) from None
    except (RuntimeError, EOFError, KeyError, ValueError, OSError, zipfile.BadZipFile,
            IndexError, TypeError, UnicodeDecodeError) as e:
        reason = str(e).split(".")[0] or type(e).__name__
        raise UserError(_unreadable(path, reason)) from None


# What a plain state_dict pickle imports: torch's tensor rebuilders and storage types, and
# OrderedDict. Anything else is code the file asks to run (or a class to instantiate).
_PLAIN_GLOBALS = re.compile(r"^(torch\._utils\._rebuild_\w+|torch\.\w*Storage|"
                            r"collections\.OrderedDict|torch\.(float|int|uint|bfloat)\w*)$")


_DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")


def _pickled_code(path: Path) -> list[str]:
    """Globals (module.name) that the pickle(s) in `path` import, other than those of a plain
    state_dict; read statically with pickletools, nothing is executed."""
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                streams = [zf.read(n) for n in zf.namelist() if n.endswith(".pkl")]
        else:
            streams = [path.read_bytes()]
    except (OSError, zipfile.BadZipFile, RuntimeError):
        return []
    found: list[str] = []
    for data in streams:
        buf = io.BytesIO(data)
        for _ in range(8):  # the legacy format is several pickles back to back
            if buf.tell() >= len(data):
                break
            found += _globals_of_one_pickle(buf)
    # A text file parses as a protocol-0 pickle too: keep only names that are Python names.
    return [g for g in dict.fromkeys(found)
            if _DOTTED.match(g) and not _PLAIN_GLOBALS.match(g)]


def _globals_of_one_pickle(buf: io.BytesIO) -> list[str]:
    names: list[str] = []
    strings: list[str] = []  # STACK_GLOBAL takes module and name from the two last strings
    try:
        for op, arg, _ in pickletools.genops(buf):
            if op.name in ("GLOBAL", "INST") and str(arg).count(" ") == 1:  # "module name"
                names.append(str(arg).replace(" ", "."))
            elif op.name == "STACK_GLOBAL" and len(strings) >= 2:
                names.append(f"{strings[-2]}.{strings[-1]}")
            elif isinstance(arg, str):
                strings.append(arg)
    except (ValueError, EOFError, UnicodeDecodeError, IndexError, KeyError):
        buf.seek(0, io.SEEK_END)  # not (or no longer) a pickle: stop reading this stream
    return names


def _unreadable(path: Path, reason: str) -> str:
    return (f"checkpoint {path} cannot be read by torch.load ({reason}): it is not a PyTorch "
            f"file or it is truncated; copy it again, or re-save it with {RESAVE}")


def _unwrap(obj: Any, path: Path) -> dict[str, torch.Tensor]:
    """The state_dict inside `obj`: follow `model` / `state_dict` wrappers, strip `module.`."""
    for _ in range(3):
        if isinstance(obj, Mapping) and not _has_tensors(obj):
            inner = next((obj[k] for k in ("model", "state_dict") if k in obj), None)
            if isinstance(inner, Mapping):
                obj = inner
                continue
        break
    if not isinstance(obj, Mapping) or not _has_tensors(obj):
        raise UserError(
            f"checkpoint {path} holds a {type(obj).__name__} without tensors, not a state_dict; "
            f"save the I-ViT model's weights with {RESAVE}")
    return {
        (key[len("module."):] if key.startswith("module.") else key): value
        for key, value in obj.items()
        if isinstance(key, str) and isinstance(value, torch.Tensor)
    }


def _has_tensors(obj: Mapping[Any, Any]) -> bool:
    return any(isinstance(v, torch.Tensor) for v in obj.values())


def _reject_foreign(state: Mapping[str, torch.Tensor], path: Path) -> None:
    """Say plainly when the file is a float ViT or not a ViT at all."""
    quant_keys = [k for k in state if k.endswith(("_scaling_factor", "_integer"))]
    if quant_keys:
        return
    if "patch_embed.proj.weight" in state and any(k.startswith("blocks.") for k in state):
        raise UserError(
            f"checkpoint {path} is a float ViT/DeiT state_dict (e.g. from timm), not an I-ViT "
            "QAT checkpoint: it has no weight_integer or *_scaling_factor tensors; quantize it "
            "with I-ViT's quant_train.py first (or use the demo checkpoint)")
    examples = ", ".join(repr(k) for k in list(state)[:3])
    raise UserError(
        f"checkpoint {path} is not an I-ViT checkpoint: none of its {len(state)} keys "
        f"({examples}, ...) is an I-ViT quantization buffer such as "
        "'patch_embed.proj.weight_integer'; pass the checkpoint.pth.tar saved by I-ViT's "
        "quant_train.py")


def _first_shape(state: Mapping[str, torch.Tensor], *keys: str) -> tuple[int, ...] | None:
    for key in keys:
        if key in state:
            return tuple(state[key].shape)
    return None


def _infer_architecture(
    state: Mapping[str, torch.Tensor], num_heads: int | None
) -> tuple[Architecture | None, list[str]]:
    """The architecture implied by the tensor shapes, or (None, reasons it cannot be)."""
    problems: list[str] = []
    conv = _first_shape(state, "patch_embed.proj.weight_integer", "patch_embed.proj.weight")
    pos = _first_shape(state, "pos_embed")
    fc1 = _first_shape(state, "blocks.0.mlp.fc1.weight_integer", "blocks.0.mlp.fc1.weight")
    head = _first_shape(state, "head.weight_integer", "head.weight")
    block_ids = {int(m.group(1)) for k in state if (m := re.match(r"blocks\.(\d+)\.", k))}
    needed = {"patch_embed.proj.weight_integer": conv, "pos_embed": pos,
              "blocks.0.mlp.fc1.weight_integer": fc1, "head.weight_integer": head}
    problems += [f"missing {key!r}" for key, shape in needed.items() if shape is None]
    if not block_ids:
        problems.append("no 'blocks.N.*' keys (transformer blocks)")
    if conv is not None and (len(conv) != 4 or conv[2] != conv[3]):
        problems.append(f"'patch_embed.proj.weight_integer' has shape {conv}, expected "
                        "(dim, in_chans, patch, patch)")
    if pos is not None and len(pos) != 3:
        problems.append(f"'pos_embed' has shape {pos}, expected (1, tokens, dim)")
    if problems:
        return None, problems
    assert conv is not None and pos is not None and fc1 is not None and head is not None
    dim, in_chans, patch = conv[0], conv[1], conv[2]
    grid = math.isqrt(max(pos[1] - 1, 0))
    if pos[1] < 2 or grid * grid != pos[1] - 1:
        return None, [f"'pos_embed' has {pos[1]} tokens, expected 1 + a square number of "
                      "patches"]
    heads = num_heads if num_heads is not None else max(1, dim // 64)
    try:
        arch = Architecture(depth=max(block_ids) + 1, dim=dim, num_heads=heads,
                            mlp_hidden=fc1[0], patch_size=patch, image_size=grid * patch,
                            in_chans=in_chans, num_classes=head[0])
    except ValueError as e:
        return None, [f"inconsistent architecture: {e}"]
    return arch, []


def validate_state(state: Mapping[str, torch.Tensor], arch: Architecture) -> list[str]:
    """Every problem with the integer graph's tensors, in network order (empty if none)."""
    problems: list[str] = []
    for key, spec in integer_graph_specs(arch).items():
        if key not in state:
            problems.append(f"missing {key!r}")
            continue
        problem = _check_tensor(state[key], spec)
        if problem:
            problems.append(f"{key!r} {problem}")
        elif key.endswith("int_softmax.act_scaling_factor"):
            value = float(state[key].reshape(-1)[0])
            if value != SHIFTMAX_SCALE:
                problems.append(
                    f"{key!r} is {value:g}, not 2^-15: the checkpoint comes from an I-ViT "
                    "version whose Shiftmax output is not 16-bit, which this project does not "
                    "implement")
    return problems


def _check_tensor(t: torch.Tensor, spec: KeySpec) -> str | None:
    """Why `t` does not satisfy `spec`, or None."""
    if spec.shape is None:
        if t.numel() != 1 or t.dim() > 1:
            return f"has shape {tuple(t.shape)}, expected a scalar"
    elif tuple(t.shape) != spec.shape:
        return f"has shape {tuple(t.shape)}, expected {spec.shape}"
    integer_kind = spec.kind in (Kind.INT8, Kind.INT32, Kind.INTEGER)
    if not (t.is_floating_point() or (integer_kind and _is_integer_dtype(t.dtype))):
        wanted = "a float or integer" if integer_kind else "a float"
        return f"has dtype {t.dtype}, expected {wanted}"
    v = t.detach().to(torch.float64)
    if not bool(torch.isfinite(v).all()):
        return "contains NaN or infinity"
    if integer_kind:
        lo, hi = (-128, 127) if spec.kind is Kind.INT8 else (-(2**31), 2**31 - 1)
        if not torch.equal(v, torch.round(v)):
            return f"has non-integer values, expected {spec.kind.value}"
        if spec.kind is not Kind.INTEGER and v.numel() and (v.min() < lo or v.max() > hi):
            return f"has values in [{v.min():.0f}, {v.max():.0f}], expected {spec.kind.value}"
    elif spec.kind is Kind.SCALE and bool((v <= 0).any()):
        return (f"has a value {v.min():g} <= 0, expected {spec.kind.value} (was a forward pass "
                "in eval mode run before saving?)")
    elif spec.kind is Kind.NORM_SCALE and bool((v == 0).any()):
        return f"has zeros, expected {spec.kind.value} (LayerNorm gamma of 0?)"
    return None


def _is_integer_dtype(dtype: torch.dtype) -> bool:
    return dtype in (torch.int8, torch.uint8, torch.int16, torch.int32, torch.int64)


def _describe(path: Path, arch: Architecture | None, problems: list[str]) -> str:
    shown = "; ".join(problems[:MAX_LISTED])
    more = f"; and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
    layout = (f" (read as depth {arch.depth}, dim {arch.dim}, MLP {arch.mlp_hidden}, patch "
              f"{arch.patch_size}, image {arch.image_size}, {arch.num_classes} classes)"
              if arch else "")
    return (f"checkpoint {path} is not a usable I-ViT checkpoint{layout}: {len(problems)} "
            f"problem(s): {shown}{more}; save the complete I-ViT model after an evaluation "
            f"pass with {RESAVE}")


def _normalized(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Detached contiguous CPU copies, floating tensors as float32."""
    out: dict[str, torch.Tensor] = {}
    for key, t in state.items():
        t = t.detach().cpu()
        if t.is_floating_point():
            t = t.to(torch.float32)
        out[key] = t.contiguous()
    return out
