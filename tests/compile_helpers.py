"""Test fixtures of the compile area: small random `IntegerParams` and images.

The arrays follow the table of docs/integer-program.md with dyadic pairs chosen so that the
activations have realistic spreads (some saturate, most do not); exactness is what is tested.
"""

from __future__ import annotations

import math

import numpy as np

from ivit_gemmini.model.architecture import Architecture
from ivit_gemmini.model.params import IntegerParams

ONE_BLOCK = Architecture(
    depth=1, dim=32, num_heads=2, mlp_hidden=64, patch_size=8, image_size=32, num_classes=10
)
TWO_BLOCK = Architecture(
    depth=2, dim=32, num_heads=2, mlp_hidden=64, patch_size=8, image_size=32, num_classes=10
)
# Odd sizes: 3 heads of 8, 5x5 patches of 7, 13 classes (nothing a multiple of Gemmini's 16).
ODD = Architecture(
    depth=1, dim=24, num_heads=3, mlp_hidden=40, patch_size=7, image_size=35, num_classes=13
)


def _pair(rng: np.random.Generator, ratio: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    ms, es = [], []
    for r in ratio * rng.uniform(0.7, 1.4, n):
        mant, exp = math.frexp(float(r))
        ms.append(int(mant * 2**31) - 1)
        es.append(31 - exp)
    return np.array(ms, np.int32), np.array(es, np.int32)


def random_params(arch: Architecture, seed: int = 0) -> IntegerParams:
    rng = np.random.default_rng(seed)
    a: dict[str, np.ndarray] = {}
    c, f, n, k = arch.dim, arch.mlp_hidden, arch.num_tokens, arch.num_classes
    d = arch.head_dim

    def pair(name: str, ratio: float, channels: int = 1) -> None:
        a[f"{name}.m"], a[f"{name}.e"] = _pair(rng, ratio, channels)

    def linear(name: str, out: int, inp: int) -> None:
        a[f"{name}.weight"] = np.clip(rng.normal(0, 35, (out, inp)), -128, 127).astype(np.int8)
        a[f"{name}.bias"] = rng.integers(-4000, 4000, out).astype(np.int32)

    def acc_std(inp: int) -> float:
        return math.sqrt(inp) * 50 * 35

    kin = arch.in_chans * arch.patch_size**2
    linear("patch", c, kin)
    pair("patch.rq", 3000 / acc_std(kin), c)
    a["embed.cls"] = rng.integers(-3000, 3000, c).astype(np.int32)
    a["embed.pos"] = rng.integers(-3000, 3000, (n, c)).astype(np.int16)
    pair("embed.rq_x", 0.9)
    pair("embed.rq_pos", 0.4)
    ln_to_8 = 45 * math.sqrt(c) / 2**30
    for i in range(arch.depth):
        p = f"blocks.{i}"
        for norm in ("norm1", "norm2"):
            a[f"{p}.{norm}.bias"] = rng.integers(-(2**28), 2**28, c).astype(np.int32)
        pair(f"{p}.attn_in.rq", ln_to_8, c)
        linear(f"{p}.qkv", 3 * c, c)
        pair(f"{p}.qkv.rq", 45 / acc_std(c), 3 * c)
        pair(f"{p}.scores.rq", 40 / (math.sqrt(d) * 45 * 45))
        a[f"{p}.softmax.x0"] = np.array([int(rng.integers(-40, -8))], np.int32)
        pair(f"{p}.context.rq", 45 / (32767 * 45 / math.sqrt(n)))
        linear(f"{p}.proj", c, c)
        pair(f"{p}.proj.rq", 3000 / acc_std(c), c)
        pair(f"{p}.res1.rq_branch", 0.7)
        pair(f"{p}.res1.rq_skip", 0.8)
        pair(f"{p}.mlp_in.rq", ln_to_8, c)
        linear(f"{p}.fc1", f, c)
        pair(f"{p}.fc1.rq", 45 / acc_std(c), f)
        a[f"{p}.gelu.x0"] = np.array([int(rng.integers(-60, -10))], np.int32)
        pair(f"{p}.gelu_out.rq", 1 / 64)
        linear(f"{p}.fc2", c, f)
        pair(f"{p}.fc2.rq", 3000 / acc_std(f), c)
        pair(f"{p}.res2.rq_branch", 0.7)
        pair(f"{p}.res2.rq_skip", 0.8)
    a["norm.bias"] = rng.integers(-(2**28), 2**28, c).astype(np.int32)
    pair("head_in.rq", ln_to_8, c)
    linear("head", k, c)
    pair("logits.rq", 0.25, k)
    return IntegerParams(
        arch=arch, arrays=a, input_scale=0.02, logit_scale=2.0**-10, softmax_bits=16
    )


def random_image(arch: Architecture, seed: int) -> np.ndarray:
    rng = np.random.default_rng(1000 + seed)
    shape = (arch.in_chans, arch.image_size, arch.image_size)
    return rng.integers(-128, 128, shape).astype(np.int8)
