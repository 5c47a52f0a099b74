"""f on other processes or machines: one task per row, results in submission order.

Three sources of workers, one protocol (``concurrent.futures``):

- ``workers=N``: a process pool of relax's own (:class:`OwnPool`).  Its workers ignore
  SIGINT (Ctrl-C is the main process's to handle); a worker that dies (a crash,
  ``os._exit``, the OOM killer) loses the rows it and its siblings were running, which
  fail as ``"lost"``, and the pool is rebuilt for the next batch; an evaluation that
  outlives the timeout is stopped by killing the pool (the only way to stop a running
  process), and the rows that were running beside it are submitted again.
- ``executor=``: any ``concurrent.futures.Executor`` (a ``ProcessPoolExecutor``, a
  ``ThreadPoolExecutor``, ``distributed.Client(...).get_executor()``).  relax does not own
  it: it never shuts it down, cannot rebuild it when it breaks (that is an
  :class:`~relax.evaluate.EvaluationError`), and can only ``cancel()`` an evaluation that
  outlives the timeout (Dask cancels the task; a process or thread pool keeps running it).

Each row is one task, ``f(x)`` (a vectorized f receives the row as a batch of one,
``f(x[None, :])``), so the values are those of the serial run, bit for bit, whichever
worker computes them.  On a process pool f travels by pickle: it must be defined at
module level (not a lambda or a nested function); this is checked before the first batch.

The timeout of a row counts from the moment the executor reports it running (a process
pool does when it hands the row to a worker; Dask's futures never do, so there it counts
from submission: allow for the queue).
"""

from __future__ import annotations

import pickle
import signal
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

import numpy as np

from relax.evaluate import (
    Evaluation,
    EvaluationError,
    Failure,
    NotANumber,
    ShapeError,
    as_value,
    batch_values,
    failure_of,
    non_finite,
)

#: Exceptions (by class name) that mean the worker was lost, not that f failed.
LOST = ("BrokenProcessPool", "BrokenExecutor", "KilledWorker", "CancelledError")


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@dataclass(frozen=True)
class Task:
    """What a worker runs for one row: ``f(x)`` (or ``f(x[None])[0]`` for a vectorized f)
    as a float; picklable when f is."""

    f: Callable
    vectorized: bool = False

    def __call__(self, x: np.ndarray) -> float:
        if not self.vectorized:
            return as_value(self.f(x))
        ev = batch_values(self.f(x[None, :]), 1)
        if ev.failures and ev.failures[0].kind == "non-numeric":
            raise NotANumber(ev.failures[0].detail)
        return float(ev.values[0])


class OwnPool:
    """A ``ProcessPoolExecutor`` of ``workers`` processes that relax creates on first use,
    rebuilds after a worker died, kills when an evaluation outlives the timeout, and shuts
    down at the end."""

    owned = True

    def __init__(self, workers: int):
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def executor(self) -> ProcessPoolExecutor:
        if self._pool is not None and getattr(self._pool, "_broken", False):  # a worker died
            self.kill()
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers, initializer=_ignore_sigint)
        return self._pool

    def kill(self) -> None:
        """Stop every worker now (running evaluations included) and forget the pool."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        # ProcessPoolExecutor keeps its worker processes in _processes and offers no public
        # way to stop a running task before Python 3.14 (terminate_workers).
        processes = list((getattr(pool, "_processes", None) or {}).values())
        for p in processes:
            if p.is_alive():
                p.kill()
        pool.shutdown(wait=False, cancel_futures=True)
        for p in processes:
            p.join(timeout=5)

    def close(self) -> None:
        """Shut the pool down, waiting for nothing but idle workers."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


class TheirExecutor:
    """An executor the caller owns: used as is, never shut down, never rebuilt."""

    owned = False

    def __init__(self, executor: Executor):
        self._executor = executor

    def executor(self) -> Executor:
        return self._executor

    def kill(self) -> None:
        """Nothing: relax cannot stop the workers of an executor it does not own."""

    def close(self) -> None:
        """Nothing: the caller shuts its executor down."""


def check_picklable(f: Callable, where: str) -> None:
    """A clear error when f cannot travel to a process pool."""
    try:
        pickle.dumps(f)
    except Exception as e:  # noqa: BLE001 - pickle raises many kinds
        raise ValueError(
            f"f must be picklable to run on {where}: define it at module level (not a lambda "
            f"or a nested function), or use a thread pool or Dask; pickling failed with {e!r}"
        ) from None


def is_lost(error: BaseException) -> bool:
    """Whether ``error`` says the worker was lost (not that f failed)."""
    return any(c.__name__ in LOST for c in type(error).__mro__)


class Batch:
    """The rows of one batch on an executor, and how each ended."""

    def __init__(self, backend, task: Task, X: np.ndarray, timeout: float | None):
        self.backend, self.task, self.X, self.timeout = backend, task, X, timeout
        self.futures: dict[int, Future] = {}
        self.started: dict[int, float] = {}
        self.running: set[int] = set()
        self.values = np.full(X.shape[0], np.nan)
        self.failures: list[Failure] = []
        self.done: set[int] = set()

    def submit(self, rows) -> None:
        rows = list(rows)
        if not rows:
            return
        executor = self.backend.executor()
        now = time.monotonic()
        for i in rows:
            try:
                self.futures[i] = executor.submit(self.task, self.X[i])
            except (BrokenProcessPool, RuntimeError) as e:
                if not self.backend.owned:
                    raise EvaluationError(
                        f"the executor cannot take tasks any more ({e!r}); relax rebuilds only "
                        "its own pool (workers=N)") from e
                self.backend.kill()
                executor = self.backend.executor()
                self.futures[i] = executor.submit(self.task, self.X[i])
            self.started[i] = now
            self.running.discard(i)

    def settle(self, i: int) -> None:
        """Record the outcome of the finished future of row ``i``."""
        future = self.futures[i]
        self.done.add(i)
        if future.cancelled():
            self.failures.append(Failure(i, "lost", "cancelled by the executor"))
            return
        error = future.exception()
        if error is None:
            self.values[i] = future.result()
        elif isinstance(error, ShapeError):
            raise ShapeError(f"{error} (row {i})")
        elif is_lost(error):
            self.failures.append(Failure(i, "lost", repr(error), error))
        else:
            self.failures.append(failure_of(i, error))

    def expire(self, now: float) -> list[int]:
        """Rows running for longer than the timeout: failed as ``"timeout"``."""
        late = []
        for i, future in self.futures.items():
            if i in self.done:
                continue
            if i not in self.running and future.running():
                self.running.add(i)
                self.started[i] = now
            if now - self.started[i] > self.timeout:
                late.append(i)
                self.done.add(i)
                future.cancel()
                self.failures.append(Failure(i, "timeout", f"{self.timeout:g} s"))
        return late

    def restart_others(self) -> None:
        """After the pool was killed: keep what finished, submit the rest again."""
        again = []
        for i, future in self.futures.items():
            if i in self.done:
                continue
            if future.done() and not future.cancelled() and future.exception() is None:
                self.settle(i)
            else:
                again.append(i)
        self.submit(again)

    def window(self) -> int:
        """How many rows may be in flight: all of them, except on relax's own pool under a
        timeout, where one per worker (so that a row's clock starts when a worker takes
        it, not while it waits in the pool's queue)."""
        if self.timeout is not None and self.backend.owned:
            return self.backend.workers
        return self.X.shape[0]

    def run(self) -> Evaluation:
        size = self.X.shape[0]
        queue = iter(range(size))
        self.submit(next(queue) for _ in range(min(self.window(), size)))
        poll = None if self.timeout is None else min(0.1, self.timeout / 4)
        while len(self.done) < size:
            pending = [f for i, f in self.futures.items() if i not in self.done]
            wait(pending, timeout=poll, return_when=FIRST_COMPLETED)
            for i, future in list(self.futures.items()):
                if i not in self.done and future.done():
                    self.settle(i)
            free = self.window() - sum(i not in self.done for i in self.futures)
            self.submit([i for _, i in zip(range(free), queue, strict=False)])
            if self.timeout is not None and self.expire(time.monotonic()) \
                    and self.backend.owned:
                self.backend.kill()
                self.restart_others()
        if any(f.kind == "lost" for f in self.failures) and self.backend.owned:
            self.backend.kill()  # a broken pool: the next batch gets a new one
        return Evaluation(self.values, non_finite(self.values, self.failures))
