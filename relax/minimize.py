"""``relax.minimize``: the ask → evaluate → tell loop, shaped like ``scipy.optimize.minimize``;
``relax.resume``: the same loop, continued from a checkpoint.

One iteration: ``ask`` a batch, evaluate it (:class:`relax.evaluate.Evaluator`: here, on
relax's process pool, on any executor or a Dask cluster), under ``invalid="resample"``
replace the failed rows by fresh draws (at most ``max_resamples`` times each), ``tell``,
write the checkpoint if it is due, call the callback.

Nothing found is lost: a failure under ``invalid="raise"`` raises
:class:`~relax.evaluate.EvaluationError` and Ctrl-C (or SIGTERM under ``relax run``) raises
:class:`~relax.interrupts.Interrupted`, both carrying ``.result`` — the best point so far —
after the checkpoint, if one was asked for, has been written.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.optimize import OptimizeResult

from relax import checkpoint as checkpoints
from relax import interrupts, validate
from relax.direction import check_choice
from relax.evaluate import EvaluationError, Evaluator, check_values
from relax.models.base import ExponentialFamily, as_rng, check_model
from relax.optimizer import Optimizer
from relax.restart import STRATEGIES, _merge, initial_model, run_with_restarts

#: Default bound on the replacements of one failed row in one iteration.
MAX_RESAMPLES = 10


def minimize(
    f: Callable,
    model: ExponentialFamily | Callable,
    *,
    gradient: str = "natural",
    param: str = "auto",
    popsize: int | None = None,
    step=None,
    shaping: str = "auto",
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
    workers: int | None = None,
    executor=None,
    timeout: float | None = None,
    max_resamples: int = MAX_RESAMPLES,
    checkpoint: str | Path | checkpoints.Checkpointer | None = None,
    checkpoint_every: int | None = None,
    device: str = "cpu",
    device_f: bool = True,
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
    invalid : {"raise", "worst", "resample"}
        What to do when an evaluation fails — f raises, returns NaN/inf or no number, its
        worker dies, it outlives ``timeout`` (see :mod:`relax.evaluate`).
    restarts : int
        How many times a run that stopped by itself (converged or stuck) may start again
        from the initial model, within the same ``maxfev`` (see :mod:`relax.restart`).
    restart : {"ipop", "bipop"}
        The restart strategy: IPOP doubles the population each time; BIPOP interleaves
        doubled populations with small, local runs.
    workers : int, optional
        Evaluate on a process pool of this many processes (f must pickle); results are
        those of the serial run, bit for bit (see :mod:`relax.executors`).
    executor : concurrent.futures.Executor, optional
        Evaluate on this executor instead, e.g. ``distributed.Client(...).get_executor()``.
    timeout : float, optional
        Seconds one evaluation may take on ``workers``/``executor``; a longer one fails.
    max_resamples : int
        Under ``invalid="resample"``, how many times one failed row may be replaced in an
        iteration before it is ranked last.
    checkpoint : str or Path, optional
        Write a checkpoint here (atomically: :mod:`relax.checkpoint`) every
        ``checkpoint_every`` iterations (default: at most once a minute), at the end, on
        Ctrl-C and on a failure under ``invalid="raise"``; :func:`resume` continues it.
        Not with ``restarts`` (a checkpoint holds one optimizer, not a restart schedule).
    device : {"cpu", "gpu"}
        Where the sample, the estimates and the search state live (see
        :class:`Optimizer`); ``"gpu"`` needs ``pip install "relax[gpu]"``.
    device_f : bool
        On the GPU, a vectorized f gets the batch as a cupy array (True, default; convert
        it to torch or JAX through DLPack) or as numpy (False).  A per-point f and f on
        ``workers``/``executor`` always get numpy rows.

    Returns
    -------
    OptimizeResult
        ``x`` (best point seen), ``fun``, ``nfev``, ``nit``, ``success``, ``message``,
        ``model`` (the final distribution), ``history`` (per-iteration arrays),
        ``nfailed``, ``nskipped`` and, with restarts, ``restarts`` (one dict per run:
        regime, popsize, nfev, nit, best_f, stop).

    Raises
    ------
    EvaluationError
        Under ``invalid="raise"``, with ``.result`` (best so far) and ``.optimizer``.
    Interrupted
        On Ctrl-C (a ``KeyboardInterrupt``), with ``.result``.
    """
    restarts = validate.integer("restarts", restarts, 0)
    check_choice("restart", restart, STRATEGIES)
    callback = validate.optional_callable("callback", callback)
    max_resamples = validate.integer("max_resamples", max_resamples, 0)
    rng = as_rng(validate.seed(seed))
    first = check_model(initial_model(model, rng))
    if maxfev is None and maxiter is None:
        maxfev = 10_000 * first.n
    settings = dict(gradient=gradient, param=param, step=step, shaping=shaping,
                    target=target, tolspread=tolspread, patience=patience, invalid=invalid,
                    device=device, **options)
    with Evaluator(f, vectorized=vectorized, workers=workers, executor=executor,
                   timeout=timeout, device_f=device_f) as evaluator:
        saver = _checkpointer(checkpoint, checkpoint_every, evaluator, max_resamples)
        if saver is not None and restarts:
            raise ValueError("checkpoint cannot be combined with restarts (a checkpoint holds "
                             "one optimizer, not the restart schedule); drop one of them")
        if not restarts:
            opt = Optimizer(first, popsize=popsize, maxfev=maxfev, maxiter=maxiter, seed=rng,
                            **settings)
            return loop(opt, evaluator, callback=callback, max_resamples=max_resamples,
                        checkpointer=saver)
        return _with_restarts(model, first, evaluator, settings, popsize=popsize,
                              maxfev=maxfev, maxiter=maxiter, rng=rng, restarts=restarts,
                              restart=restart, callback=callback, max_resamples=max_resamples)


def _with_restarts(model, first, evaluator, settings, *, popsize, maxfev, maxiter, rng,
                   restarts, restart, callback, max_resamples) -> OptimizeResult:
    """:func:`relax.restart.run_with_restarts` over :func:`loop`; an error or interruption
    carries the result over every run so far."""
    driven: list[Optimizer] = []

    def make(start, size, run_fev, run_iter, rng):
        return Optimizer(start, popsize=size or popsize, maxfev=run_fev, maxiter=run_iter,
                         seed=rng, **settings)

    def drive(opt, cb):
        driven.append(opt)
        return loop(opt, evaluator, callback=cb, max_resamples=max_resamples)

    starts = iter([first])
    try:
        return run_with_restarts(
            make, drive, lambda g: next(starts, None) or initial_model(model, g),
            restarts=restarts, strategy=restart, maxfev=maxfev, maxiter=maxiter, seed=rng,
            callback=callback)
    except (EvaluationError, interrupts.Interrupted) as error:
        if error.result is not None and driven:
            error.result = _over_runs(driven, error.result)
        raise


def _over_runs(driven: list[Optimizer], last: OptimizeResult) -> OptimizeResult:
    """The partial result of the last run merged with the runs before it."""
    results = [opt.result() for opt in driven[:-1]] + [last]
    best = min(results, key=lambda r: r.fun)
    total = {"nfev": sum(r.nfev for r in results), "nit": sum(r.nit for r in results)}
    runs = [{"popsize": opt.popsize, "nfev": r.nfev, "nit": r.nit, "best_f": r.fun,
             "stop": sorted(r.stop), "message": r.message}
            for opt, r in zip(driven, results, strict=True)]
    merged = _merge(results, runs, {"fun": best.fun, "x": best.x}, total)
    merged.update(success=False, status=1, message=last.message)
    return merged


def _checkpointer(checkpoint, every, evaluator: Evaluator, max_resamples: int):
    """A :class:`~relax.checkpoint.Checkpointer` for ``checkpoint`` (a path or one already
    built), whose context lets :func:`resume` continue without being told f when f
    pickles."""
    if checkpoint is None:
        if every is not None:
            raise ValueError("checkpoint_every needs checkpoint=PATH")
        return None
    if isinstance(checkpoint, checkpoints.Checkpointer):
        return checkpoint
    if not isinstance(checkpoint, str | Path):
        raise ValueError(f"checkpoint must be a file path or None; got {checkpoint!r}")
    try:
        pickle.dumps(evaluator.f)
        f = evaluator.f
    except Exception:  # noqa: BLE001 - then resume(path, f) needs f
        f = None
    return checkpoints.Checkpointer(checkpoint, every, f=f, vectorized=evaluator.vectorized,
                                    workers=evaluator.workers, timeout=evaluator.timeout,
                                    max_resamples=max_resamples, checkpoint_every=every,
                                    device_f=evaluator.device_f)


def run(opt: Optimizer, f: Callable, *, vectorized: bool = False,
        callback: Callable | None = None, workers: int | None = None, executor=None,
        timeout: float | None = None, max_resamples: int = MAX_RESAMPLES,
        checkpoint: str | Path | checkpoints.Checkpointer | None = None,
        checkpoint_every: int | None = None, device_f: bool = True) -> OptimizeResult:
    """Drive an existing :class:`Optimizer` until one of its stopping criteria holds
    (options as in :func:`minimize`).  A pending batch (an optimizer loaded from a
    checkpoint taken between ``ask`` and ``tell``) is evaluated first."""
    callback = validate.optional_callable("callback", callback)
    max_resamples = validate.integer("max_resamples", max_resamples, 0)
    with Evaluator(f, vectorized=vectorized, workers=workers, executor=executor,
                   timeout=timeout, device_f=device_f) as evaluator:
        saver = _checkpointer(checkpoint, checkpoint_every, evaluator, max_resamples)
        return loop(opt, evaluator, callback=callback, max_resamples=max_resamples,
                    checkpointer=saver)


def loop(opt: Optimizer, evaluate: Evaluator, *, callback: Callable | None = None,
         max_resamples: int = MAX_RESAMPLES,
         checkpointer: checkpoints.Checkpointer | None = None) -> OptimizeResult:
    """The loop itself (see the module docstring); ``evaluate`` maps a batch to an
    :class:`~relax.evaluate.Evaluation`."""
    with interrupts.guard():
        try:
            stopped = _iterate(opt, evaluate, callback, max_resamples, checkpointer)
        except EvaluationError as error:
            if error.result is None:
                error.result, error.optimizer = opt.result(), opt
            _final_checkpoint(opt, checkpointer)
            raise
        except KeyboardInterrupt as error:
            signum = getattr(error, "signum", interrupts.signal.SIGINT)
            result = opt.result()
            result.update(success=False, status=1,
                          message=f"interrupted by {interrupts.signal.Signals(signum).name} "
                                  f"after {result.nit} iterations")
            _final_checkpoint(opt, checkpointer)
            raise interrupts.Interrupted(signum, result) from None
        _final_checkpoint(opt, checkpointer)
    result = opt.result()
    if stopped:
        result.message = "stopped by the callback"
    return result


def _iterate(opt, evaluate, callback, max_resamples, checkpointer) -> bool:
    """Iterate until a stopping rule holds (False) or the callback stops the run (True)."""
    while not opt.stop():
        with interrupts.critical():
            X = opt.ask()
        X, ev = _evaluated(opt, evaluate, X, max_resamples)
        with interrupts.critical():
            if opt.invalid == "raise" and ev.failures:
                _raise_failure(opt, X, ev)
            opt.tell(X, ev.values)
            if checkpointer is not None:
                checkpointer.after_tell(opt)
        if callback is not None:
            try:
                if callback(opt.result()) is True:
                    return True
            except StopIteration:
                return True
    return False


def _evaluated(opt: Optimizer, evaluate: Evaluator, X: np.ndarray, max_resamples: int):
    """X and its evaluation; under ``invalid="resample"`` failed rows are replaced by
    fresh draws (:meth:`Optimizer.resample`) up to ``max_resamples`` times."""
    ev = evaluate(X)
    if opt.invalid != "resample":
        return X, ev
    for _ in range(max_resamples):
        rows = np.flatnonzero(~ev.valid)
        if not rows.size:
            break
        with interrupts.critical():
            X = opt.resample(rows)
        ev = ev.replaced(rows, evaluate(X[rows]))
    return X, ev


def _raise_failure(opt: Optimizer, X: np.ndarray, ev) -> None:
    """The :class:`EvaluationError` of a batch with failures, carrying the partial result
    (the batch stays pending in ``opt``)."""
    try:
        check_values(ev.values, X, "raise", ev.failures)
    except EvaluationError as error:
        error.result = opt.partial_result(X, ev.values, str(error))
        error.optimizer = opt
        raise


def _final_checkpoint(opt: Optimizer, checkpointer) -> None:
    if checkpointer is not None:
        with interrupts.critical():
            checkpointer.write(opt)


def resume(path: str | Path, f: Callable | None = None, *, vectorized: bool | None = None,
           callback: Callable | None = None, workers: int | None = None, executor=None,
           timeout: float | None = None, max_resamples: int | None = None,
           checkpoint: str | Path | None = None,
           checkpoint_every: int | None = None, device: str | None = None,
           device_f: bool | None = None) -> OptimizeResult:
    """Continue the run checkpointed in ``path`` to its end, as :func:`minimize` would have
    without the interruption (the same result, bit for bit, for a deterministic f).

    ``f`` defaults to the one stored in the checkpoint (stored when it pickles: a function
    defined at module level); ``vectorized``, ``timeout`` and ``max_resamples`` default to
    the run's.  Checkpoints go on being written to ``checkpoint`` (default: ``path``
    itself).  ``device`` continues the run on "cpu" or "gpu" (default: where it ran; a
    GPU run resumes on the CPU and back) and ``device_f`` defaults to the run's.
    Checkpoints are pickles: resume only files you trust.
    """
    saved = checkpoints.read(path)
    context = saved.context
    f = context.get("f") if f is None else f
    if f is None:
        raise ValueError(f"checkpoint {str(path)!r} does not hold f (it did not pickle): pass "
                         "it, relax.resume(path, f)")
    vectorized = context.get("vectorized", False) if vectorized is None else vectorized
    if workers is None and executor is None:
        workers = context.get("workers")
    if timeout is None and (workers is not None or executor is not None):
        timeout = context.get("timeout")
    if max_resamples is None:
        max_resamples = context.get("max_resamples", MAX_RESAMPLES)
    if checkpoint_every is None:
        checkpoint_every = context.get("checkpoint_every")
    if device_f is None:
        device_f = context.get("device_f", True)
    opt = saved.optimizer if device is None else saved.optimizer.to(device)
    return run(opt, f, vectorized=vectorized, callback=callback, workers=workers,
               executor=executor, timeout=timeout, max_resamples=max_resamples,
               checkpoint=path if checkpoint is None else checkpoint,
               checkpoint_every=checkpoint_every, device_f=device_f)
