"""``relax.minimize``: the ask → evaluate → tell loop, shaped like ``scipy.optimize.minimize``."""

from __future__ import annotations

from collections.abc import Callable

from scipy.optimize import OptimizeResult

from relax.evaluate import evaluate
from relax.models.base import ExponentialFamily, check_model
from relax.optimizer import Optimizer


def minimize(
    f: Callable,
    model: ExponentialFamily,
    *,
    gradient: str = "natural",
    param: str = "auto",
    popsize: int | None = None,
    step=None,
    shaping: str = "ranks",
    maxfev: int | None = None,
    maxiter: int | None = None,
    target: float | None = None,
    tolspread: float | None = None,
    patience: int | None = None,
    seed=None,
    vectorized: bool = False,
    invalid: str = "raise",
    callback: Callable | None = None,
    **options,
) -> OptimizeResult:
    """Minimize f by stochastic relaxation of ``model``.

    Each iteration samples ``popsize`` points from p(x; ξ), evaluates f, estimates the
    (gradient, param) direction of F(ξ) = E_ξ[f] and steps (see :class:`Optimizer` for
    every option).  Without ``maxfev``/``maxiter`` the budget is ``maxfev = 10⁴·n``.

    Parameters
    ----------
    f : callable
        ``f(x) -> float`` for one point of shape (n,), or with ``vectorized=True``
        ``f(X) -> array (popsize,)`` for a batch of shape (popsize, n).
    model : ExponentialFamily
        Initial distribution, e.g. ``Gaussian(x0, sigma0**2)`` or ``Bernoulli(n)``.
    callback : callable, optional
        Called after every iteration as ``callback(intermediate_result)`` with an
        ``OptimizeResult`` (as scipy does); returning ``True`` or raising ``StopIteration``
        stops the run.
    invalid : {"raise", "worst"}
        What to do when f returns NaN/inf or raises (see :mod:`relax.evaluate`).

    Returns
    -------
    OptimizeResult
        ``x`` (best point seen), ``fun``, ``nfev``, ``nit``, ``success``, ``message``,
        ``model`` (the final distribution), ``history`` (per-iteration arrays).
    """
    if not callable(f):
        raise ValueError(f"f must be callable; got {f!r}")
    if maxfev is None and maxiter is None:
        maxfev = 10_000 * check_model(model).n
    opt = Optimizer(model, gradient=gradient, param=param, popsize=popsize, step=step,
                    shaping=shaping, maxfev=maxfev, maxiter=maxiter, target=target,
                    tolspread=tolspread, patience=patience, seed=seed, invalid=invalid,
                    **options)
    return run(opt, f, vectorized=vectorized, callback=callback)


def run(opt: Optimizer, f: Callable, *, vectorized: bool = False,
        callback: Callable | None = None) -> OptimizeResult:
    """Drive an existing :class:`Optimizer` until one of its stopping criteria holds."""
    while not opt.stop():
        X = opt.ask()
        ev = evaluate(f, X, vectorized=vectorized, invalid=opt.invalid)
        opt.tell(X, ev.values)
        if callback is not None:
            try:
                if callback(opt.result()) is True:
                    break
            except StopIteration:
                break
    result = opt.result()
    if not result.stop:
        result.message = "stopped by the callback"
    return result
