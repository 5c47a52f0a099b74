"""Helpers shared by the benchmark scripts of this folder (bbob, overhead, largescale).

- :class:`Objective` wraps f so that the *harness*, not the optimizer, counts evaluations,
  notes the first one that reaches the target and ends the run there (or when the
  budget is spent) by raising :class:`Stop`.
- :func:`write_section` replaces one ``## heading`` section of ``benchmarks/RESULTS.md``.
- :func:`provenance` is the command / machine / versions / date block under each table.
- :func:`parse_ids` reads ``1,3,5-8`` lists; :func:`limit_threads` pins BLAS to one thread.

The scripts import this module as ``_common`` (``python benchmarks/x.py`` puts this folder
on ``sys.path``), before relax: importing it puts the checkout's root first on ``sys.path``,
so that a script measures the relax of its own checkout, not an older installed copy.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import math
import os
import platform
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if (ROOT / "relax" / "__init__.py").is_file() and sys.path[:1] != [str(ROOT)]:
    sys.path.insert(0, str(ROOT))

RESULTS = Path(__file__).with_name("RESULTS.md")


class Stop(BaseException):
    """Raised from inside the objective to end a run: ``reason`` is "target" or "budget".

    It derives from ``BaseException`` on purpose: optimizers guard calls to f with
    ``except Exception`` (relax's ``invalid=`` policy, for one) and must not swallow the
    harness's stop signal.
    """

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Objective:
    """f with a harness-side evaluation counter, target detection and budget.

    Each call evaluates one point.  Rule: if ``count == budget`` before a call, raise
    ``Stop("budget")`` without evaluating; otherwise evaluate, ``count += 1``, track
    ``best = min(f(x) − f_opt)``, and the first time f(x) − f_opt ≤ ``delta`` record
    ``hit = count`` and raise ``Stop("target")``.  So ``hit`` is the evaluation count at
    which the target was first reached and ``count`` the evaluations actually spent.

    Parameters
    ----------
    f : callable
        ``f(x) -> float`` for one point of shape (n,).
    fopt : float
        The optimal value f(x*).
    budget : int
        Maximum number of evaluations.
    delta : float
        Target precision: success means f(x) − f_opt ≤ delta.
    """

    def __init__(self, f: Callable[[np.ndarray], float], fopt: float, budget: int,
                 delta: float = 1e-8):
        self.f, self.fopt, self.budget, self.delta = f, float(fopt), int(budget), float(delta)
        self.count = 0
        self.hit: int | None = None
        self.best = math.inf

    def run(self, call: Callable[[], object]) -> str:
        """Run ``call()`` (an optimizer on this objective) and return why it ended:
        "target", "budget", or "optimizer" when it stopped by its own rules with budget
        left."""
        try:
            call()
        except Stop as stop:
            return stop.reason
        return "budget" if self.count >= self.budget else "optimizer"

    @property
    def ftarget(self) -> float:
        """f_opt + delta, the value optimizers get as their own target."""
        return self.fopt + self.delta

    def __call__(self, x: np.ndarray) -> float:
        if self.count >= self.budget:
            raise Stop("budget")
        value = float(self.f(np.asarray(x, dtype=float)))
        self.count += 1
        self.best = min(self.best, value - self.fopt)
        if self.hit is None and value - self.fopt <= self.delta:
            self.hit = self.count
            raise Stop("target")
        return value

    def batch(self, X: np.ndarray) -> np.ndarray:
        """Values of the rows of X, evaluated in row order (a stop ends the batch there)."""
        return np.array([self(x) for x in np.asarray(X, dtype=float)])


class BatchObjective(Objective):
    """:class:`Objective` for a vectorized f (``f(X) -> (m,)``): one call per batch.

    The batch is truncated to the remaining budget, and the hit is the first row at or
    below the target, counted in row order.  For each threshold t of ``ladder`` it also
    records ``ladder_hits[t] = (evaluations, seconds)`` when f − f_opt ≤ t first held,
    seconds counted from the construction of this object (evaluation time included).
    """

    def __init__(self, f: Callable[[np.ndarray], np.ndarray], fopt: float, budget: int,
                 delta: float = 1e-8, ladder: Iterable[float] = ()):
        super().__init__(f, fopt, budget, delta)
        self.pending = sorted(set(ladder) | {self.delta}, reverse=True)
        self.ladder_hits: dict[float, tuple[int, float]] = {}
        self.t0 = time.perf_counter()

    def batch(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        left = self.budget - self.count
        if left <= 0:
            raise Stop("budget")
        values = np.asarray(self.f(X[:left]), dtype=float)
        gaps = values - self.fopt
        self._climb(gaps)
        self.best = min(self.best, float(np.min(gaps)))
        reached = np.flatnonzero(gaps <= self.delta)
        if reached.size:
            self.count += int(reached[0]) + 1
            self.hit = self.count
            raise Stop("target")
        self.count += gaps.size
        if gaps.size < X.shape[0]:
            raise Stop("budget")
        return values

    def _climb(self, gaps: np.ndarray) -> None:
        """Record the thresholds of the ladder that this batch reaches first."""
        seconds = time.perf_counter() - self.t0
        while self.pending:
            rows = np.flatnonzero(gaps <= self.pending[0])
            if not rows.size:
                return
            self.ladder_hits[self.pending.pop(0)] = (self.count + int(rows[0]) + 1, seconds)

    def __call__(self, x: np.ndarray) -> float:
        return float(self.batch(np.asarray(x, dtype=float)[None, :])[0])


def parse_ids(text: str, name: str) -> list[int]:
    """``"1,8,10"`` and ranges ``"1-5"`` → sorted list of distinct positive ints.

    Raises ``argparse.ArgumentTypeError`` naming the option ``--name`` on bad input.
    """
    out: set[int] = set()
    for part in (p.strip() for p in text.split(",") if p.strip()):
        lo, sep, hi = part.partition("-")
        try:
            out.update(range(int(lo), int(hi) + 1) if sep else [int(lo)])
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"--{name} expects numbers and ranges like 1,3,5-8; got {text!r}") from None
    if not out or min(out) < 1:
        raise argparse.ArgumentTypeError(f"--{name} needs positive integers; got {text!r}")
    return sorted(out)


def id_list(name: str) -> Callable[[str], list[int]]:
    """An argparse ``type=`` that parses ``--name`` with :func:`parse_ids`."""
    return lambda text: parse_ids(text, name)


def name_list(name: str, allowed: Iterable[str]) -> Callable[[str], list[str]]:
    """An argparse ``type=`` for comma-separated names drawn from ``allowed``."""
    allowed = tuple(allowed)

    def parse(text: str) -> list[str]:
        names = [p.strip() for p in text.split(",") if p.strip()]
        bad = [n for n in names if n not in allowed]
        if bad or not names:
            raise argparse.ArgumentTypeError(
                f"--{name} takes a comma-separated subset of {','.join(allowed)}; got {text!r}")
        return list(dict.fromkeys(names))

    return parse


def ask_tell_seconds(opt, f: Callable) -> tuple[float, float, int]:
    """One iteration of an ask/tell optimizer: (seconds in ask, seconds in tell, batch
    size), the time of f excluded."""
    t0 = time.perf_counter()
    X = opt.ask()
    t1 = time.perf_counter()
    fX = f(X)
    t2 = time.perf_counter()
    opt.tell(X, fX)
    return t1 - t0, time.perf_counter() - t2, len(fX)


def limit_threads(threads: int = 1) -> None:
    """Pin BLAS/OpenMP pools to ``threads`` threads (default one: tiny matrices are
    slower on more, and bbob.py parallelizes over runs, not inside them)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads)


def blas_info() -> str:
    """The BLAS/OpenMP libraries loaded and their thread counts."""
    from threadpoolctl import threadpool_info

    return ", ".join(f"{i['prefix']} {i.get('version') or ''} ({i['num_threads']} threads)"
                     for i in threadpool_info()) or "none found"


def machine() -> str:
    """CPU model and ``nproc``."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, nproc = {os.cpu_count()}"


def versions(modules: Iterable[str]) -> str:
    """``name version`` for each importable module, then Python's version."""
    parts = []
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        parts.append(f"{name} {getattr(module, '__version__', '?')}")
    return ", ".join([*parts, f"Python {platform.python_version()}"])


def provenance(script: str, argv: list[str], modules: Iterable[str]) -> str:
    """The bullet lines under a results table: command, machine, versions, date."""
    command = " ".join(["python", f"benchmarks/{script}", *argv])
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (f"- command: `{command}`\n- machine: {machine()}\n"
            f"- versions: {versions(modules)}\n- date: {date}\n")


def write_section(path: Path, heading: str, text: str) -> None:
    """Replace the section that starts with the line ``heading`` (up to the next ``## ``
    heading) by ``text``, or append it; every other section stays as it is."""
    old = path.read_text() if path.exists() else "# Benchmark results\n"
    body = text.rstrip("\n") + "\n"
    start = old.find(heading + "\n")
    if start < 0:
        new = old.rstrip("\n") + "\n\n" + body
    else:
        end = old.find("\n## ", start + len(heading))
        new = old[:start] + body + (old[end:] if end >= 0 else "")
    path.write_text(new)


def fill_defaults(args: argparse.Namespace, base: dict) -> None:
    """Set every option of ``base`` that was not given (``dims`` parsed as an id list)."""
    for key, value in base.items():
        if getattr(args, key) is None:
            setattr(args, key, id_list(key)(value) if key == "dims" else value)


def publish(text: str, section: str, out: Path | None, raw: str | None = None,
            payload: dict | None = None) -> None:
    """Print the section, write ``payload`` as JSON to ``raw`` and the section to
    ``out`` when given."""
    import json

    print("\n" + text)
    if raw:
        Path(raw).write_text(json.dumps(payload, indent=1))
    if out is not None:
        write_section(out, section, text)
        print(f"wrote the section {section!r} of {out}", file=sys.stderr)


def results_path(value: str | None, quick: bool, no_write: bool) -> Path | None:
    """Where to write the section: ``--results`` if given; RESULTS.md unless ``--quick``
    or ``--no-write``; ``None`` for print only."""
    if no_write:
        return None
    if value is not None:
        return Path(value)
    return None if quick else RESULTS


def fmt_int(x: float | None) -> str:
    """1234.5 → "1,234"; None/inf/nan → "—"."""
    if x is None or not math.isfinite(x):
        return "—"
    return f"{x:,.0f}"


def fmt_sci(x: float) -> str:
    """1e-08 → "1e-8", 0.0001 → "1e-4", 10.0 → "10"."""
    return f"{x:g}".replace("e-0", "e-").replace("e+0", "e+")


def fmt_ratio(x: float | None) -> str:
    """A ratio with 2 decimals; None/nan → "—", inf → "∞"."""
    if x is None or math.isnan(x):
        return "—"
    return "∞" if math.isinf(x) else f"{x:.2f}"


def exit_error(message: str) -> None:
    """Print ``error: message`` to stderr and exit with status 2 (as argparse does)."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)
