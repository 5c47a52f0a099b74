"""device="gpu": the cupy backend and the CUDA Gibbs kernel, on a device.

Every test here carries the ``gpu`` marker and is skipped where cupy or a CUDA device is
missing (``pytest -m gpu`` runs them on a GPU machine; ``benchmarks/run_gpu.sh`` does).

- The kernel against exact enumeration (the CPU kernel's tests, :mod:`test_gibbs`): the
  stationary law after burn-in and the exact law of one sweep from a fixed state, with
  the same total-variation tolerances.
- The kernel against the numba kernel: same seeds, same chains (to the rare float32
  rounding at a decision, see :mod:`relax.gpu.gibbs`), and the same seeds give the same
  chains twice on the device.
- Whole runs: GPU and CPU runs of the same problems need statistically the same number of
  evaluations (their random numbers differ); the same seed repeats a GPU run bit for bit;
  a checkpoint taken on the GPU resumes on the CPU and back; a vectorized f gets cupy
  arrays (numpy with ``device_f=False``).
"""

from __future__ import annotations

import statistics
from dataclasses import replace

import numpy as np
import pytest
from test_gibbs import MODELS, N, empirical, exact_p, one_sweep_p, tv, tv_tolerance

import relax
from relax import backend, gibbs, graphs
from relax.backend import to_numpy

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not backend.gpu_available(),
                                 reason="needs cupy and a CUDA device")]


@pytest.fixture(scope="module")
def cp():
    return backend.cupy()


@pytest.mark.parametrize("name", list(MODELS))
def test_gpu_gibbs_matches_enumeration(cp, name):
    g, theta = MODELS[name]
    model = relax.Ising(g.n, g, theta, sampler="gibbs", burn_in=100, cluster_sweeps=0)
    X = model.on(backend.get("gpu")).sample(N, rng=1)
    assert isinstance(X, cp.ndarray)
    p = exact_p(g.n, g.interactions, theta)
    assert tv(empirical(to_numpy(X), g.n), p) < tv_tolerance(p, N)


@pytest.mark.parametrize("name", list(MODELS))
def test_gpu_one_sweep_transition_is_exact(cp, name):
    from relax.gpu import gibbs as gpu_gibbs

    g, theta = MODELS[name]
    x0 = np.where(np.arange(g.n) % 3 == 0, -1.0, 1.0)
    p = one_sweep_p(g.n, g.interactions, theta, np.asarray(g.colouring), x0)
    host = gibbs.couplings(gibbs.sweep_plan(g), theta[: g.n], theta[g.n:])
    chains = gibbs.new_chains(g.n, N, np.random.default_rng(2))
    chains = replace(chains, spins=np.repeat(x0[:, None], N, axis=1).astype(np.int8))
    swept = gpu_gibbs.sweep(gibbs.on(chains, backend.get("gpu")), gpu_gibbs.couplings(host))
    X = to_numpy(gibbs.samples(swept))
    assert tv(empirical(X, g.n), p) < tv_tolerance(p, N)


def test_gpu_kernel_reproduces_the_cpu_kernel(cp):
    from relax.gpu import gibbs as gpu_gibbs

    g = graphs.torus(64)
    rng = np.random.default_rng(3)
    host = gibbs.couplings(gibbs.sweep_plan(g), 0.1 * rng.standard_normal(g.n),
                           rng.standard_normal(len(g.interactions)))
    chains = gibbs.new_chains(g.n, 64, rng)
    device = gpu_gibbs.couplings(host)
    on_gpu = gibbs.on(chains, backend.get("gpu"))
    once = to_numpy(gpu_gibbs.sweep(on_gpu, device, 1).spins)
    cpu_once = gibbs.sweep(chains, host, 1).spins
    assert np.mean(once != cpu_once) <= 1e-4  # identical but for float32 ties
    twenty = gpu_gibbs.sweep(on_gpu, device, 20)
    again = gpu_gibbs.sweep(gpu_gibbs.sweep(on_gpu, device, 7), device, 13)
    np.testing.assert_array_equal(to_numpy(twenty.spins), to_numpy(again.spins))
    assert twenty.sweeps_done == again.sweeps_done == 20


def sphere(X):
    return (X * X).sum(axis=1)


def _nfev(model, f, device, seeds, **options):
    return [relax.minimize(f, model, seed=s, vectorized=True, device=device,
                           **options).nfev for s in seeds]


def test_gaussian_runs_on_gpu_match_cpu_runs(cp):
    model = relax.Gaussian(np.full(10, 3.0), 4.0)
    seeds = range(6)
    gpu = _nfev(model, sphere, "gpu", seeds, target=1e-8)
    cpu = _nfev(model, sphere, "cpu", seeds, target=1e-8)
    assert 0.8 <= statistics.median(gpu) / statistics.median(cpu) <= 1.25


def test_bernoulli_runs_on_gpu_match_cpu_runs(cp):
    def onemax(X):
        return (X < 0).sum(axis=1).astype(float)

    model = relax.Bernoulli(100)
    seeds = range(6)
    gpu = _nfev(model, onemax, "gpu", seeds, target=0)
    cpu = _nfev(model, onemax, "cpu", seeds, target=0)
    assert 0.75 <= statistics.median(gpu) / statistics.median(cpu) <= 1.33


def test_ising_runs_on_gpu_find_the_ground_state(cp):
    g = graphs.torus(8)
    pairs = np.array(g.interactions)

    def ferro(X):
        return -(X[:, pairs[:, 0]] * X[:, pairs[:, 1]]).sum(axis=1)

    for seed in range(3):
        res = relax.minimize(ferro, relax.Ising(g.n, g), seed=seed, vectorized=True,
                             device="gpu", device_f=False, target=-2 * g.n, maxfev=100_000)
        assert res.fun == -2 * g.n, res.message


def test_same_seed_same_gpu_run(cp):
    model = relax.Gaussian(np.full(8, 1.0), 1.0)
    a = relax.minimize(sphere, model, seed=5, vectorized=True, device="gpu", maxiter=50)
    b = relax.minimize(sphere, model, seed=5, vectorized=True, device="gpu", maxiter=50)
    assert a.fun == b.fun and isinstance(a.x, np.ndarray)
    np.testing.assert_array_equal(a.history["best_f"], b.history["best_f"])


@pytest.mark.parametrize("make", [lambda: relax.Gaussian(np.ones(6), 1.0),
                                  lambda: relax.Bernoulli(40),
                                  lambda: relax.Ising(36, graphs.torus(6))])
def test_gpu_checkpoint_resumes_on_cpu_and_back(cp, tmp_path, make):
    def f(X):
        X = to_numpy(X)
        return np.sum(X[:, :3], axis=1) + 0.1 * np.sum(X * X, axis=1)

    def drive(opt, iterations):
        for _ in range(iterations):
            X = opt.ask()
            opt.tell(X, f(X))
        return opt

    whole = drive(relax.Optimizer(make(), seed=1, device="gpu"), 12)
    half = drive(relax.Optimizer(make(), seed=1, device="gpu"), 6)
    path = tmp_path / "gpu.ckpt"
    half.save(path)
    back = drive(relax.Optimizer.load(path), 6)
    assert back.device == "gpu" and back.state.best_f == whole.state.best_f
    np.testing.assert_array_equal(back.model.theta, whole.model.theta)
    on_cpu = drive(relax.Optimizer.load(path, device="cpu"), 6)
    on_cpu.save(path)
    again = drive(relax.Optimizer.load(path, device="gpu"), 2)
    assert again.device == "gpu" and again.state.t == 14


def test_vectorized_f_gets_cupy_unless_device_f_is_false(cp):
    seen = []

    def f(X):
        seen.append(type(X).__module__.split(".")[0])
        return (X * X).sum(axis=1)

    model = relax.Gaussian(np.ones(3), 1.0)
    relax.minimize(f, model, device="gpu", vectorized=True, maxiter=2, seed=0)
    relax.minimize(f, model, device="gpu", vectorized=True, device_f=False, maxiter=2, seed=0)
    assert seen == ["cupy", "cupy", "numpy", "numpy"]


def test_relax_run_on_the_gpu(cp):
    from click.testing import CliRunner

    from relax.cli import main

    out = CliRunner().invoke(main, ["run", "sphere", "-n", "20", "--seed", "1", "--device",
                                    "gpu", "--json", "--quiet"])
    assert out.exit_code == 0, out.output
    assert '"device": "gpu"' in out.output
