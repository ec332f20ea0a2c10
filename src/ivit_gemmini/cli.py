"""Running one stage from a Snakemake script shim, and the `ivit-gemmini` command.

`run_stage` is what every `workflow/scripts/*.py` shim calls: it sends the stage's stderr (Python
and C level) to the rule's log file, runs one package function, and turns a `UserError` into one
line on the terminal and exit code 1. Any other exception is a bug: its traceback goes to the log
and the terminal gets one line pointing there.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ivit_gemmini import __version__
from ivit_gemmini.errors import UserError

_TERMINAL_FD: int | None = None  # the terminal's stderr while run_stage sends fd 2 to the log


def terminal_fd() -> int | None:
    """The stage's original stderr (for a progress bar on a local terminal), or None."""
    return _TERMINAL_FD


@contextlib.contextmanager
def _stderr_to(log_path: Path) -> Iterator[int]:
    """Point file descriptor 2 (and sys.stderr) at `log_path`; yield a dup of the old stderr."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    with open(log_path, "w", encoding="utf-8") as log:  # one run, one log
        os.dup2(log.fileno(), 2)
        try:
            yield saved
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def _say(fd: int, line: str) -> None:
    os.write(fd, (line.rstrip("\n") + "\n").encode("utf-8", "replace"))


def run_stage(log: str | os.PathLike[str] | None, func: Callable[..., Any], *args: Any,
              **kwargs: Any) -> Any:
    """Run `func(*args, **kwargs)` with stderr in `log`; exit 1 with one line on failure."""
    name = getattr(func, "__name__", "stage")
    if log is None:
        try:
            return func(*args, **kwargs)
        except UserError as err:
            sys.exit(f"error: {err}")
    global _TERMINAL_FD
    log_path = Path(log)
    with _stderr_to(log_path) as terminal:
        _TERMINAL_FD = terminal
        try:
            return func(*args, **kwargs)
        except UserError as err:
            line = f"error: {err}"
            print(line, file=sys.stderr)
        except Exception as err:  # a bug, not bad input: keep the traceback for the log
            traceback.print_exc()
            line = f"internal error in {name}: {type(err).__name__}: {err}".replace("\n", " ")
            line += f" (traceback in {log_path})"
            print(line, file=sys.stderr)  # the log ends with the line too (runner's summary)
        finally:
            _TERMINAL_FD = None
        _say(terminal, line)
    sys.exit(1)


def main(argv: list[str] | None = None) -> int:
    """`ivit-gemmini`: small helpers around the workflow (the workflow itself is Snakemake)."""
    parser = argparse.ArgumentParser(
        prog="ivit-gemmini",
        description="I-ViT on Gemmini. Run the workflow with `make demo` or `snakemake -c all`.",
    )
    parser.add_argument("--version", action="version", version=f"ivit-gemmini {__version__}")
    sub = parser.add_subparsers(dest="command")
    show = sub.add_parser("predictions", help="print the top-5 table of a results folder")
    show.add_argument("results", nargs="?", default="results", type=Path)
    args = parser.parse_args(argv)
    if args.command == "predictions":
        table = args.results / "tables" / "predictions.md"
        if not table.is_file():
            print(f"error: {table} does not exist: run `make demo` first", file=sys.stderr)
            return 1
        print(table.read_text(encoding="utf-8"), end="")
        return 0
    parser.print_help()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
