"""Restarts (IPOP, BIPOP) through relax.minimize: schedule, one budget, the record of
every run, reproducibility, and every model kind."""

import numpy as np
import pytest

import relax
from relax import Bernoulli, DiagonalGaussian, Gaussian
from relax.restart import Regimes


def rastrigin(X):
    return 10 * X.shape[-1] + np.sum(X * X - 10 * np.cos(2 * np.pi * X), axis=-1)


def test_ipop_doubles_the_population_and_shares_one_budget():
    r = relax.minimize(rastrigin, Gaussian(np.full(5, 3.0), 4.0), seed=0, vectorized=True,
                       restarts=3, restart="ipop", maxfev=20_000)
    sizes = [run["popsize"] for run in r.restarts]
    assert sizes == [8 * 2**i for i in range(len(sizes))] and len(sizes) >= 2
    assert r.nfev == sum(run["nfev"] for run in r.restarts) <= 20_000
    assert r.nit == sum(run["nit"] for run in r.restarts) == len(r.history["nfev"])
    assert r.fun == min(run["best_f"] for run in r.restarts) == r.history["best_f"][-1]
    assert np.all(np.diff(r.history["nfev"]) > 0) and np.all(np.diff(r.history["best_f"]) <= 0)
    for run in r.restarts[:-1]:   # every run but the last stopped by its own rules
        assert run["stop"] and not set(run["stop"]) & {"maxfev", "target"}


def test_restarts_solve_rastrigin_where_one_run_does_not():
    f, model = rastrigin, Gaussian(np.full(10, 3.0), 4.0)
    single = relax.minimize(f, model, target=1e-8, seed=1, vectorized=True)
    assert single.fun > 1e-8 and single.nfev < 10_000  # stuck in a local minimum, stopped
    r = relax.minimize(f, lambda rng: Gaussian(rng.uniform(-4, 4, 10), 4.0), target=1e-8,
                       seed=1, vectorized=True, restarts=9, restart="ipop", maxfev=100_000)
    assert r.fun <= 1e-8 and r.success, r.message
    assert "target" in r.stop and r.restarts[-1]["stop"] == ["target"]


def test_bipop_interleaves_small_runs_with_less_budget():
    r = relax.minimize(rastrigin, Gaussian(np.full(10, 3.0), 4.0), seed=3, vectorized=True,
                       restarts=4, restart="bipop", maxfev=60_000)
    regimes = [run["regime"] for run in r.restarts]
    assert regimes[0] == "small" and "large" in regimes
    large = [run for run in r.restarts if run["regime"] == "large"]
    assert [run["popsize"] for run in large] == [10 * 2**i for i in range(1, len(large) + 1)]
    small = [run for run in r.restarts[1:] if run["regime"] == "small"]
    assert small, regimes
    for run in small:
        assert 10 <= run["popsize"] <= 10 * 2 ** len(large) and run["spread_factor"] <= 1
    assert len(large) <= 4


def test_bipop_schedule_follows_the_spent_budgets():
    reg = Regimes("bipop", 10, np.random.default_rng(0))
    reg.spent("small", 1000)
    assert reg.next(Gaussian(np.zeros(2), 1.0))[0] == "large"
    reg.spent("large", 3000)
    regime, popsize, factor, cap = reg.next(Gaussian(np.zeros(2), 1.0))
    assert regime == "small" and cap == 1500 and 0.01 <= factor <= 1 and 10 <= popsize <= 20
    assert reg.next(Bernoulli(3))[2] == 1.0  # binary models keep their spread


def test_same_seed_same_restarted_run():
    runs = [relax.minimize(rastrigin, lambda rng: Gaussian(rng.uniform(-4, 4, 4), 4.0),
                           seed=11, vectorized=True, restarts=3, restart="bipop",
                           maxfev=8000) for _ in range(2)]
    assert runs[0].restarts == runs[1].restarts
    np.testing.assert_array_equal(runs[0].x, runs[1].x)


@pytest.mark.parametrize("model", [DiagonalGaussian(np.full(4, 3.0), 4.0), Bernoulli(30)],
                         ids=["diagonal", "bernoulli"])
def test_every_model_restarts(model):
    if model.domain == "binary":
        def f(X):  # a trap: all −1 is a deceptive local optimum, all +1 the global one
            u = np.sum(X > 0, axis=-1)
            return np.where(u == X.shape[-1], -1.0 - X.shape[-1], -(X.shape[-1] - u))
    else:
        f = rastrigin
    r = relax.minimize(f, model, seed=0, vectorized=True, restarts=2, maxfev=30_000)
    assert len(r.restarts) >= 2 and r.nfev <= 30_000


def test_callback_sees_totals_over_all_runs():
    seen = []
    relax.minimize(rastrigin, Gaussian(np.full(3, 3.0), 4.0), seed=0, vectorized=True,
                   restarts=2, maxfev=6000, callback=lambda res: seen.append(res.nfev))
    assert np.all(np.diff(seen) > 0) and seen[-1] <= 6000


def test_bad_restart_arguments():
    for kwargs, match in [({"restarts": -1}, "restarts"), ({"restarts": 1.5}, "restarts"),
                          ({"restarts": 2, "restart": "lpop"}, "restart")]:
        with pytest.raises(ValueError, match=match):
            relax.minimize(rastrigin, Gaussian(np.zeros(2), 1.0), vectorized=True, **kwargs)
