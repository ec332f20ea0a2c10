"""The Relax graph (`tvm-cpu`) equals the specification (`forward_int`) on every image."""

from __future__ import annotations

import numpy as np
import pytest
from compile_helpers import ODD, ONE_BLOCK, TWO_BLOCK, random_image, random_params

from ivit_gemmini.compile import graph, tvm_adapter
from ivit_gemmini.compile.cpu_backend import CpuBackend
from ivit_gemmini.errors import UserError
from ivit_gemmini.spec.network import forward_int


@pytest.mark.parametrize("arch", [ONE_BLOCK, TWO_BLOCK, ODD], ids=["one-block", "two-block", "odd"])
def test_tvm_cpu_logits_equal_forward_int(arch, tmp_path) -> None:  # noqa: ANN001
    params = random_params(arch, seed=3)
    backend = CpuBackend(params, cache_dir=tmp_path)
    seen = set()
    for seed in range(4):
        image = random_image(arch, seed)
        got, want = backend(image), forward_int(params, image)
        assert got.dtype == np.int64 and got.shape == (arch.num_classes,)
        np.testing.assert_array_equal(got, want)
        seen.add(tuple(want))
    assert len(seen) > 1  # the random network is not degenerate: images give different logits


def test_cached_library_is_reused_and_still_exact(tmp_path) -> None:  # noqa: ANN001
    params = random_params(ONE_BLOCK, seed=4)
    CpuBackend(params, cache_dir=tmp_path)
    libs = list(tmp_path.glob("tvm-cpu-*.so"))
    assert len(libs) == 1
    again = CpuBackend(params, cache_dir=tmp_path)  # loads the .so, no build
    image = random_image(ONE_BLOCK, 9)
    np.testing.assert_array_equal(again(image), forward_int(params, image))
    other = random_params(ONE_BLOCK, seed=5)  # other weights -> other key
    CpuBackend(other, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("tvm-cpu-*.so"))) == 2


def test_wrong_image_shape_is_a_user_error() -> None:
    backend = CpuBackend(random_params(ONE_BLOCK, seed=1))
    with pytest.raises(UserError, match="int8"):
        backend(np.zeros((3, 32, 32), dtype=np.int16))


def test_graph_script_round_trips_and_names_every_array(tmp_path) -> None:  # noqa: ANN001
    params = random_params(ONE_BLOCK, seed=2)
    mod = graph.build_relax_module(params)
    path = tmp_path / "graph.py"
    graph.save_graph(mod, path)
    text = path.read_text()
    assert "blocks_0_qkv_weight_t" in text and "R.matmul" in text and "shiftmax" in text
    tvm_adapter.assert_structural_equal(graph.load_graph(path), mod)
    arrays = graph.graph_arrays(mod, params)
    want = {
        graph.param_var_name(k) + ("_t" if k.endswith(".weight") else "")
        for k, v in params.arrays.items()
        if v.shape != (1,)
    }
    want |= {f"blocks_{i}_softmax_exp_lut" for i in range(ONE_BLOCK.depth)}
    want |= {f"blocks_{i}_gelu_table" for i in range(ONE_BLOCK.depth)}
    # The test params' per-channel shifts differ by at most 2, so every linear layer's
    # requantization becomes one literal shift with int64 multipliers (common_shift).
    linears = ["patch"] + [f"blocks_{i}_{n}" for i in range(ONE_BLOCK.depth)
                           for n in ("qkv", "proj", "fc1", "fc2")]
    want -= {f"{n}_rq_{x}" for n in linears for x in ("m", "e")}
    want |= {f"{n}_rq_m_shifted" for n in linears}
    # A LayerNorm and its requantization enter as their int64 fold (spec/fold.py).
    norms = ["norm"] + [f"blocks_{i}_norm{j}" for i in range(ONE_BLOCK.depth) for j in (1, 2)]
    after = ["head_in"] + [f"blocks_{i}_{n}" for i in range(ONE_BLOCK.depth)
                           for n in ("attn_in", "mlp_in")]
    want -= {f"{n}_bias" for n in norms} | {f"{n}_rq_{x}" for n in after for x in ("m", "e")}
    want |= {f"{n}_fold_{x}" for n in norms for x in ("q", "m", "r", "e")}
    assert set(arrays) == want  # multi-element arrays and tables are parameters, scalars literals
    np.testing.assert_array_equal(arrays["blocks_0_qkv_weight_t"], params["blocks.0.qkv.weight"].T)
