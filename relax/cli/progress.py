"""Progress on stderr: a live line for one run, a counter for many.

On a terminal the line updates in place (rich); otherwise (a pipe, a log file, a test)
plain lines are written at most every ``every`` seconds, so logs stay short.
"""

from __future__ import annotations

import sys
import time

import click


def gap_text(best: float, optimum: float | None) -> str:
    """``best f = …`` and, when the optimum is known, ``f - f_opt = …``."""
    if optimum is None:
        return f"best f = {best:.6g}"
    return f"best f = {best:.6g}, f - f_opt = {best - optimum:.3g}"


class Progress:
    """The live line of one optimizer run (a ``minimize`` callback): iterations,
    evaluations, best f (and f − f_opt when ``optimum`` is known), the mean f of the last
    sample and the spread of the model; nothing when ``quiet``."""

    def __init__(self, label: str, optimum: float | None = None, quiet: bool = False,
                 every: float = 2.0):
        self.label, self.optimum, self.quiet, self.every = label, optimum, quiet, every
        self.live = None
        self.last = -float("inf")
        if not quiet and sys.stderr.isatty():
            from rich.console import Console
            from rich.live import Live

            self.live = Live(console=Console(stderr=True), refresh_per_second=8,
                             transient=False)
            self.live.start()

    def line(self, res) -> str:
        h = res.history
        return (f"{self.label}  it {res.nit:>6}  fev {res.nfev:>8}  "
                f"{gap_text(res.fun, self.optimum)}  mean f {h['mean_f'][-1]:.4g}  "
                f"spread {h['spread'][-1]:.3g}")

    def __call__(self, res) -> None:
        if self.quiet:
            return
        if self.live is not None:
            self.live.update(self.line(res))
            return
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            click.echo(self.line(res), err=True)

    def close(self, res) -> None:
        """The final line (always written unless quiet)."""
        if self.live is not None:
            self.live.update(self.line(res))
            self.live.stop()
        elif not self.quiet:
            click.echo(self.line(res), err=True)


class Counter:
    """``label: k/total runs done`` and what the last run gave, one update per finished
    run (a rich progress bar on a terminal, a plain line otherwise)."""

    def __init__(self, label: str, total: int, quiet: bool = False):
        self.label, self.total, self.quiet, self.done = label, total, quiet, 0
        self.bar = None
        if not quiet and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import Progress as Bar

            self.bar = Bar(console=Console(stderr=True), transient=False)
            self.task = self.bar.add_task(label, total=total)
            self.bar.start()
        elif not quiet:
            click.echo(f"{label}: {total} runs", err=True)

    def advance(self, what: str) -> None:
        """One more run finished; ``what`` says which and how it ended."""
        self.done += 1
        if self.bar is not None:
            self.bar.update(self.task, advance=1, description=f"{self.label}: {what}")
        elif not self.quiet:
            click.echo(f"{self.label}: {self.done}/{self.total} runs done ({what})", err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
