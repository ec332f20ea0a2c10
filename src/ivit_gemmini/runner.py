"""`python -m ivit_gemmini.runner [snakemake arguments]`: Snakemake as `make demo` and `make paper`
run it, with answers instead of tracebacks.

- A config file that is missing or is not YAML stops with one line naming it (Snakemake prints a
  traceback).
- A lock left by a killed run is removed when no other Snakemake process works in the folder
  (what `snakemake --unlock` does); when one does, one line says which and how to recover.
- With `--directory`, relative paths in the config are taken from where the command was run,
  not from the working folder (`make paper` runs in runs/paper/).
- Snakemake runs with `--quiet rules host` (no per-job blocks), and when jobs fail the output
  ends with one line per failed job: rule, log name, the job's `error:` line, its log file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

from ivit_gemmini.errors import UserError
from ivit_gemmini.io import atomic_write_text
from ivit_gemmini.snakemake_main import MODULE as SNAKEMAKE_MODULE

QUIET = ["--quiet", "rules", "host"]
# Config keys that hold paths, with the values that are not paths.
PATH_KEYS: dict[tuple[str, ...], frozenset[str]] = {
    ("checkpoint",): frozenset({"demo", "digits"}),
    ("images",): frozenset({"demo"}),
    ("class_names",): frozenset(),
    ("dataset", "folder"): frozenset(),
    ("dataset", "labels"): frozenset(),
    ("verilator", "simulator"): frozenset(),
    ("verilator", "dramsim_ini_dir"): frozenset(),
}
RESOLVED_CONFIG = ".ivit-gemmini/config.resolved.yaml"


def _option(args: Sequence[str], *names: str) -> list[str]:
    """Values of an option given as `--name value ...` (up to the next option) or `--name=v`."""
    values: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.split("=", 1)[0] in names and "=" in arg:
            values.append(arg.split("=", 1)[1])
        elif arg in names:
            i += 1
            while i < len(args) and not args[i].startswith("-"):
                values.append(args[i])
                i += 1
            continue
        i += 1
    return values


def check_config_files(paths: Sequence[str]) -> None:
    for name in paths:
        path = Path(name)
        if not path.is_file():
            raise UserError(f"config file {name} not found ({path.absolute()}): check "
                            "CONFIG=... or --configfile")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as err:
            where = getattr(err, "problem_mark", None)
            line = f" line {where.line + 1}" if where is not None else ""
            raise UserError(f"config file {name}{line} is not valid YAML: fix it "
                            "(see config/README.md)") from None
        if data is not None and not isinstance(data, dict):
            raise UserError(f"config file {name} holds a {type(data).__name__}, not 'key: value' "
                            "lines: see config/README.md")


def resolve_config_paths(config: dict[str, Any], base: Path) -> dict[str, Any]:
    """A copy of `config` whose relative path values are absolute, taken from `base`."""
    out = yaml.safe_load(yaml.safe_dump(config))

    def fix(value: Any, keep: frozenset[str]) -> Any:
        if isinstance(value, list):
            return [fix(v, keep) for v in value]
        if isinstance(value, str) and value not in keep and not Path(value).expanduser(
        ).is_absolute():
            return str(base / Path(value).expanduser())
        return value

    for key, keep in PATH_KEYS.items():
        node = out
        for part in key[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and key[-1] in node:
            if key == ("class_names",) and isinstance(node[key[-1]], list):
                continue  # a list of class names, not of paths
            node[key[-1]] = fix(node[key[-1]], keep)
    return out


def _snakemake_processes() -> Iterator[tuple[int, Path]]:
    """(pid, working folder) of every running Snakemake main process (Linux /proc)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().decode(errors="replace").split("\0")
            cwd = Path(os.readlink(proc / "cwd"))
        except OSError:
            continue
        is_main = any(Path(a).name == "snakemake" for a in argv[:2]) or (
            "-m" in argv[:3] and bool({"snakemake", SNAKEMAKE_MODULE} & set(argv[:4])))
        if not is_main or "--unlock" in argv:
            continue
        directory = _option(argv, "--directory", "-d")
        yield int(proc.name), (cwd / directory[0]).resolve() if directory else cwd.resolve()


def clear_stale_lock(workdir: Path, unlock_hint: str) -> bool:
    """Remove workdir/.snakemake/locks when no live Snakemake works in `workdir`; True if one
    was removed. UserError when another run holds the folder."""
    locks = workdir / ".snakemake" / "locks"
    if not locks.is_dir() or not any(locks.iterdir()):
        return False
    here = workdir.resolve()
    others = [pid for pid, folder in _snakemake_processes() if folder == here]
    if others:
        raise UserError(f"another Snakemake run (pid {others[0]}) is working in {here}: wait for "
                        f"it to finish or stop it; if no run is left, run `{unlock_hint}`")
    shutil.rmtree(locks)
    return True


def failed_jobs(workdir: Path, since: float) -> list[str]:
    """One line per job whose log (logs/<rule>/<name>.log) was written since `since` and ends
    in an error: `<rule> <name>: <reason> (<log>)`."""
    lines = []
    for log in sorted((workdir / "logs").glob("*/*.log")):
        try:
            if log.stat().st_mtime < since:
                continue
            text = log.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        errors = [ln.strip() for ln in text if ln.startswith(("error: ", "internal error"))]
        if errors:
            reason = errors[-1].removeprefix("error: ")
            lines.append(f"{log.parent.name} {log.stem}: {reason} "
                         f"({log.relative_to(workdir)})")
    return lines


def run(argv: Sequence[str], snakemake: Sequence[str] | None = None) -> int:
    args = list(argv)
    cmd = list(snakemake or [sys.executable, "-m", SNAKEMAKE_MODULE])
    configs = _option(args, "--configfile", "--configfiles")
    directory = _option(args, "--directory", "-d")
    workdir = Path(directory[0]) if directory else Path.cwd()
    check_config_files(configs)
    if directory and workdir.resolve() != Path.cwd().resolve() and configs:
        merged: dict[str, Any] = {}
        for name in configs:  # later files win, key by key, as Snakemake merges them
            _deep_update(merged, yaml.safe_load(Path(name).read_text(encoding="utf-8")) or {})
        resolved = workdir / RESOLVED_CONFIG
        atomic_write_text(resolved, yaml.safe_dump(resolve_config_paths(merged, Path.cwd()),
                                                   sort_keys=False))
        args = _replace_configfiles(args, str(resolved.resolve()))
    hint = " ".join([str(Path(sys.executable).parent / "snakemake"), "--unlock",
                     *(["--directory", str(workdir)] if directory else [])])
    if clear_stale_lock(workdir, hint):
        print(f"note: removed the lock a killed run left in {workdir / '.snakemake/locks'} "
              "(no other Snakemake works there)", file=sys.stderr)
    start = time.time() - 1.0  # file times have coarse resolution on some file systems
    code = subprocess.call(with_quiet(cmd, args))
    if code != 0:
        failures = failed_jobs(workdir, start)
        if failures:
            print(f"\n{len(failures)} job(s) failed:", file=sys.stderr)
            for line in failures:
                print(f"  {line}", file=sys.stderr)
    return code


def _deep_update(into: dict[str, Any], new: dict[str, Any]) -> None:
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _deep_update(into[key], value)
        else:
            into[key] = value


def with_quiet(cmd: Sequence[str], args: Sequence[str]) -> list[str]:
    """`cmd args` plus --quiet, placed where the next word is an option: --quiet takes several
    values and would swallow a target (`paper`) that followed it."""
    at = next((i for i, a in enumerate(args) if a.startswith("-")), len(args))
    return [*cmd, *args[:at], *QUIET, *args[at:]]


def _replace_configfiles(args: list[str], path: str) -> list[str]:
    out, skip = [], False
    for arg in args:
        if skip and not arg.startswith("-"):
            continue
        skip = False
        if arg in ("--configfile", "--configfiles"):
            skip = True
            continue
        if arg.startswith(("--configfile=", "--configfiles=")):
            continue
        out.append(arg)
    return [*out, "--configfile", path]


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return run(sys.argv[1:] if argv is None else argv)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
