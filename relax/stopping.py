"""Stopping rules that are relative to the current scale.

Every rule compares the run with itself — f values with f values, spreads with the initial
spread, steps with the floating-point resolution of the mean — so the same run on
f(x − c), f(x/s) or a + b·f stops at the same iteration, and a run whose best f is still
falling (even at 1e-15) is never stopped by a rule tuned to one scale.

========================  ===============================================================
``tolfun``                over the last 10 + ⌈30n/λ⌉ iterations, the range of the best f
                          and of the current f values is ≤ ``tolfun`` × their magnitude
``tolx``                  the spread fell below ``tolx`` × the initial spread
``stagnation``            over the last ⌈t/5 + 120 + 30n/λ⌉ iterations, the median of the
                          20 newest best (and median) f is no better than of the 20 oldest
                          (Hansen's BBOB rule)
``flat``                  the best and the ⌈0.1 + λ/4⌉-th f were equal in more than a third
                          of the last n iterations
``conditioncov``          the condition number of the correlations or of the scales > 1e14
``noeffect``              m + 0.2·std_i == m in every coordinate (machine precision)
``patience``              no improvement of the best f for ``patience`` iterations
========================  ===============================================================

``tolfun``, ``tolx`` and ``noeffect`` mean *converged*; the others mean *stuck*.  Either way
a run with restarts (:mod:`relax.restart`) starts afresh.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from itertools import islice
from statistics import median

import numpy as np

CONVERGED = ("tolfun", "tolx", "tolspread", "noeffect")
BUDGET = ("maxfev", "maxiter", "target")


@dataclass
class Termination:
    """The per-iteration record the rules need, and the rules (see the module docstring)."""

    n: int
    popsize: int
    spread0: float
    tolfun: float = 1e-12
    tolx: float = 1e-12
    tolcond: float = 1e14
    patience: int | None = None
    rules: tuple | None = None  # the rules that apply (None: all)
    t: int = 0
    stall: int = 0
    best: deque = field(default_factory=deque)
    median: deque = field(default_factory=deque)
    flat: deque = field(default_factory=deque)
    window_f: deque = field(default_factory=deque)

    @property
    def fun_window(self) -> int:
        return 10 + math.ceil(30 * self.n / self.popsize)

    def record(self, values: np.ndarray, improved: bool) -> None:
        """Remember this iteration's valid f values (any order)."""
        self.t += 1
        self.stall = 0 if improved else self.stall + 1
        if values.size == 0:
            return
        v = np.sort(values)
        k = min(int(math.ceil(0.1 + self.popsize / 4)), v.size - 1)
        self.best.append(v[0])
        self.median.append(v[v.size // 2])
        self.flat.append(bool(v[0] == v[k]))
        self.window_f.append((v[0], v[-1]))
        limit = math.ceil(self.t / 5 + 120 + 30 * self.n / self.popsize)
        while len(self.best) > limit:
            self.best.popleft()
            self.median.popleft()
        for q, size in ((self.flat, self.n), (self.window_f, self.fun_window)):
            while len(q) > size:
                q.popleft()

    def check(self, spread: float, *, cond: float = 1.0, noeffect: bool = False,
              ) -> dict[str, str]:
        """The rules that hold now, ``{name: message}``."""
        out = self._check(spread, cond, noeffect)
        if self.rules is not None:
            out = {k: v for k, v in out.items() if k in self.rules}
        return out

    def _check(self, spread: float, cond: float, noeffect: bool) -> dict[str, str]:
        out = {}
        if len(self.window_f) >= self.fun_window:
            lo = min(a for a, _ in self.window_f)
            hi = max(b for _, b in self.window_f)
            scale = max(abs(lo), abs(hi))
            if hi - lo <= self.tolfun * scale:
                out["tolfun"] = (f"f values within a relative range {self.tolfun:g} over the "
                                 f"last {self.fun_window} iterations")
        if spread < self.tolx * self.spread0:
            out["tolx"] = f"spread {spread:.3g} below {self.tolx:g} x the initial spread"
        if self._stagnated():
            out["stagnation"] = "best and median f stopped improving"
        if len(self.flat) and 3 * sum(self.flat) > self.n:
            out["flat"] = "flat fitness: the best quarter of f values were equal too often"
        if cond > self.tolcond:
            out["conditioncov"] = f"condition number {cond:.3g} > {self.tolcond:g}"
        if noeffect:
            out["noeffect"] = "steps no longer change the mean (machine precision)"
        if self.patience is not None and self.stall >= self.patience:
            out["patience"] = f"no improvement of the best f in {self.patience} iterations"
        return out

    def _stagnated(self) -> bool:
        limit = math.ceil(self.t / 5 + 120 + 30 * self.n / self.popsize)
        if self.t < limit or len(self.best) < 40:
            return False
        def ends(q):
            return list(islice(q, 20)), list(islice(reversed(q), 20))

        (b_old, b_new), (m_old, m_new) = ends(self.best), ends(self.median)
        return median(b_new) >= median(b_old) and median(m_new) >= median(m_old)
