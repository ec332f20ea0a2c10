"""The whole integer program composed from `spec_oracle`, written from docs/integer-program.md.

Loops over tokens and heads explicitly (numpy int64 for the matmuls, whose bounds are proven),
so that a wrong reshape, head split or transpose in `ivit_gemmini.spec.network` shows up.
"""

from __future__ import annotations

import numpy as np
import spec_oracle as oracle


def _rq(params, prefix: str, values: np.ndarray, bits: int | None) -> np.ndarray:
    m, e = params[f"{prefix}.m"], params[f"{prefix}.e"]
    out = np.empty(values.shape, dtype=np.int64)
    for idx in np.ndindex(values.shape):
        ch = idx[-1] if len(m) > 1 else 0
        v = oracle.requant(int(values[idx]), int(m[ch]), int(e[ch]))
        out[idx] = v if bits is None else oracle.clamp(v, bits)
    return out


def _linear(params, name: str, x: np.ndarray) -> np.ndarray:
    w = params[f"{name}.weight"].astype(np.int64)
    return x.astype(np.int64) @ w.T + params[f"{name}.bias"].astype(np.int64)


def _layernorm(params, name: str, x: np.ndarray) -> np.ndarray:
    bias = params[f"{name}.bias"].astype(int).tolist()
    return np.array([oracle.layernorm(row.tolist(), bias) for row in np.atleast_2d(x)])


def _residual(params, prefix: str, branch: np.ndarray, skip: np.ndarray) -> np.ndarray:
    total = _rq(params, f"{prefix}.rq_branch", branch, None) + _rq(params, f"{prefix}.rq_skip",
                                                                   skip, None)
    return np.clip(total, -32768, 32767)


def forward(params, image: np.ndarray) -> np.ndarray:
    arch = params.arch
    p, g = arch.patch_size, arch.grid
    patches = np.stack([
        image[:, py * p:(py + 1) * p, px * p:(px + 1) * p].reshape(-1)
        for py in range(g) for px in range(g)
    ])
    x = _rq(params, "patch.rq", _linear(params, "patch", patches), 16)
    tokens = np.concatenate([params["embed.cls"][None, :].astype(np.int64), x])
    x = np.clip(_rq(params, "embed.rq_x", tokens, None)
                + _rq(params, "embed.rq_pos", params["embed.pos"].astype(np.int64), None),
                -32768, 32767)
    d = arch.dim // arch.num_heads
    for i in range(arch.depth):
        b = f"blocks.{i}"
        a = _rq(params, f"{b}.attn_in.rq", _layernorm(params, f"{b}.norm1", x), 8)
        qkv = _rq(params, f"{b}.qkv.rq", _linear(params, f"{b}.qkv", a), 8)
        context = np.zeros((arch.num_tokens, arch.dim), dtype=np.int64)
        for h in range(arch.num_heads):
            q = qkv[:, h * d:(h + 1) * d]
            k = qkv[:, arch.dim + h * d:arch.dim + (h + 1) * d]
            v = qkv[:, 2 * arch.dim + h * d:2 * arch.dim + (h + 1) * d]
            scores = _rq(params, f"{b}.scores.rq", q @ k.T, 8)
            x0 = int(params[f"{b}.softmax.x0"][0])
            probs = np.array([oracle.shiftmax(r.tolist(), x0, params.softmax_bits)
                              for r in scores])
            context[:, h * d:(h + 1) * d] = probs @ v
        c = _rq(params, f"{b}.context.rq", context, 8)
        o = _rq(params, f"{b}.proj.rq", _linear(params, f"{b}.proj", c), 16)
        x2 = _residual(params, f"{b}.res1", o, x)
        h1 = _rq(params, f"{b}.mlp_in.rq", _layernorm(params, f"{b}.norm2", x2), 8)
        h1 = _rq(params, f"{b}.fc1.rq", _linear(params, f"{b}.fc1", h1), 8)
        x0g = int(params[f"{b}.gelu.x0"][0])
        gl = np.array([oracle.shiftgelu(r.tolist(), x0g) for r in h1])
        gl = _rq(params, f"{b}.gelu_out.rq", gl, 8)
        y = _rq(params, f"{b}.fc2.rq", _linear(params, f"{b}.fc2", gl), 16)
        x = _residual(params, f"{b}.res2", y, x2)
    c = _rq(params, "head_in.rq", _layernorm(params, "norm", x[:1]), 8)
    acc = _linear(params, "head", c)[0]
    return _rq(params, "logits.rq", acc, None)
