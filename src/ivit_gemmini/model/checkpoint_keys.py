"""The checkpoint tensors the integer graph reads, with their shapes and value rules.

387 keys for a 12-block DeiT (9 before the blocks, 31 per block, 6 after), as I-ViT's
`models/vit_quant.py` (zkkli/I-ViT) names its modules. A real I-ViT checkpoint has more (float
weights, LayerNorm gamma and beta, two unused QuantActs): 550 for DeiT-tiny.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ivit_gemmini.model.architecture import Architecture


class Kind(Enum):
    """What a tensor's values must satisfy."""

    SCALE = "positive finite scale"
    NORM_SCALE = "finite non-zero scale"  # sqrt(C)/2^30 * gamma: negative where gamma is
    INT8 = "integers in [-128, 127]"
    INT32 = "integers in [-2^31, 2^31-1]"
    INTEGER = "integers"  # LayerNorm bias_integer: any magnitude (the params stage bounds it)
    FLOAT = "finite floats"


@dataclass(frozen=True)
class KeySpec:
    shape: tuple[int, ...] | None  # None: a scalar, stored as shape () or (1,)
    kind: Kind


def _scalar() -> KeySpec:
    return KeySpec(None, Kind.SCALE)


def _linear(out_features: int, in_features: int, scale_name: str) -> dict[str, KeySpec]:
    return {
        "weight_integer": KeySpec((out_features, in_features), Kind.INT8),
        "bias_integer": KeySpec((out_features,), Kind.INT32),
        scale_name: KeySpec((out_features,), Kind.SCALE),
    }


def _norm(dim: int) -> dict[str, KeySpec]:
    return {
        "bias_integer": KeySpec((dim,), Kind.INTEGER),
        "norm_scaling_factor": KeySpec((dim,), Kind.NORM_SCALE),
    }


def _prefixed(prefix: str, specs: dict[str, KeySpec]) -> dict[str, KeySpec]:
    return {f"{prefix}.{name}": spec for name, spec in specs.items()}


def integer_graph_specs(arch: Architecture) -> dict[str, KeySpec]:
    """Every key the integer graph needs, in network order, with its expected shape and kind."""
    d, p = arch.dim, arch.patch_size
    specs: dict[str, KeySpec] = {"qact_input.act_scaling_factor": _scalar()}
    specs |= {
        "patch_embed.proj.weight_integer": KeySpec((d, arch.in_chans, p, p), Kind.INT8),
        "patch_embed.proj.bias_integer": KeySpec((d,), Kind.INT32),
        "patch_embed.proj.conv_scaling_factor": KeySpec((d,), Kind.SCALE),
        "patch_embed.qact.act_scaling_factor": _scalar(),
        "cls_token": KeySpec((1, 1, d), Kind.FLOAT),
        "pos_embed": KeySpec((1, arch.num_tokens, d), Kind.FLOAT),
        "qact_pos.act_scaling_factor": _scalar(),
        "qact1.act_scaling_factor": _scalar(),
    }
    for i in range(arch.depth):
        b = f"blocks.{i}"
        specs |= _prefixed(f"{b}.norm1", _norm(d))
        specs |= _prefixed(f"{b}.norm2", _norm(d))
        for q in ("qact1", "qact2", "qact3", "qact4"):
            specs[f"{b}.{q}.act_scaling_factor"] = _scalar()
        specs |= _prefixed(f"{b}.attn.qkv", _linear(3 * d, d, "fc_scaling_factor"))
        specs |= _prefixed(f"{b}.attn.proj", _linear(d, d, "fc_scaling_factor"))
        for q in ("qact1", "qact2", "qact3", "qact_attn1", "matmul_1", "matmul_2", "int_softmax"):
            specs[f"{b}.attn.{q}.act_scaling_factor"] = _scalar()
        specs |= _prefixed(f"{b}.mlp.fc1", _linear(arch.mlp_hidden, d, "fc_scaling_factor"))
        specs |= _prefixed(f"{b}.mlp.fc2", _linear(d, arch.mlp_hidden, "fc_scaling_factor"))
        for q in ("qact_gelu", "act", "qact1", "qact2"):
            specs[f"{b}.mlp.{q}.act_scaling_factor"] = _scalar()
    specs |= _prefixed("norm", _norm(d))
    specs["qact2.act_scaling_factor"] = _scalar()
    specs |= _prefixed("head", _linear(arch.num_classes, d, "fc_scaling_factor"))
    return specs
