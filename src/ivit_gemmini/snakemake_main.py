"""`python -m ivit_gemmini.snakemake_main ARGS`: Snakemake's own command line, which exits as
soon as the run ends instead of up to a second later.

Snakemake's scheduler wakes itself to re-check its job rate limit (`max-jobs-per-timespan`,
default 100 jobs per 1 s) with a `threading.Timer` of the limit's timespan, a non-daemon thread,
so the interpreter waits for the last timer before exiting. That second is a quarter of
`ivit-infer` on a new image. A shorter timespan cannot be configured: the option takes whole
units, and Snakemake 9's parser reads `100ms` as 100 minutes (its pattern tries `m` before
`ms`), which leaves every run waiting 100 minutes at exit. Made daemon threads here, the timers
end with the process; they only wake a scheduler that has returned by then. Everything else is
`snakemake.cli.main`, unchanged (the runner and `ivit-infer` start Snakemake through this).
"""

from __future__ import annotations

import threading

MODULE = "ivit_gemmini.snakemake_main"


class _DaemonTimer(threading.Timer):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.daemon = True


def main() -> None:
    threading.Timer = _DaemonTimer  # type: ignore[misc]
    from snakemake.cli import main as snakemake_cli

    snakemake_cli()


if __name__ == "__main__":
    main()
