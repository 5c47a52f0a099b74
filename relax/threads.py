"""BLAS threads around the search's dense linear algebra.

The O(n³) decompositions of the adaptive search run with BLAS pinned to one thread from
n = ``BLAS_PIN_N`` on: their results then do not depend on the machine's thread count, and
on a busy machine a small eigendecomposition is not slowed down tenfold by threads that
wait for cores (measured: n = 100 took 369 ms with two threads beside other work, 7 ms
with one).  Smaller problems stay below OpenBLAS's own threading thresholds.  The user's f
is never called inside the pinned region.
"""

from __future__ import annotations

import contextlib
import functools

BLAS_PIN_N = 48


@functools.cache
def _controller():
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        return None
    return ThreadpoolController()


def single_thread_blas(active: bool = True):
    """A context in which BLAS uses one thread (a no-op when ``active`` is False)."""
    controller = _controller() if active else None
    if controller is None:
        return contextlib.nullcontext()
    return controller.limit(limits=1, user_api="blas")
