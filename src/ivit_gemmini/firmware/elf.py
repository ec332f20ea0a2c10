"""The ELF stage: the model library once per build config, then one quick link per image.

`build_model_library` compiles every C and assembly file of a model archive
(`results/build/<config>/model.tar`, `codegen/host/src/`) into a static archive `libmodel.a`.
`link_firmware_elf` then assembles the image's int8 input (`.incbin` of
`results/inputs/<image>.bin`) and links it with the firmware `main`, the runtime and the library:
a new image costs one link, never a rebuild of the model.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ivit_gemmini.errors import UserError
from ivit_gemmini.firmware import toolchain
from ivit_gemmini.io import atomic_path

FIRMWARE_DIR = toolchain.REPO_ROOT / "gemmini" / "firmware"
GEMMINI_INCLUDE = toolchain.REPO_ROOT / "gemmini" / "include"
GEMMINI_ISA = toolchain.REPO_ROOT / "gemmini" / "isa"  # gemmini.h includes gemmini_commands.h
FIRMWARE_SOURCES = ("main.c", "prediction_block.c")
ARCHIVE_SRC = Path("codegen/host/src")
ARCHIVE_INCLUDE = Path("codegen/host/include")
LIBRARY_SUFFIXES = (".c", ".S", ".s")
# Archives written by ivit_gemmini.compile.mlf: their counters reach the firmware through glue.
MLF_FORMAT_PREFIX = "ivit-gemmini-mlf/"
MLF_GLUE = FIRMWARE_DIR / "mlf_counters.c"
MLF_DEFINES = {"IVIT_COUNTERS": "1"}
AR = "riscv64-unknown-elf-ar"


def _run(cmd: list[str], what: str, cwd: Path | None = None) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=cwd)
    if result.returncode != 0:
        first = next((ln for ln in result.stderr.splitlines() if "error" in ln.lower()), "")
        raise UserError(
            f"{what} failed ({first.strip() or 'see compiler output'}); compiler output:\n"
            f"{result.stderr}"
        )


def unpack_archive(archive: Path, dest: Path) -> Path:
    """Extract a model archive into `dest` (refusing absolute or escaping member paths)."""
    if not archive.is_file():
        raise UserError(f"model archive {archive} does not exist: run the compile stage first")
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(dest, filter="data")
    except (tarfile.TarError, OSError) as err:
        raise UserError(f"cannot unpack model archive {archive} ({err}): rebuild it") from None
    if not (dest / ARCHIVE_SRC).is_dir():
        raise UserError(f"model archive {archive} has no {ARCHIVE_SRC}/ folder: rebuild it")
    return dest


def object_command(source: Path, obj: Path, include_dirs: Sequence[Path],
                   defines: dict[str, str] | None = None, opt: str = "-O2") -> list[str]:
    """gcc -c for one library source. `.incbin` paths resolve against every include folder."""
    incs = [f"-I{d}" for d in include_dirs] + [f"-Wa,-I{d}" for d in include_dirs]
    return [
        toolchain.find_gcc(), *toolchain.ARCH_FLAGS, opt, "-g", "-std=gnu11", "-Wall",
        "-ffunction-sections", "-fdata-sections", "--specs=picolibc.specs", *incs,
        *[f"-D{k}={v}" for k, v in (defines or {}).items()],
        "-c", str(source), "-o", str(obj),
    ]


def read_metadata(root: Path) -> dict:
    """The unpacked archive's metadata.json ({} for an archive without one)."""
    path = root / "metadata.json"
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise UserError(f"the model archive's metadata.json is not JSON ({err}): "
                        "rebuild it") from None


def library_sources(root: Path, metadata: dict) -> list[Path]:
    """The files of an unpacked archive that go into libmodel.a: the metadata's `sources`, or
    every C/assembly file under codegen/host/src, in a stable order."""
    if "sources" in metadata:
        sources = [root / s for s in metadata["sources"]]
        missing = [str(s.relative_to(root)) for s in sources if not s.is_file()]
        if missing:
            raise UserError(f"the model archive lacks {', '.join(missing)}: rebuild it")
        return sources
    src = root / ARCHIVE_SRC
    return sorted(p for p in src.rglob("*") if p.suffix in LIBRARY_SUFFIXES and p.is_file())


def is_mlf(metadata: dict) -> bool:
    return str(metadata.get("format", "")).startswith(MLF_FORMAT_PREFIX)


def build_model_library(
    archive: Path,
    out: Path,
    *,
    extra_sources: Sequence[Path] = (),
    defines: dict[str, str] | None = None,
    jobs: int = 2,
    opt: str = "-O2",
    params_header: Path | None = None,
) -> Path:
    """Compile the model archive (plus `extra_sources`, e.g. glue code) into the static library
    `out`; return it. Object files live in a temporary folder; `out` is written atomically.
    `params_header`: a generated `gemmini_params.h` whose folder is searched before
    gemmini/include (another DIM or memory size); None uses the committed default."""
    archive, out = Path(archive), Path(out)
    params_dirs = []
    if params_header is not None:
        params_header = Path(params_header).resolve()
        if params_header.name != "gemmini_params.h" or not params_header.is_file():
            raise UserError(f"params header {params_header} is not an existing gemmini_params.h: "
                            "run write_gemmini_params")
        params_dirs = [params_header.parent]
    with tempfile.TemporaryDirectory(prefix="ivit-libmodel-") as tmp_name:
        root = unpack_archive(archive, Path(tmp_name) / "model")
        metadata = read_metadata(root)
        sources = library_sources(root, metadata) + [Path(s).resolve() for s in extra_sources]
        if not sources:
            raise UserError(f"model archive {archive} has no C or assembly sources: rebuild it")
        defines = dict(defines or {})
        if is_mlf(metadata):
            sources.append(MLF_GLUE)
            defines = {**MLF_DEFINES, **defines}
        if params_header is not None:
            _check_params_match(params_header, metadata, archive)
        declared = [root / d for d in metadata.get("include_dirs", [])]
        # The generated params header's folder first: its gemmini_params.h is the only one.
        includes = [*params_dirs, *declared, root / ARCHIVE_INCLUDE, root / ARCHIVE_SRC, root,
                    GEMMINI_INCLUDE, GEMMINI_ISA, toolchain.RUNTIME_DIR, FIRMWARE_DIR]
        obj_dir = Path(tmp_name) / "obj"
        obj_dir.mkdir()
        # Unique object names even when two folders hold files of the same stem.
        objects = [obj_dir / f"{i:04d}_{s.stem}.o" for i, s in enumerate(sources)]

        def compile_one(pair: tuple[Path, Path]) -> None:
            source, obj = pair
            _run(object_command(source, obj, includes, defines, opt), f"compiling {source.name}",
                 cwd=root)

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            list(pool.map(compile_one, zip(sources, objects, strict=True)))
        with atomic_path(out) as lib:
            lib.unlink()  # ar appends to an existing file: start from nothing
            _run([_find_ar(), "rcs", str(lib), *map(str, objects)], f"archiving {out.name}")
    return Path(out)


def _check_params_match(params_header: Path, metadata: dict, archive: Path) -> None:
    """The archive was emitted for one Gemmini configuration: refuse a header of another DIM."""
    match = re.search(r"^#define DIM (\d+)$", params_header.read_text(encoding="utf-8"), re.M)
    want = metadata.get("gemmini", {}).get("dim")
    if match and want is not None and int(match.group(1)) != int(want):
        raise UserError(f"model archive {archive} was emitted for DIM {want} but {params_header} "
                        f"says DIM {match.group(1)}: rebuild both from the same config")


def _find_ar() -> str:
    path = shutil.which(AR)
    if path is None:
        raise UserError(f"{AR} not found: install the Debian package binutils-riscv64-unknown-elf")
    return path


def input_assembly(input_bin: Path) -> str:
    """Assembly that links the raw int8 input as `ivit_input` .. `ivit_input_end`."""
    path = str(Path(input_bin).resolve())
    if '"' in path or "\\" in path or "\n" in path:
        raise UserError(f"input path {path} contains a quote, backslash or newline: rename it")
    return (
        '    .section .rodata.ivit_input, "a"\n'
        "    .balign 64\n"
        "    .globl ivit_input\n"
        "    .globl ivit_input_end\n"
        "ivit_input:\n"
        f'    .incbin "{path}"\n'
        "ivit_input_end:\n"
    )


def build_input_object(input_bin: Path, out: Path) -> Path:
    """Assemble the image's input bytes into the object file `out`."""
    input_bin, out = Path(input_bin), Path(out)
    if not input_bin.is_file():
        raise UserError(f"input {input_bin} does not exist: run the quantize_image rule first")
    with tempfile.TemporaryDirectory(prefix="ivit-input-") as tmp_name:
        asm = Path(tmp_name) / "input.S"
        asm.write_text(input_assembly(input_bin), encoding="utf-8")
        with atomic_path(out) as obj:
            _run(object_command(asm, obj, []), f"assembling the input {input_bin.name}")
    return Path(out)


def link_firmware_elf(
    library: Path,
    input_bin: Path,
    out: Path,
    *,
    num_classes: int,
    input_bytes: int,
    memory_mb: int = toolchain.DEFAULT_MEMORY_MB,
    stack_kb: int = toolchain.DEFAULT_STACK_KB,
) -> Path:
    """Link main + runtime + the image's input + `library` into the ELF `out` for `memory_mb`
    MiB of memory and a `stack_kb` stack (config `firmware`); return it."""
    library, input_bin, out = Path(library), Path(input_bin), Path(out)
    if not library.is_file():
        raise UserError(f"model library {library} does not exist: run build_model_library")
    size = Path(input_bin).stat().st_size if Path(input_bin).is_file() else None
    if size is not None and size != input_bytes:
        raise UserError(
            f"input {input_bin} has {size} bytes but the model expects {input_bytes} "
            "(in_chans x image_size^2): re-quantize the image with this model's params"
        )
    with tempfile.TemporaryDirectory(prefix="ivit-elf-") as tmp_name:
        input_obj = build_input_object(Path(input_bin), Path(tmp_name) / "input.o")
        return toolchain.build_elf(
            [FIRMWARE_DIR / s for s in FIRMWARE_SOURCES],
            Path(out),
            [FIRMWARE_DIR, GEMMINI_INCLUDE, GEMMINI_ISA],
            defines={"IVIT_NUM_CLASSES": str(num_classes), "IVIT_INPUT_BYTES": str(input_bytes)},
            extra_objects=[input_obj, library],
            memory_mb=memory_mb,
            stack_kb=stack_kb,
        )


def model_sizes(manifest: dict) -> tuple[int, int]:
    """(num_classes, input_bytes) of a params manifest (`manifest.json`)."""
    arch = manifest["arch"]
    return int(arch["num_classes"]), int(arch["in_chans"]) * int(arch["image_size"]) ** 2


def default_jobs() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def build_firmware_elf_from_manifest(library: Path, input_bin: Path, manifest: Path,
                                     out: Path, *,
                                     memory_mb: int = toolchain.DEFAULT_MEMORY_MB,
                                     stack_kb: int = toolchain.DEFAULT_STACK_KB) -> Path:
    """`link_firmware_elf` with the model's sizes read from the params manifest."""
    try:
        sizes = model_sizes(json.loads(Path(manifest).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError) as err:
        raise UserError(f"cannot read the model sizes from {manifest} ({err}): re-export the "
                        "params") from None
    num_classes, input_bytes = sizes
    return link_firmware_elf(library, input_bin, out, num_classes=num_classes,
                             input_bytes=input_bytes, memory_mb=int(memory_mb),
                             stack_kb=int(stack_kb))


def _files(*folders: Path) -> list[str]:
    return sorted(str(p) for d in folders for p in d.iterdir()
                  if p.is_file() and p.suffix in (".c", ".h", ".S"))


def library_dependencies() -> list[str]:
    """Repository files (besides model.tar) that go into libmodel.a: rebuild when they change."""
    return _files(GEMMINI_INCLUDE, GEMMINI_ISA) + [str(MLF_GLUE),
                                                   str(FIRMWARE_DIR / "ivit_firmware.h")]


def firmware_dependencies() -> list[str]:
    """Repository files linked into every ELF (main, prediction block, runtime)."""
    return _files(FIRMWARE_DIR, toolchain.RUNTIME_DIR)
