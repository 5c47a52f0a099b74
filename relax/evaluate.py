"""How f is called on a batch, and what happens when it misbehaves.

Evaluation takes a batch X (popsize × n) and returns popsize values plus the failed rows.
f is called per point (``f(x)`` for each row, default) or once on the batch
(``vectorized=True``: ``f(X)`` must return shape (popsize,)), in this process or on an
executor (:mod:`relax.executors`: a process pool of relax's own, any
``concurrent.futures.Executor``, a Dask cluster).  Results are always in the order of the
rows, whatever the order in which they complete.

A row *fails* when f raises for it, returns NaN/±inf, returns something that is not a
number, is lost with a worker process that died, or outlives the timeout.  The policy
(``invalid=``) is the same for every kind of failure and every way of calling f:

- ``"raise"`` (default): raise :class:`EvaluationError` naming the row, its x and the
  failure; the error carries the partial result (``.result``: best x and f so far,
  including the valid rows of the failing batch) and the optimizer (``.optimizer``, whose
  state is that before the batch, the batch still pending), so nothing found is lost.
- ``"worst"``: the row is marked invalid (value +inf); the optimizer ranks it last and
  never lets it into an estimate.  If every row of a batch is invalid the step is skipped.
- ``"resample"``: the failed rows are replaced by fresh draws from the current model and
  evaluated again, at most ``max_resamples`` times per row and iteration; rows that still
  fail are then treated as ``"worst"``.

Failures are counted: ``nfev`` includes failed evaluations, the history has a ``failed``
column (failed evaluations per iteration) and the result ``nfailed`` (their total).

A vectorized f that returns the wrong shape, or a per-point f that returns a non-scalar,
is a programming error and always raises :class:`ShapeError` (a ``ValueError``).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from relax import backend
from relax.backend import is_device_array, to_numpy

POLICIES = ("raise", "worst", "resample")


class EvaluationError(RuntimeError):
    """f failed under ``invalid="raise"`` (or the executor itself broke).

    Attributes
    ----------
    result : OptimizeResult or None
        The best point and value found so far (the valid rows of the failing batch
        included), evaluations and iterations spent, the model and the history.
    optimizer : Optimizer or None
        The optimizer, in its state before the failing batch (which is still pending:
        ``ask()`` returns it again), so that the run can continue once f is fixed.
    failures : tuple of Failure
        The failed rows of the batch.
    """

    def __init__(self, message: str, failures: tuple = ()):
        super().__init__(message)
        self.failures = tuple(failures)
        self.result = None
        self.optimizer = None


class ShapeError(ValueError):
    """f returned a value of the wrong shape: a programming error, never a policy case."""


class NotANumber(TypeError):
    """f returned something that is not a real number (None, a string, a complex, ...)."""


@dataclass(frozen=True)
class Failure:
    """Why row ``row`` of a batch has no value.

    ``kind`` is ``"raised"``, ``"non-finite"``, ``"non-numeric"``, ``"lost"`` (its worker
    process died) or ``"timeout"``; ``detail`` says more (the exception or the value).
    """

    row: int
    kind: str
    detail: str
    cause: BaseException | None = None

    def describe(self) -> str:
        """``f <what happened>``, for messages."""
        return {
            "raised": f"f raised {self.detail}",
            "non-finite": f"f returned {self.detail}",
            "non-numeric": f"f returned {self.detail}, not a number",
            "lost": f"the evaluation was lost with its worker ({self.detail})",
            "timeout": f"the evaluation took longer than the timeout ({self.detail})",
        }[self.kind]


@dataclass(frozen=True)
class Evaluation:
    """Values of f on a batch (NaN where a row failed) and the failures, by row."""

    values: np.ndarray
    failures: tuple[Failure, ...] = ()

    @property
    def valid(self) -> np.ndarray:
        return np.isfinite(self.values)

    def replaced(self, rows: np.ndarray, other: Evaluation) -> Evaluation:
        """This evaluation with ``rows`` taken from ``other`` (an evaluation of those rows,
        in that order)."""
        values = self.values.copy()
        values[rows] = other.values
        kept = [f for f in self.failures if f.row not in set(rows.tolist())]
        moved = [Failure(int(rows[f.row]), f.kind, f.detail, f.cause) for f in other.failures]
        return Evaluation(values, tuple(sorted(kept + moved, key=lambda f: f.row)))


def as_value(value) -> float:
    """``float(value)`` for a real scalar (a Python or numpy number, a 0-d or one-element
    array); :class:`NotANumber` for None, strings, complex numbers and other objects;
    :class:`ShapeError` for arrays of more than one element."""
    if value is None or isinstance(value, str | bytes | complex | np.complexfloating):
        raise NotANumber(repr(value))
    if isinstance(value, numbers.Real):
        return float(value)
    try:
        a = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise NotANumber(repr(value)) from None
    if a.size != 1:
        raise ShapeError(f"f must return a scalar for each point; got shape {a.shape}")
    return float(a.reshape(()))


def failure_of(row: int, error: BaseException) -> Failure:
    """The :class:`Failure` of an exception raised while evaluating ``row``."""
    if isinstance(error, NotANumber):
        return Failure(row, "non-numeric", str(error), error)
    return Failure(row, "raised", repr(error), error)


def non_finite(values: np.ndarray, failures: list) -> tuple[Failure, ...]:
    """``failures`` plus a ``"non-finite"`` failure for every other row whose value is NaN
    or ±inf, sorted by row."""
    rows = {f.row for f in failures}
    out = list(failures) + [Failure(int(i), "non-finite", repr(float(values[i])))
                            for i in np.flatnonzero(~np.isfinite(values)) if i not in rows]
    return tuple(sorted(out, key=lambda f: f.row))


def per_point(f: Callable, X: np.ndarray) -> Evaluation:
    """``f(x)`` for each row, in this process."""
    values = np.full(X.shape[0], np.nan)
    failures = []
    for i, x in enumerate(X):
        try:
            values[i] = as_value(f(x.copy()))
        except ShapeError as e:
            raise ShapeError(f"{e} (row {i})") from None
        except Exception as e:  # noqa: BLE001 - user code: any failure goes to the policy
            failures.append(failure_of(i, e))
    return Evaluation(values, non_finite(values, failures))


def batch_values(out, size: int) -> Evaluation:
    """The values a vectorized f returned for a batch of ``size`` rows: shape (size,) or a
    :class:`ShapeError`; entries that are not numbers fail as ``"non-numeric"``.  An array
    of another namespace (cupy, torch through DLPack, ...) is brought to the host."""
    if is_device_array(out):
        out = to_numpy(out)
    a = np.asarray(out, dtype=object) if not isinstance(out, np.ndarray) else out
    if a.shape != (size,):
        raise ShapeError(f"vectorized f must return shape ({size},) for a batch of {size} "
                         f"points; got {a.shape}")
    try:
        values = np.asarray(a, dtype=float)
        if np.iscomplexobj(a):
            raise TypeError
        return Evaluation(values.copy(), non_finite(values, []))
    except (TypeError, ValueError):
        pass
    values, failures = np.full(size, np.nan), []
    for i, v in enumerate(a):
        try:
            values[i] = as_value(v)
        except (NotANumber, ShapeError) as e:
            failures.append(Failure(i, "non-numeric", str(e) if isinstance(e, NotANumber)
                                    else repr(v)))
    return Evaluation(values, non_finite(values, failures))


def vectorized(f: Callable, X: np.ndarray) -> Evaluation:
    """``f(X)`` once on the batch; if it raises, every row fails with that exception."""
    try:
        out = f(X.copy() if isinstance(X, np.ndarray) else backend.of(X).copy(X))
    except Exception as e:  # noqa: BLE001
        failures = tuple(Failure(i, "raised", f"{e!r} on the batch of {X.shape[0]} points", e)
                         for i in range(X.shape[0]))
        return Evaluation(np.full(X.shape[0], np.nan), failures)
    return batch_values(out, X.shape[0])


def describe_row(failure: Failure, X: np.ndarray) -> str:
    """``<what happened> at row i of the batch (x = ...)``."""
    x = np.array2string(to_numpy(X[failure.row, ...]), threshold=8)
    return f"{failure.describe()} at row {failure.row} of the batch (x = {x})"


def check_values(values: np.ndarray, X: np.ndarray, invalid: str = "raise",
                 failures: tuple = ()) -> Evaluation:
    """Apply the policy to values computed elsewhere (e.g. passed to ``tell``): under
    ``"raise"`` any failed or non-finite row raises :class:`EvaluationError` (the first
    one named), otherwise failed rows get +inf and ``valid`` False."""
    values = np.array(values, dtype=float)
    failures = non_finite(values, list(failures))
    if failures and invalid == "raise":
        first = failures[0]
        error = EvaluationError(
            f"{describe_row(first, X)}; {len(failures)} of {X.shape[0]} rows failed. Pass "
            "invalid='worst' to rank such points last, or invalid='resample' to draw new "
            "ones instead", failures)
        raise error from first.cause
    values[~np.isfinite(values)] = np.inf
    return Evaluation(values, failures)


class Evaluator:
    """f on a batch: per point or vectorized, in this process or on an executor.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``, or with ``vectorized=True`` ``f(X) -> array (size,)``.
    vectorized : bool
    workers : int, optional
        Evaluate on a process pool of this many processes, owned by relax
        (:class:`relax.executors.OwnPool`).
    executor : concurrent.futures.Executor, optional
        Evaluate on this executor (e.g. ``distributed.Client(...).get_executor()``).
    timeout : float, optional
        Seconds one evaluation may take (needs ``workers`` or ``executor``: a call in this
        process cannot be stopped); a row that takes longer fails as ``"timeout"``.
    device_f : bool
        A batch that lives on a device (``Optimizer(device="gpu")``: cupy) goes to a
        vectorized f in this process as it is (True, default) or as numpy (False).  A
        per-point f and f on workers or an executor always get numpy rows.

    Used as a context manager: relax's own pool is shut down on exit, killed when the exit
    is due to an exception (Ctrl-C, an error), so that no worker outlives the run.
    """

    def __init__(self, f: Callable, *, vectorized: bool = False, workers: int | None = None,
                 executor=None, timeout: float | None = None, device_f: bool = True):
        from concurrent.futures import Executor, ProcessPoolExecutor

        from relax import executors, validate

        if not callable(f):
            raise ValueError(f"f must be callable; got {f!r}")
        self.f = f
        self.vectorized = validate.boolean("vectorized", vectorized)
        self.device_f = validate.boolean("device_f", device_f)
        workers = validate.optional_integer("workers", workers, 1)
        if executor is not None and not isinstance(executor, Executor):
            raise ValueError("executor must be a concurrent.futures.Executor (e.g. a "
                             "ProcessPoolExecutor or distributed.Client(...).get_executor())"
                             f" or None; got {executor!r}")
        if workers is not None and executor is not None:
            raise ValueError("give workers (relax's own process pool) or executor (yours), "
                             "not both")
        self.timeout = None if timeout is None else validate.real("timeout", timeout, low=0.0,
                                                                  low_open=True)
        if self.timeout is not None and workers is None and executor is None:
            raise ValueError("timeout needs workers=N or executor=...: an evaluation in this "
                             "process cannot be stopped")
        self.workers = workers
        self.task = executors.Task(f, self.vectorized)
        self.backend = None
        if workers is not None:
            executors.check_picklable(self.task, f"a process pool (workers={workers})")
            self.backend = executors.OwnPool(workers)
        elif executor is not None:
            if isinstance(executor, ProcessPoolExecutor):
                executors.check_picklable(self.task, "a ProcessPoolExecutor")
            self.backend = executors.TheirExecutor(executor)

    def __call__(self, X: np.ndarray) -> Evaluation:
        """The values of f on the rows of X and the failed rows (no policy applied)."""
        if is_device_array(X) and not (self.vectorized and self.device_f
                                       and self.backend is None):
            X = to_numpy(X)
        if self.backend is None:
            return vectorized(self.f, X) if self.vectorized else per_point(self.f, X)
        from relax.executors import Batch

        return Batch(self.backend, self.task, X, self.timeout).run()

    def close(self, kill: bool = False) -> None:
        """Release relax's own pool (killing its workers when ``kill``)."""
        if self.backend is not None:
            self.backend.kill() if kill else self.backend.close()

    def __enter__(self) -> Evaluator:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        self.close(kill=kind is not None)


def evaluate(f: Callable, X: np.ndarray, *, vectorized: bool = False,
             invalid: str = "raise") -> Evaluation:
    """Evaluate f on the rows of X in this process and apply the policy ``invalid``
    (``"resample"`` acts as ``"worst"`` here: drawing new points is the optimizer's)."""
    if invalid not in POLICIES:
        raise ValueError(f"invalid must be one of {', '.join(map(repr, POLICIES))}; "
                         f"got {invalid!r}")
    ev = Evaluator(f, vectorized=vectorized)(X)
    return check_values(ev.values, X, invalid, ev.failures)
