"""Restarts: IPOP and BIPOP around the ask/tell :class:`~relax.optimizer.Optimizer`.

A run ends for good when the target is reached, the evaluation (or iteration) budget is
spent or the callback stops it.  When it ends for any other reason (converged or stuck,
see :mod:`relax.stopping`) and restarts remain, a fresh optimizer starts from the initial
model, sharing the one random generator and the one budget:

- ``"ipop"`` (Auger and Hansen 2005): each restart doubles the population, λ_i = 2^i λ₀.
- ``"bipop"`` (Hansen 2009): two interleaved regimes.  The *large* regime doubles the
  population as IPOP does; the *small* regime draws λ = ⌊λ₀ (λ_large/λ₀)^{u²}⌋ and
  shrinks the initial spread by 0.01^{u'} (u, u' uniform on [0, 1]; binary models keep
  theirs), with a budget of half the evaluations the large regime has used.  The next
  run belongs to the regime that has used fewer evaluations; the first run is the default
  and counts as small.

``result.restarts`` lists every run: regime, popsize, evaluations, iterations, best f
and the rules that stopped it.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.optimize import OptimizeResult

from relax.models import DiagonalGaussian, Gaussian
from relax.models.base import ExponentialFamily, as_rng

STRATEGIES = ("ipop", "bipop")


def scaled(model: ExponentialFamily, factor: float) -> ExponentialFamily:
    """The model with its spread multiplied by ``factor`` (Gaussians only)."""
    if isinstance(model, DiagonalGaussian):
        return DiagonalGaussian(model.mean(), model.var * factor**2)
    if isinstance(model, Gaussian):
        return Gaussian.from_cholesky(model.mean(), model.cholesky * factor)
    return model


class Regimes:
    """The restart schedule: which population and initial model the next run gets."""

    def __init__(self, strategy: str, popsize0: int, rng: np.random.Generator):
        self.strategy, self.popsize0, self.rng = strategy, popsize0, rng
        self.evals = {"small": 0, "large": 0}
        self.doublings = 0

    @staticmethod
    def first(strategy: str) -> tuple[str, None, float, float]:
        """The first run: the default population (BIPOP counts it as small)."""
        return ("small" if strategy == "bipop" else "large"), None, 1.0, math.inf

    def next(self, model: ExponentialFamily) -> tuple[str, int, float, float]:
        """(regime, popsize, spread factor, budget cap) of the next run."""
        if self.strategy == "ipop" or self.evals["small"] >= self.evals["large"]:
            self.doublings += 1
            return "large", self.popsize0 * 2**self.doublings, 1.0, math.inf
        u, v = self.rng.random(2)
        popsize = max(2, int(self.popsize0 * (2.0**self.doublings) ** (u * u)))
        factor = 0.01**v if model.domain == "real" else 1.0
        return "small", popsize, factor, 0.5 * self.evals["large"]

    def spent(self, regime: str, nfev: int) -> None:
        self.evals[regime] += nfev


def initial_model(start, rng: np.random.Generator) -> ExponentialFamily:
    """``start`` itself, or ``start(rng)`` when it is a callable drawing a fresh model."""
    return start(rng) if callable(start) and not isinstance(start, ExponentialFamily) \
        else start


def run_with_restarts(make: Callable, drive: Callable, start, *, restarts: int,
                      strategy: str, maxfev: int | None, maxiter: int | None, seed,
                      callback: Callable | None) -> OptimizeResult:
    """Run ``make(model, popsize, maxfev, maxiter, rng)`` optimizers one after another.

    ``start`` is the initial model, or a callable ``start(rng) -> model`` called for every
    run (e.g. a fresh random mean).  ``drive(opt, callback)`` runs one optimizer to its
    stop and returns its result; ``callback`` sees every intermediate result with the
    evaluations, iterations and best f counted over all runs so far.  ``restarts`` counts
    the runs with a doubled population (IPOP: every restart; BIPOP: the large regime,
    between which small runs interleave, as in pycma).
    """
    rng = as_rng(seed)
    runs, results = [], []
    total = {"nfev": 0, "nit": 0}
    best = {"fun": math.inf, "x": None}
    regimes = None
    while regimes is None or regimes.doublings < restarts:
        model = initial_model(start, rng)
        regime, popsize, factor, cap = (Regimes.first(strategy) if regimes is None
                                        else regimes.next(model))
        left_fev = None if maxfev is None else maxfev - total["nfev"]
        run_fev = left_fev if math.isinf(cap) else int(min(cap, left_fev or cap))
        opt = make(scaled(model, factor), popsize, run_fev,
                   None if maxiter is None else maxiter - total["nit"], rng)
        if regimes is None:
            regimes = Regimes(strategy, opt.popsize, rng)
        res = drive(opt, _offset(callback, total, best))
        regimes.spent(regime, res.nfev)
        results.append(res)
        runs.append({"regime": regime, "popsize": opt.popsize, "spread_factor": factor,
                     "nfev": res.nfev, "nit": res.nit, "best_f": res.fun,
                     "stop": sorted(res.stop), "message": res.message})
        total["nfev"] += res.nfev
        total["nit"] += res.nit
        if res.fun < best["fun"]:
            best.update(fun=res.fun, x=res.x)
        if _final(res, total, maxfev, maxiter):
            break
    return _merge(results, runs, best, total)


def _final(res, total, maxfev, maxiter) -> bool:
    """Whether the whole search ends: target, callback, or the global budget."""
    if not res.stop or "target" in res.stop:
        return True
    if maxfev is not None and total["nfev"] >= maxfev:
        return True
    return maxiter is not None and total["nit"] >= maxiter


def _offset(callback, total, best):
    """The callback, seeing counts and the best point over all runs."""
    if callback is None:
        return None

    def wrapped(res):
        res.nfev += total["nfev"]
        res.nit += total["nit"]
        if best["fun"] < res.fun:
            res.fun, res.x = best["fun"], best["x"]
        return callback(res)

    return wrapped


def _merge(results, runs, best, total) -> OptimizeResult:
    """One result over all runs: the history concatenated with evaluations counted from
    the start and the best f as a running minimum."""
    last = results[-1]
    history, offset, floor = {}, 0, math.inf
    for res in results:
        h = res.history
        for key, col in h.items():
            col = np.asarray(col)
            if key == "nfev":
                col = col + offset
            elif key == "best_f":
                col = np.minimum(col, floor)
            history.setdefault(key, []).append(col)
        offset += res.nfev
        floor = min(floor, res.fun)
    history = {k: np.concatenate(v) for k, v in history.items()
               if len(v) == len(results) and len({c.shape[1:] for c in v}) == 1}
    success = any(r.success for r in results)
    message = f"{last.message} (after {len(results) - 1} restarts)"
    return OptimizeResult(
        x=best["x"], fun=best["fun"], nfev=total["nfev"], nit=total["nit"],
        success=bool(success), message=message, status=0 if success else 1, stop=last.stop,
        model=last.model, history=history, restarts=runs,
    )

