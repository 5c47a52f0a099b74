"""f on a process pool, any Executor or a Dask cluster: the serial run's results, bit for
bit; workers that raise, die (``os._exit``) or hang, under each failure policy.

The functions sent to worker processes live at module level (they travel by pickle)."""

import os
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest

import relax
from relax import EvaluationError, Gaussian
from relax.evaluate import Evaluator
from relax.minimize import run as drive


def sphere(x):
    return float(np.sum(x * x))


def sphere_batch(X):
    return np.sum(X * X, axis=1)


def dies_right(x):
    """os._exit (the worker process dies) for points right of 1.5."""
    if x[0] > 1.5:
        os._exit(3)
    return sphere(x)


def raises_right(x):
    if x[0] > 1.5:
        raise RuntimeError("simulator crashed")
    return sphere(x)


def hangs_right(x):
    if x[0] > 1.8:
        time.sleep(60)
    return sphere(x)


def odd_values(x):
    """A value that is not a number for some points, NaN for others."""
    if x[0] > 1.8:
        return None
    if x[1] > 1.8:
        return "abc"
    if x[2] > 1.8:
        return np.nan
    return sphere(x)


def start():
    return Gaussian(np.ones(4), 1.0)


RUN = {"seed": 1, "maxiter": 25}


def same(a, b):
    np.testing.assert_array_equal(a.x, b.x)
    assert (a.fun, a.nfev, a.nit) == (b.fun, b.nfev, b.nit)
    assert set(a.history) == set(b.history)
    for key in a.history:
        np.testing.assert_array_equal(a.history[key], b.history[key])


@pytest.fixture(scope="module")
def serial():
    return relax.minimize(sphere, start(), **RUN)


@pytest.fixture(scope="module")
def dask_executor():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                       protocol="tcp", host="127.0.0.1",
                                       dashboard_address=None)
    client = distributed.Client(cluster)
    yield client.get_executor()
    client.close()
    cluster.close()


def test_process_pool_gives_the_serial_result(serial):
    same(serial, relax.minimize(sphere, start(), workers=2, **RUN))


def test_any_executor_gives_the_serial_result(serial):
    with ProcessPoolExecutor(2) as pool:
        same(serial, relax.minimize(sphere, start(), executor=pool, **RUN))
    with ThreadPoolExecutor(3) as pool:
        same(serial, relax.minimize(sphere, start(), executor=pool, **RUN))


def test_dask_cluster_gives_the_serial_result(serial, dask_executor):
    same(serial, relax.minimize(sphere, start(), executor=dask_executor, **RUN))


def test_vectorized_f_on_a_pool_gives_the_serial_result(serial):
    same(serial, relax.minimize(sphere_batch, start(), vectorized=True, workers=2, **RUN))


def test_results_come_back_in_submission_order():
    """Later rows finish first; the values still come back row by row."""
    X = np.linspace(0.0, 1.0, 12)[:, None] * np.ones((1, 3))
    with ThreadPoolExecutor(4) as pool, Evaluator(slower_first, executor=pool) as evaluate:
        ev = evaluate(X)
    np.testing.assert_array_equal(ev.values, [sphere(x) for x in X])


def slower_first(x):
    time.sleep(0.05 * (1.0 - x[0]))
    return sphere(x)


@pytest.mark.parametrize("f", [dies_right, raises_right], ids=["os._exit", "raises"])
def test_raise_policy_keeps_the_best_so_far(f):
    with pytest.raises(EvaluationError, match="at row") as info:
        relax.minimize(f, start(), workers=2, **RUN)
    error = info.value
    assert error.failures and error.failures[0].kind == ("lost" if f is dies_right
                                                         else "raised")
    res, opt = error.result, error.optimizer
    assert not res.success and res.fun == sphere(res.x) and res.fun <= opt.state.best_f
    assert res.nfev == opt.state.nfev + opt.popsize  # the failing batch counts
    assert opt.pending is not None  # the failing batch: fix f and go on
    assert drive(opt, sphere).nit == RUN["maxiter"]  # with f fixed, the run goes on


@pytest.mark.parametrize("f", [dies_right, raises_right], ids=["os._exit", "raises"])
@pytest.mark.parametrize("invalid", ["worst", "resample"])
def test_worst_and_resample_go_on_past_failures(f, invalid):
    """The pool is rebuilt after a worker died; failed rows are counted and never reach the
    model; the run ends normally."""
    res = relax.minimize(f, start(), workers=2, invalid=invalid, **RUN)
    assert res.nit == RUN["maxiter"] and res.nfailed > 0
    assert res.history["failed"].sum() == res.nfailed
    assert np.all(np.isfinite(res.model.theta)) and res.fun < 1.0
    popsize = 8
    if invalid == "worst":
        assert res.nfev == popsize * res.nit
    else:  # the replaced evaluations count as well
        assert popsize * res.nit < res.nfev <= popsize * res.nit + res.nfailed


def test_resample_tells_complete_batches():
    """Failed rows are replaced by draws from the model until they evaluate: every told
    batch is finite, and nfev counts the told rows and the replaced ones."""
    told = []
    opt = relax.Optimizer(start(), seed=2, invalid="resample", maxiter=10)
    tell = opt.tell

    def spy(X, fX):
        told.append(np.asarray(fX).copy())
        tell(X, fX)

    opt.tell = spy
    out = drive(opt, raises_right, workers=2)
    assert out.nfailed > 0 and all(np.all(np.isfinite(v)) for v in told)
    assert out.nfev == sum(v.size for v in told) + out.nfailed


def test_max_resamples_bounds_the_redraws():
    """A point that always fails is redrawn max_resamples times, then ranked last."""
    res = relax.minimize(lambda x: np.nan, start(), invalid="resample", max_resamples=3,
                         seed=0, maxiter=2)
    assert res.nfailed == res.nfev and res.nfev == 2 * 8 * (1 + 3)
    assert not res.success and res.x is None and "no valid evaluation" in res.message


def test_a_hung_evaluation_times_out_and_its_siblings_are_rerun():
    """The pool is killed to stop the hung rows; the rows running beside them are
    evaluated again, so only the hung ones fail."""
    X = np.zeros((6, 3))
    X[[1, 4], 0] = 2.0
    started = time.monotonic()
    with Evaluator(hangs_right, workers=2, timeout=1.0) as evaluate:
        ev = evaluate(X)
        assert [(f.row, f.kind) for f in ev.failures] == [(1, "timeout"), (4, "timeout")]
        np.testing.assert_array_equal(ev.values[[0, 2, 3, 5]], 0.0)
        again = evaluate(X[[0, 2]])  # the rebuilt pool works
    assert not again.failures and time.monotonic() - started < 20
    res = relax.minimize(hangs_right, start(), workers=2, invalid="worst", timeout=1.0,
                         seed=1, maxiter=3)
    assert res.nit == 3 and res.nfailed == res.history["failed"].sum() >= 1


def test_non_numeric_values_fail_like_any_other():
    opt = relax.Optimizer(start(), seed=1)
    X = opt.ask()
    X[0, 0], X[1, 1], X[2, 2] = 2.0, 2.0, 2.0
    for where in ({}, {"workers": 2}):
        with Evaluator(odd_values, **where) as evaluate:
            ev = evaluate(X)
        kinds = {f.row: f.kind for f in ev.failures}
        assert kinds == {0: "non-numeric", 1: "non-numeric", 2: "non-finite"}
        assert np.all(np.isfinite(ev.values[3:]))


def test_a_vectorized_f_that_raises_follows_the_policy():
    def f(X):
        raise RuntimeError("solver down")

    res = relax.minimize(f, start(), vectorized=True, invalid="worst", seed=0, maxiter=3)
    assert res.nit == 3 and res.nskipped == 3 and res.nfailed == res.nfev
    with pytest.raises(EvaluationError, match="solver down.*on the batch"):
        relax.minimize(f, start(), vectorized=True, seed=0, maxiter=3)


def test_a_broken_executor_that_is_not_ours_is_a_clear_error():
    pool = ProcessPoolExecutor(1)
    pool.shutdown()
    with pytest.raises(EvaluationError, match="cannot take tasks any more") as info:
        relax.minimize(sphere, start(), executor=pool, **RUN)
    assert info.value.result is not None and info.value.result.nfev == 0


def test_workers_of_the_pool_ignore_ctrl_c():
    import signal

    with ProcessPoolExecutor(1) as probe:
        assert probe.submit(signal.getsignal, signal.SIGINT).result() \
            is not signal.SIG_IGN
    from relax.executors import OwnPool

    pool = OwnPool(1)
    try:
        assert pool.executor().submit(signal.getsignal, signal.SIGINT).result() \
            == signal.SIG_IGN
    finally:
        pool.close()
