"""Checkpoint keys, architecture inference and every kind of bad checkpoint."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest
import torch

from ivit_gemmini.errors import UserError
from ivit_gemmini.model.architecture import DEIT_BASE, DEIT_SMALL, DEIT_TINY, TOY, Architecture
from ivit_gemmini.model.checkpoint import _infer_architecture, load_checkpoint
from ivit_gemmini.model.checkpoint_keys import Kind, integer_graph_specs
from ivit_gemmini.model.vit import VisionTransformer

# The integer graph's keys for a 1-block model, typed out by hand from I-ViT's module names
# (zkkli/I-ViT models/vit_quant.py), independently of checkpoint_keys.py.
NOTES_KEYS_DEPTH_1 = {
    "qact_input.act_scaling_factor",
    "patch_embed.proj.weight_integer", "patch_embed.proj.bias_integer",
    "patch_embed.proj.conv_scaling_factor", "patch_embed.qact.act_scaling_factor",
    "cls_token", "pos_embed", "qact_pos.act_scaling_factor", "qact1.act_scaling_factor",
    "blocks.0.norm1.bias_integer", "blocks.0.norm1.norm_scaling_factor",
    "blocks.0.norm2.bias_integer", "blocks.0.norm2.norm_scaling_factor",
    *(f"blocks.0.qact{i}.act_scaling_factor" for i in range(1, 5)),
    *(f"blocks.0.attn.{m}.{t}" for m in ("qkv", "proj")
      for t in ("weight_integer", "bias_integer", "fc_scaling_factor")),
    *(f"blocks.0.attn.{q}.act_scaling_factor" for q in
      ("qact1", "qact2", "qact3", "qact_attn1", "matmul_1", "matmul_2", "int_softmax")),
    *(f"blocks.0.mlp.{m}.{t}" for m in ("fc1", "fc2")
      for t in ("weight_integer", "bias_integer", "fc_scaling_factor")),
    *(f"blocks.0.mlp.{q}.act_scaling_factor" for q in ("qact_gelu", "act", "qact1", "qact2")),
    "norm.bias_integer", "norm.norm_scaling_factor", "qact2.act_scaling_factor",
    "head.weight_integer", "head.bias_integer", "head.fc_scaling_factor",
}


def test_integer_graph_keys_match_the_notes() -> None:
    one = Architecture(depth=1, dim=64, num_heads=1, mlp_hidden=256, patch_size=16,
                       image_size=224)
    assert set(integer_graph_specs(one)) == NOTES_KEYS_DEPTH_1
    assert len(integer_graph_specs(DEIT_TINY)) == 387  # 9 + 12 * 31 + 6


def test_model_state_dict_has_ivits_550_keys_and_all_integer_keys() -> None:
    keys = set(VisionTransformer(DEIT_TINY).state_dict())
    assert len(keys) == 550
    assert set(integer_graph_specs(DEIT_TINY)) <= keys


def synthetic_state(arch: Architecture, seed: int = 0) -> dict[str, torch.Tensor]:
    """A valid integer-graph state with small random values (not a meaningful network)."""
    g = torch.Generator().manual_seed(seed)
    state = {}
    for key, spec in integer_graph_specs(arch).items():
        shape = spec.shape or ()
        if spec.kind is Kind.INT8:
            t = torch.randint(-128, 128, shape, generator=g).float()
        elif spec.kind in (Kind.INT32, Kind.INTEGER):
            t = torch.randint(-(2**20), 2**20, shape, generator=g).float()
        elif spec.kind is Kind.FLOAT:
            t = torch.randn(shape, generator=g)
        elif spec.kind is Kind.NORM_SCALE:
            t = torch.rand(shape, generator=g) * 1e-8 - 0.5e-8 + 1e-9
            t[t == 0] = 1e-9
        else:
            t = torch.rand(shape, generator=g) * 0.01 + 1e-4
        state[key] = t
    for i in range(arch.depth):
        state[f"blocks.{i}.attn.int_softmax.act_scaling_factor"] = torch.tensor([2.0**-15])
    return state


@pytest.fixture
def toy_state() -> dict[str, torch.Tensor]:
    return synthetic_state(TOY)


def _save(obj: object, path: Path) -> Path:
    torch.save(obj, path)
    return path


def _error(path: Path, **kwargs: object) -> str:
    with pytest.raises(UserError) as info:
        load_checkpoint(path, **kwargs)  # type: ignore[arg-type]
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    return message


def test_valid_checkpoint_loads(tmp_path: Path, toy_state: dict[str, torch.Tensor]) -> None:
    path = _save(toy_state, tmp_path / "ck.pth")
    ck = load_checkpoint(path, num_heads=2)
    assert ck.arch == TOY
    assert set(ck.state) == set(toy_state)
    assert all(torch.equal(ck.state[k], toy_state[k]) for k in toy_state)
    import hashlib

    assert ck.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert ck.path == path
    assert load_checkpoint(path).arch.num_heads == 1  # dim 32 // 64, at least 1


@pytest.mark.parametrize("wrap", ["model", "state_dict", "module", "double"])
def test_wrappers_are_unwrapped(tmp_path: Path, toy_state: dict, wrap: str) -> None:
    if wrap == "module":
        obj: object = {f"module.{k}": v for k, v in toy_state.items()}
    elif wrap == "double":
        obj = {"state_dict": {"model": toy_state}, "epoch": 3}
    else:
        obj = {wrap: toy_state, "epoch": 3}
    ck = load_checkpoint(_save(obj, tmp_path / "ck.pth"), num_heads=2)
    assert ck.arch == TOY and set(ck.state) == set(toy_state)


def test_float_types_become_float32(tmp_path: Path, toy_state: dict) -> None:
    state = {k: v.double() for k, v in toy_state.items()}
    state["head.weight_integer"] = toy_state["head.weight_integer"].to(torch.int8)
    ck = load_checkpoint(_save(state, tmp_path / "ck.pth"))
    assert ck.state["pos_embed"].dtype == torch.float32
    assert ck.state["head.weight_integer"].dtype == torch.int8


@pytest.mark.parametrize(
    ("arch", "heads"), [(DEIT_TINY, 3), (DEIT_SMALL, 6), (DEIT_BASE, 12), (TOY, 1)]
)
def test_architecture_inferred_from_shapes(arch: Architecture, heads: int) -> None:
    # Shapes only: zero-stride views, no memory for DeiT-base's weights.
    state = {k: torch.zeros(()).expand(s.shape or (1,))
             for k, s in integer_graph_specs(arch).items()}
    got, problems = _infer_architecture(state, None)
    assert problems == []
    assert got == Architecture(depth=arch.depth, dim=arch.dim, num_heads=heads,
                               mlp_hidden=arch.mlp_hidden, patch_size=arch.patch_size,
                               image_size=arch.image_size, in_chans=arch.in_chans,
                               num_classes=arch.num_classes)


def test_tiny_shaped_checkpoint_validates(tmp_path: Path) -> None:
    ck = load_checkpoint(_save(synthetic_state(DEIT_TINY), tmp_path / "tiny.pth"))
    assert ck.arch == DEIT_TINY and len(ck.state) == 387


def test_missing_file(tmp_path: Path) -> None:
    assert "does not exist" in _error(tmp_path / "nope.pth")


@pytest.mark.parametrize("content", [b"", b"hello world\n", b"\x80\x04K\x01."])
def test_not_a_torch_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "junk.pth"
    path.write_bytes(content)
    assert "cannot be read by torch.load" in _error(path)


@pytest.mark.parametrize("legacy", [False, True])
def test_truncated_file(tmp_path: Path, toy_state: dict, legacy: bool) -> None:
    path = tmp_path / "ck.pth"
    torch.save(toy_state, path, _use_new_zipfile_serialization=not legacy)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert "truncated" in _error(path)


def test_pickled_python_objects(tmp_path: Path, toy_state: dict) -> None:
    # I-ViT's (commented-out) resume checkpoint stores argparse args next to the model.
    path = _save({"model": toy_state, "args": argparse.Namespace(lr=1e-6)}, tmp_path / "r.pth")
    message = _error(path)
    assert "pickled Python objects" in message and "argparse.Namespace" in message
    assert "torch.save(model.state_dict(), path)" in message


class _RunsShell:
    """Pickles as a call to os.system: loading it without weights_only would run `touch`."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204
        import os

        return (os.system, (f"touch {self.marker}",))


class _RunsEval:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204
        return (eval, (f"open({str(self.marker)!r}, 'w')",))


@pytest.mark.parametrize("form", ["zip", "legacy", "raw_protocol_0", "raw_protocol_4", "eval"])
def test_code_carrying_pickle_is_diagnosed_and_never_runs(tmp_path: Path, toy_state: dict,
                                                          form: str) -> None:
    """Every shape of torch's weights_only refusal ("Unsupported global", "GLOBAL posix.system
    whose module posix is blocked", "Unsupported operand 149") reads as "needs code to load"."""
    import pickle

    marker = tmp_path / "the_pickle_ran"
    path = tmp_path / "evil.pth"
    payload = {"model": toy_state, "hook": (_RunsEval if form == "eval" else _RunsShell)(marker)}
    if form in ("zip", "eval"):
        torch.save(payload, path)
    elif form == "legacy":
        torch.save(payload, path, _use_new_zipfile_serialization=False)
    else:
        path.write_bytes(pickle.dumps(payload["hook"], protocol=int(form[-1])))
    message = _error(path)
    assert not marker.exists()
    assert "need code to load" in message and "\n" not in message
    assert ("eval" if form == "eval" else "system") in message  # names what it would call
    assert "torch.save(model.state_dict(), path)" in message


def test_float_timm_deit_is_not_an_ivit_checkpoint(tmp_path: Path) -> None:
    timm_like = {k: v.detach() for k, v in VisionTransformer(TOY).named_parameters()}
    message = _error(_save(timm_like, tmp_path / "deit.pth"))
    assert "float ViT/DeiT state_dict" in message and "quant_train.py" in message


def test_unrelated_state_dict(tmp_path: Path) -> None:
    resnet_like = {"conv1.weight": torch.zeros(8, 3, 7, 7), "fc.weight": torch.zeros(10, 8)}
    assert "is not an I-ViT checkpoint" in _error(_save(resnet_like, tmp_path / "r.pth"))


def test_no_tensors(tmp_path: Path) -> None:
    assert "without tensors" in _error(_save({"epoch": 3}, tmp_path / "e.pth"))


def test_missing_keys_are_listed_and_counted(tmp_path: Path, toy_state: dict) -> None:
    drop = [k for k in toy_state if k.startswith("blocks.1.mlp.")]
    for k in drop:
        del toy_state[k]
    message = _error(_save(toy_state, tmp_path / "m.pth"))
    assert f"{len(drop)} problem(s)" in message
    assert "missing 'blocks.1.mlp.fc1.weight_integer'" in message
    assert f"and {len(drop) - 5} more" in message


def test_wrong_shape(tmp_path: Path, toy_state: dict) -> None:
    toy_state["blocks.1.mlp.fc2.weight_integer"] = toy_state["blocks.1.mlp.fc2.weight_integer"].T
    message = _error(_save(toy_state, tmp_path / "s.pth"))
    assert re.search(r"'blocks\.1\.mlp\.fc2\.weight_integer' has shape \(64, 32\), "
                     r"expected \(32, 64\)", message)


@pytest.mark.parametrize(
    ("key", "value", "phrase"),
    [
        ("head.weight_integer", 200.0, "expected integers in [-128, 127]"),
        ("head.weight_integer", 0.5, "non-integer"),
        ("blocks.0.attn.qkv.bias_integer", 2.0**33, "expected integers in [-2^31, 2^31-1]"),
        ("blocks.0.qact2.act_scaling_factor", 0.0, "<= 0"),
        ("blocks.0.mlp.fc1.fc_scaling_factor", float("nan"), "NaN"),
        ("norm.norm_scaling_factor", 0.0, "zeros"),
        ("blocks.1.attn.int_softmax.act_scaling_factor", 2.0**-7, "not 2^-15"),
    ],
)
def test_bad_values(tmp_path: Path, toy_state: dict, key: str, value: float, phrase: str) -> None:
    t = toy_state[key].clone()
    t.view(-1)[0] = value
    toy_state[key] = t
    message = _error(_save(toy_state, tmp_path / "v.pth"))
    assert key in message and phrase in message and "1 problem(s)" in message


def test_negative_norm_scale_is_fine(tmp_path: Path, toy_state: dict) -> None:
    toy_state["norm.norm_scaling_factor"] = -toy_state["norm.norm_scaling_factor"].abs()
    load_checkpoint(_save(toy_state, tmp_path / "n.pth"))


def test_bad_dtype(tmp_path: Path, toy_state: dict) -> None:
    toy_state["qact1.act_scaling_factor"] = torch.tensor(1, dtype=torch.int32)
    assert "has dtype torch.int32" in _error(_save(toy_state, tmp_path / "d.pth"))


def test_heads_must_divide_dim(tmp_path: Path, toy_state: dict) -> None:
    assert "not divisible by num_heads" in _error(_save(toy_state, tmp_path / "h.pth"),
                                                  num_heads=3)


def test_pos_embed_not_square(tmp_path: Path, toy_state: dict) -> None:
    toy_state["pos_embed"] = torch.zeros(1, 16, 32)
    assert "1 + a square number" in _error(_save(toy_state, tmp_path / "p.pth"))
