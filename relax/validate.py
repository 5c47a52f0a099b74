"""Checks of public arguments: every error names the argument and says what is allowed.

The rule throughout: a value is accepted when it is of a kind the argument documents
(numpy scalar types count as their Python twins: ``np.float32(0.1)`` is a float,
``np.int64(3)`` an int, ``np.bool_(True)`` a bool) and lies in the documented range;
anything else is a ``ValueError`` of the form ``"<name> must be <what is allowed>; got
<value>"``.  Booleans are never accepted as numbers (``True`` is not a population size).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import numpy as np


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def real(name: str, value, *, low: float | None = None, low_open: bool = False,
         finite: bool = True) -> float:
    """``float(value)`` for a real number (not a bool, not NaN; finite unless
    ``finite=False``) that is ≥ ``low`` (> ``low`` when ``low_open``)."""
    ok = _is_real(value) and not math.isnan(float(value))
    ok = ok and (not finite or math.isfinite(float(value)))
    if ok and low is not None:
        ok = float(value) > low if low_open else float(value) >= low
    if not ok:
        kind = "a finite number" if finite else "a number (not NaN)"
        bound = "" if low is None else f" {'>' if low_open else '>='} {low:g}"
        raise ValueError(f"{name} must be {kind}{bound}; got {value!r}")
    return float(value)


def integer(name: str, value, minimum: int) -> int:
    """``int(value)`` for an integer (Python or numpy, not a bool) ≥ ``minimum``."""
    if (isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral)
            or value < minimum):
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def optional_integer(name: str, value, minimum: int) -> int | None:
    """None, or :func:`integer`."""
    return None if value is None else integer(name, value, minimum)


def boolean(name: str, value) -> bool:
    """``bool(value)`` for True/False (or a numpy bool); strings such as ``"no"`` are
    rejected rather than read as true."""
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be True or False; got {value!r}")
    return bool(value)


def optional_callable(name: str, value) -> Callable | None:
    """None or a callable."""
    if value is not None and not callable(value):
        raise ValueError(f"{name} must be a callable or None; got {value!r}")
    return value


def seed(value):
    """A seed numpy's ``default_rng`` accepts: None, an integer ≥ 0, a sequence of such
    integers, a ``SeedSequence``, a ``BitGenerator`` or a ``Generator``."""
    if value is None or isinstance(value, np.random.Generator | np.random.SeedSequence
                                   | np.random.BitGenerator):
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_) \
            and value >= 0:
        return value
    if isinstance(value, list | tuple) and value and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 0
            for v in value):
        return value
    raise ValueError("seed must be None, an integer >= 0, a sequence of such integers or a "
                     f"numpy Generator/SeedSequence; got {value!r}")


def step(value):
    """A step argument as :func:`relax.step.as_rule` reads it, with the numbers inside
    checked here: a number must be finite and > 0 (numpy scalars accepted); a
    ``Fixed``/``Decay``/``TrustRegion`` must hold finite positive sizes (``rho_max`` may be
    inf) and a finite ``power`` ≥ 0."""
    from relax.step import Decay, Fixed, TrustRegion

    if _is_real(value):
        return real("step", value, low=0.0, low_open=True)
    if isinstance(value, Fixed):
        real("step.rho", value.rho, low=0.0, low_open=True)
    elif isinstance(value, Decay):
        real("step.rho0", value.rho0, low=0.0, low_open=True)
        real("step.tau", value.tau, low=0.0, low_open=True)
        real("step.power", value.power, low=0.0)
    elif isinstance(value, TrustRegion):
        real("step.epsilon", value.epsilon, low=0.0, low_open=True)
        real("step.rho_max", value.rho_max, low=0.0, low_open=True, finite=False)
    return value


def target(value) -> float | None:
    """None or a finite number (an infinite or NaN target would stop at once or never)."""
    return None if value is None else real("target", value)


def X_rows(X: np.ndarray, domain: str) -> None:
    """The rows told to an optimizer: finite, and ±1 on a binary model (an array of
    another namespace, e.g. cupy, is checked there and brought to the host only to name
    the first bad entry)."""
    if not isinstance(X, np.ndarray):
        from relax import backend

        xp = backend.namespace_of(X)
        bad = ~xp.isfinite(X)
        if domain == "binary":
            bad = bad | (xp.abs(X) != 1.0)
        if bool(xp.any(bad)):
            X_rows(backend.to_numpy(X), domain)
        return
    bad = ~np.isfinite(X)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ValueError(f"X must be finite; X[{i}, {j}] = {X[i, j]}")
    if domain == "binary":
        bad = np.abs(X) != 1.0
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise ValueError(f"X must hold -1/+1 entries on a binary model; X[{i}, {j}] = "
                             f"{X[i, j]}")
