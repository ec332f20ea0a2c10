"""Compile-stage timings: Relax graph, tvm-cpu build, model archive, host and RISC-V C builds.

    python benchmarks/bench_compile.py                       # DeiT-tiny shapes, random weights
    python benchmarks/bench_compile.py --params results/model/params.npz \
        --manifest results/model/manifest.json --json results/benchmarks/compile.json

Prints one table (seconds) and checks that the host build of the archive and tvm-cpu give the
same logits as the specification on one image.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # random params fixture


def _timed(results: dict[str, float], key: str, fn, *args, **kwargs):  # noqa: ANN001, ANN202
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    results[key] = round(time.perf_counter() - t, 3)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", type=Path, help="params.npz (default: random DeiT-tiny)")
    ap.add_argument("--manifest", type=Path, help="manifest.json beside --params")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON here")
    ap.add_argument("--skip-tvm-cpu", action="store_true", help="skip the llvm build")
    args = ap.parse_args()

    from ivit_gemmini.compile import graph, host_build, mlf
    from ivit_gemmini.compile.cpu_backend import CpuBackend
    from ivit_gemmini.spec.network import forward_int

    if args.params:
        from ivit_gemmini.model.params import load_params

        params = load_params(args.params, args.manifest)
    else:
        from compile_helpers import random_params

        from ivit_gemmini.model.architecture import DEIT_TINY

        params = random_params(DEIT_TINY, seed=0)
    arch = params.arch
    image = (
        np.random.default_rng(0)
        .integers(-128, 128, (arch.in_chans, arch.image_size, arch.image_size))
        .astype(np.int8)
    )
    r: dict[str, float] = {}
    want = _timed(r, "forward_int_run", forward_int, params, image)
    _timed(r, "relax_graph_build", graph.build_relax_module, params)
    lib = _timed(r, "archive_generate", mlf.generate_library, params)
    r.update({k: round(v, 3) for k, v in lib.metadata["timings"].items()})
    with tempfile.TemporaryDirectory() as tmp:
        tar = Path(tmp) / "model.tar"
        mlf.write_archive(lib, tar)
        root = mlf.unpack_archive(tar, Path(tmp) / "unpacked")
        so = _timed(r, "host_gcc_build", host_build.build_host_library, root)
        model = host_build.HostModel(so, image.nbytes, arch.num_classes)
        got = _timed(r, "host_run", model, image)
        exact_host = bool(np.array_equal(got, want))
        if shutil.which("riscv64-unknown-elf-gcc"):
            src = root / "codegen/host/src/kernels.c"
            cmd = [
                "riscv64-unknown-elf-gcc",
                "-march=rv64gc",
                "-mabi=lp64d",
                "-mcmodel=medany",
                "-O2",
                "--specs=picolibc.specs",
                f"-I{root / 'codegen/host/include'}",
                "-c",
                str(src),
                "-o",
                str(Path(tmp) / "kernels.o"),
            ]
            _timed(r, "riscv_gcc_kernels_c", subprocess.run, cmd, check=True)
    exact_cpu = None
    if not args.skip_tvm_cpu:
        backend = _timed(r, "tvm_cpu_build", CpuBackend, params)
        exact_cpu = bool(np.array_equal(_timed(r, "tvm_cpu_run", backend, image), want))
    plan = lib.metadata["memory_plan"]
    facts = {
        "arch": arch.__dict__,
        "seconds": r,
        "host_archive_exact": exact_host,
        "tvm_cpu_exact": exact_cpu,
        "steps": len(lib.metadata["steps"]),
        "kernels": len(lib.metadata["kernels"]),
        "arena_bytes": plan["arena_bytes"],
        "workspace_bytes": plan["workspace_bytes"],
        "params_bytes": plan["params_bytes"],
        "kernels_c_bytes": len(lib.files["codegen/host/src/kernels.c"]),
    }
    print(f"{'measure':<28}{'seconds':>10}")
    for k, v in r.items():
        print(f"{k:<28}{v:>10.3f}")
    for k in (
        "steps",
        "kernels",
        "arena_bytes",
        "workspace_bytes",
        "params_bytes",
        "kernels_c_bytes",
        "host_archive_exact",
        "tvm_cpu_exact",
    ):
        print(f"{k:<28}{facts[k]!s:>10}")
    if args.json:
        from ivit_gemmini.io import atomic_write_text

        atomic_write_text(args.json, json.dumps(facts, indent=1) + "\n")
    return 0 if exact_host and exact_cpu in (True, None) else 1


if __name__ == "__main__":
    raise SystemExit(main())
