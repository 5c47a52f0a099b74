"""``relax.minimize``: the ask → evaluate → tell loop, shaped like ``scipy.optimize.minimize``."""

from __future__ import annotations

from collections.abc import Callable

from scipy.optimize import OptimizeResult

from relax.direction import check_choice
from relax.evaluate import evaluate
from relax.models.base import ExponentialFamily, as_rng, check_model
from relax.optimizer import Optimizer, _int
from relax.restart import STRATEGIES, initial_model, run_with_restarts


def minimize(
    f: Callable,
    model: ExponentialFamily | Callable,
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
    restarts: int = 0,
    restart: str = "ipop",
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
    model : ExponentialFamily or callable
        Initial distribution, e.g. ``Gaussian(x0, sigma0**2)`` or ``Bernoulli(n)``; or a
        callable ``model(rng) -> ExponentialFamily`` drawing a fresh one for every run
        (e.g. ``lambda rng: Gaussian(rng.uniform(-4, 4, n), 4.0)``: restarts then start
        from new points).
    callback : callable, optional
        Called after every iteration as ``callback(intermediate_result)`` with an
        ``OptimizeResult`` (as scipy does); returning ``True`` or raising ``StopIteration``
        stops the run.
    invalid : {"raise", "worst"}
        What to do when f returns NaN/inf or raises (see :mod:`relax.evaluate`).
    restarts : int
        How many times a run that stopped by itself (converged or stuck) may start again
        from the initial model, within the same ``maxfev`` (see :mod:`relax.restart`).
    restart : {"ipop", "bipop"}
        The restart strategy: IPOP doubles the population each time; BIPOP interleaves
        doubled populations with small, local runs.

    Returns
    -------
    OptimizeResult
        ``x`` (best point seen), ``fun``, ``nfev``, ``nit``, ``success``, ``message``,
        ``model`` (the final distribution), ``history`` (per-iteration arrays) and, with
        restarts, ``restarts`` (one dict per run: regime, popsize, nfev, nit, best_f, stop).
    """
    if not callable(f):
        raise ValueError(f"f must be callable; got {f!r}")
    restarts = _int("restarts", restarts, 0)
    check_choice("restart", restart, STRATEGIES)
    rng = as_rng(seed)
    first = check_model(initial_model(model, rng))
    if maxfev is None and maxiter is None:
        maxfev = 10_000 * first.n
    settings = dict(gradient=gradient, param=param, step=step, shaping=shaping,
                    target=target, tolspread=tolspread, patience=patience, invalid=invalid,
                    **options)

    def drive(opt, cb):
        return run(opt, f, vectorized=vectorized, callback=cb)

    if not restarts:
        return drive(Optimizer(first, popsize=popsize, maxfev=maxfev, maxiter=maxiter,
                               seed=rng, **settings), callback)

    def make(start, size, run_fev, run_iter, rng):
        return Optimizer(start, popsize=size or popsize, maxfev=run_fev, maxiter=run_iter,
                         seed=rng, **settings)

    starts = iter([first])
    return run_with_restarts(make, drive, lambda g: next(starts, None) or initial_model(model, g),
                             restarts=restarts, strategy=restart, maxfev=maxfev,
                             maxiter=maxiter, seed=rng, callback=callback)


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
