"""How f is called on a batch, and what happens when it misbehaves.

Evaluation takes a batch X (popsize × n) and returns popsize values plus a per-row
status.  f is called per point (``f(x)`` for each row, default) or once on the batch
(``vectorized=True``: ``f(X)`` must return shape (popsize,)).  Results are always in the
order of the rows.

Policy (``invalid=``), applied to f returning NaN/±inf or raising for a point:

- ``"raise"`` (default): raise :class:`EvaluationError` naming the offending row, its
  x and the value or exception.  The model is not updated.
- ``"worst"``: the row is marked invalid (status ``False``, value ``+inf``); the optimizer
  ranks it last and never lets it into a covariance estimate, so the model is never
  updated from garbage.  If every row of a batch is invalid the step is skipped.

A vectorized f that returns the wrong shape, or a per-point f that returns a non-scalar,
is a programming error and always raises ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

POLICIES = ("raise", "worst")


class EvaluationError(RuntimeError):
    """f returned a non-finite value or raised, under ``invalid="raise"``."""


class ShapeError(ValueError):
    """f returned a value of the wrong shape: a programming error, never a policy case."""


@dataclass(frozen=True)
class Evaluation:
    """Values of f on a batch; ``valid[i]`` is False where f failed (value +inf)."""

    values: np.ndarray
    valid: np.ndarray


def _scalar(value, row: int) -> float:
    a = np.asarray(value, dtype=float)
    if a.size != 1:
        raise ShapeError(f"f must return a scalar for each point; row {row} gave shape {a.shape}")
    return float(a.reshape(()))


def _per_point(f: Callable, X: np.ndarray, invalid: str) -> tuple[np.ndarray, list]:
    values = np.empty(X.shape[0])
    errors: list = [None] * X.shape[0]
    for i, x in enumerate(X):
        try:
            values[i] = _scalar(f(x.copy()), i)
        except ShapeError:
            raise
        except Exception as e:  # noqa: BLE001 - user code: any failure is reported by policy
            errors[i], values[i] = e, np.nan
    return values, errors


def _vectorized(f: Callable, X: np.ndarray) -> np.ndarray:
    try:
        out = f(X)
    except Exception as e:  # noqa: BLE001
        raise EvaluationError(f"f raised on the batch of {X.shape[0]} points: {e!r}") from e
    values = np.asarray(out, dtype=float)
    if values.shape != (X.shape[0],):
        raise ShapeError(
            f"vectorized f must return shape ({X.shape[0]},) for a batch of {X.shape[0]} "
            f"points; got {values.shape}"
        )
    return values


def evaluate(f: Callable, X: np.ndarray, *, vectorized: bool = False,
             invalid: str = "raise") -> Evaluation:
    """Evaluate f on the rows of X under the policy described in the module docstring."""
    if invalid not in POLICIES:
        raise ValueError(f"invalid must be 'raise' or 'worst'; got {invalid!r}")
    if vectorized:
        values, errors = _vectorized(f, X), [None] * X.shape[0]
    else:
        values, errors = _per_point(f, X, invalid)
    return check_values(values, X, invalid, errors)


def check_values(values: np.ndarray, X: np.ndarray, invalid: str = "raise",
                 errors: list | None = None) -> Evaluation:
    """Apply the policy to values computed elsewhere (e.g. passed to ``tell``)."""
    values = np.array(values, dtype=float)
    valid = np.isfinite(values)
    if not valid.all() and invalid == "raise":
        i = int(np.flatnonzero(~valid)[0])
        cause = errors[i] if errors is not None else None
        what = f"raised {cause!r}" if cause is not None else f"returned {values[i]}"
        raise EvaluationError(
            f"f {what} at row {i} of the batch (x = {np.array2string(X[i], threshold=8)}); "
            "pass invalid='worst' to rank such points last instead"
        ) from cause
    values[~valid] = np.inf
    return Evaluation(values, valid)
