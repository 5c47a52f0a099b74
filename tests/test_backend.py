"""The namespace-generic code under ``array_api_strict``: no numpy-only call slipped in.

Each search runs once on numpy and once with its arrays in ``array_api_strict`` (a strict,
minimal implementation of the array API standard that rejects everything outside it).  The
strict backend draws its random numbers from the same numpy Generator (then converts), so
both runs see the same sample and must agree to rounding: every batch, the best point and
the final model.  The helpers of :mod:`relax.backend` are held to their numpy twins, a run
moves between namespaces and pickles with numpy arrays only, and without cupy
``device="gpu"`` fails with the command that installs it.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import relax
from relax import backend, graphs
from relax.backend import DeviceUnavailable, to_numpy
from relax.estimate import EmpiricalFisher
from relax.shaping import tied_rank_weights

xps = pytest.importorskip("array_api_strict")
STRICT = backend.get("array_api_strict")
Array = type(xps.asarray(0.0))


def sphere(X):
    return np.sum(X * X, axis=1) + X[:, 0]


def onemax(X):
    return np.sum(X < 0, axis=1) + 1e-3 * np.arange(X.shape[0])  # no ties: ranks agree


def glass_on(g, seed=0):
    J = np.random.default_rng(seed).choice([-1.0, 1.0], len(g.interactions))
    pairs = np.array(g.interactions)
    return lambda X: -np.sum(J * X[:, pairs[:, 0]] * X[:, pairs[:, 1]], axis=1)


def run_pair(model, f, iterations, **options):
    """The numpy run and the strict run of the same seed, told the same values; asserts
    that their batches agree, returns both optimizers."""
    a = relax.Optimizer(model, seed=1, **options)
    b = relax.Optimizer(model, seed=1, device=STRICT, **options)
    for _ in range(iterations):
        Xa, Xb = a.ask(), b.ask()
        assert isinstance(Xb, Array)
        np.testing.assert_allclose(to_numpy(Xb), Xa, rtol=1e-9, atol=1e-12)
        values = f(Xa)
        a.tell(Xa, values)
        b.tell(Xb, values)
    assert a.state.t == b.state.t == iterations
    assert a.state.best_f == pytest.approx(b.state.best_f, rel=1e-9, abs=1e-12)
    return a, b


def assert_models_close(a, b):
    ma, mb = a.model, b.model
    assert isinstance(mb.theta, np.ndarray)  # results come back as numpy
    np.testing.assert_allclose(mb.theta, ma.theta, rtol=1e-7, atol=1e-9)


GAUSSIAN_CASES = {
    "gaussian, chart eta": (lambda: relax.Gaussian(np.ones(5), 1.0), {}),
    "gaussian, chart theta": (lambda: relax.Gaussian(np.ones(5), 1.0), {"param": "theta"}),
    "gaussian, n = 12, unmirrored": (lambda: relax.Gaussian(np.ones(12), 0.5),
                                     {"mirrored": False}),
    "diagonal": (lambda: relax.DiagonalGaussian(np.ones(5), 1.0), {}),
    "plain natural": (lambda: relax.Gaussian(np.ones(4), 1.0), {"adapt": "none"}),
    "plain vanilla theta": (lambda: relax.Gaussian(np.ones(3), 1.0),
                            {"gradient": "vanilla", "step": 0.01, "param": "theta"}),
    "plain vanilla eta": (lambda: relax.Gaussian(np.ones(3), 1.0),
                          {"gradient": "vanilla", "step": 0.01, "param": "eta"}),
    "plain diagonal": (lambda: relax.DiagonalGaussian(np.ones(4), 1.0), {"adapt": "none"}),
}


@pytest.mark.parametrize("name", list(GAUSSIAN_CASES))
def test_gaussian_searches_under_array_api_strict(name):
    make, options = GAUSSIAN_CASES[name]
    a, b = run_pair(make(), sphere, 40, **options)
    assert_models_close(a, b)
    assert b.state.history.arrays()["spread"][-1] == pytest.approx(
        a.state.history.arrays()["spread"][-1], rel=1e-9)


BINARY_CASES = {
    "bernoulli": (lambda: relax.Bernoulli(30), onemax, {}),
    "bernoulli, chart theta": (lambda: relax.Bernoulli(30), onemax, {"param": "theta"}),
    "bernoulli, empirical Fisher": (lambda: relax.Bernoulli(30), onemax,
                                    {"fisher": "empirical"}),
    "ising 6x6 torus (Gibbs + Swendsen-Wang)": (
        lambda: relax.Ising(36, graphs.torus(6)), glass_on(graphs.torus(6)), {}),
    "ising, third order": (
        lambda: relax.Ising(24, [(0, 1, 2), (3, 4), (5, 6, 7), (2, 9)]), onemax, {}),
}


@pytest.mark.parametrize("name", list(BINARY_CASES))
def test_binary_searches_under_array_api_strict(name):
    make, f, options = BINARY_CASES[name]
    a, b = run_pair(make(), f, 12, **options)
    assert_models_close(a, b)


@pytest.mark.parametrize("method", ["dense", "woodbury", "cg"])
def test_empirical_fisher_under_array_api_strict(method):
    rng = np.random.default_rng(0)
    T = rng.choice([-1.0, 1.0], size=(40, 25))
    g = rng.standard_normal(25)
    ref = EmpiricalFisher(T, ridge=1e-3, shrinkage="auto", method=method, cg_rtol=1e-12)
    strict = EmpiricalFisher(xps.asarray(T), ridge=1e-3, shrinkage="auto", method=method,
                             cg_rtol=1e-12)
    np.testing.assert_allclose(to_numpy(strict.apply(xps.asarray(g))), ref.apply(g),
                               rtol=1e-12)
    np.testing.assert_allclose(to_numpy(strict.solve(xps.asarray(g))), ref.solve(g),
                               rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("values", [[3.0, 1.0, 2.0, 5.0, 0.5], [1.0, 1.0, 2.0, 0.0, 2.0]])
def test_rank_weights_under_array_api_strict(values):
    v = np.array(values)
    w = np.linspace(0.4, -0.3, 7)
    got = tied_rank_weights(xps.asarray(v), xps.asarray(w))
    np.testing.assert_array_equal(to_numpy(got), tied_rank_weights(v, w))


def test_helpers_match_numpy():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((5, 5))
    P = A @ A.T + 5 * np.eye(5)
    B = rng.standard_normal((5, 3))
    L = np.linalg.cholesky(P)
    S = xps.asarray
    np_ = backend.CPU
    cases = {
        "rowdot": (STRICT.rowdot(S(A), S(B @ B.T)), np_.rowdot(A, B @ B.T)),
        "coldot": (STRICT.coldot(S(A), S(A)), np_.coldot(A, A)),
        "diagonal": (STRICT.diagonal(S(A)), np.diag(A)),
        "add_diagonal": (STRICT.add_diagonal(S(A), S(np.arange(5.0))),
                         A + np.diag(np.arange(5.0))),
        "outer": (STRICT.outer(S(A[0]), S(A[1])), np.outer(A[0], A[1])),
        "cholesky": (STRICT.cholesky(S(P)), L),
        "solve_triangular": (STRICT.solve_triangular(S(L), S(B)), np.linalg.solve(L, B)),
        "cho_solve": (STRICT.cho_solve(S(L), S(B)), np.linalg.solve(P, B)),
        "inv": (STRICT.inv(S(P)), np.linalg.inv(P)),
        "eigh values": (STRICT.eigh(S(P))[0], np.linalg.eigh(P)[0]),
        "pm1": (STRICT.pm1(S(A) > 0), np.where(A > 0, 1.0, -1.0)),
    }
    for name, (got, expected) in cases.items():
        np.testing.assert_allclose(to_numpy(got), expected, rtol=1e-10, atol=1e-12,
                                   err_msg=name)
    with pytest.raises(np.linalg.LinAlgError):
        STRICT.cholesky(S(-P))


def test_a_run_moves_between_namespaces_and_pickles_as_numpy(tmp_path):
    """A strict run pickled (as a GPU run is) holds numpy arrays only, resumes on its
    namespace exactly as the uninterrupted run, and continues on the CPU as well."""
    def drive(opt, iterations):
        for _ in range(iterations):
            X = opt.ask()
            opt.tell(X, sphere(to_numpy(X)))
        return opt

    model = relax.Gaussian(np.ones(4), 1.0)
    whole = drive(relax.Optimizer(model, seed=3, device=STRICT), 20)
    half = drive(relax.Optimizer(model, seed=3, device=STRICT), 10)
    half.ask()  # a pending batch crosses the pickle too
    path = tmp_path / "run.ckpt"
    half.save(path)
    data = pickle.dumps(half)
    assert b"array_api_strict._array_object" not in data

    resumed = drive(relax.Optimizer.load(path), 10)
    assert resumed.device == "array_api_strict"
    assert isinstance(resumed.state.search.frame.mean, Array)
    assert resumed.state.best_f == whole.state.best_f
    np.testing.assert_array_equal(resumed.model.mean(), whole.model.mean())

    on_cpu = drive(relax.Optimizer.load(path, device="cpu"), 10)
    assert on_cpu.device == "cpu" and isinstance(on_cpu.state.search.frame.mean, np.ndarray)
    np.testing.assert_allclose(on_cpu.model.mean(), whole.model.mean(), rtol=1e-8)


def test_binary_run_moves_to_the_cpu_and_back():
    model = relax.Ising(36, graphs.torus(6))
    f = glass_on(graphs.torus(6))
    opt = relax.Optimizer(model, seed=2, device=STRICT)
    for device in ("cpu", STRICT, "cpu"):
        for _ in range(3):
            X = opt.ask()
            opt.tell(X, f(to_numpy(X)))
        opt.to(device)
    assert isinstance(opt.state.search.model.theta, np.ndarray)
    assert isinstance(opt.state.search.chains.spins, np.ndarray)
    assert opt.state.t == 9


def test_vectorized_f_gets_the_namespace_or_numpy():
    seen = []

    def f(X):
        seen.append(type(X))
        return xps.sum(X * X, axis=1) if isinstance(X, Array) else np.sum(X * X, axis=1)

    model = relax.Gaussian(np.ones(3), 1.0)
    relax.minimize(f, model, device=STRICT, vectorized=True, maxiter=3, seed=0)
    relax.minimize(f, model, device=STRICT, vectorized=True, device_f=False, maxiter=3,
                   seed=0)
    relax.minimize(lambda x: float(np.sum(x * x)), model, device=STRICT, maxiter=2, seed=0)
    assert seen == [Array] * 3 + [np.ndarray] * 3


def test_device_is_validated_and_an_exact_ising_model_stays_on_the_cpu():
    with pytest.raises(ValueError, match="device must be 'cpu' or 'gpu'"):
        relax.Optimizer(relax.Bernoulli(5), device="tpu")
    with pytest.raises(ValueError, match="Gibbs sampling"):
        relax.Optimizer(relax.Ising(8, graphs.chain(8)), device=STRICT)


@pytest.mark.skipif(backend.gpu_available(), reason="a GPU is present")
def test_gpu_without_cupy_or_device_says_how_to_get_it():
    with pytest.raises(DeviceUnavailable, match="cupy"):
        relax.Optimizer(relax.Gaussian(np.zeros(3)), device="gpu")
    try:
        import cupy  # noqa: F401
    except ImportError:
        with pytest.raises(DeviceUnavailable, match=r'pip install "relax\[gpu\]"'):
            relax.minimize(sphere, relax.Gaussian(np.zeros(3)), device="gpu", maxiter=1)


def test_importing_relax_never_imports_cupy():
    code = "import relax, sys; relax.Optimizer(relax.Gaussian([0.0, 1.0])); " \
           "print('cupy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_relax_run_device_gpu_without_cupy_is_a_one_line_error():
    if backend.gpu_available():
        pytest.skip("a GPU is present")
    from click.testing import CliRunner

    from relax.cli import main

    out = CliRunner().invoke(main, ["run", "sphere", "-n", "3", "--seed", "1", "--device",
                                    "gpu"])
    assert out.exit_code == 2
    assert "--device gpu" in out.output and "relax[gpu]" in out.output


BENCHMARK = Path(__file__).parent.parent / "benchmarks" / "gpu.py"


def test_gpu_benchmark_cpu_column_runs(tmp_path):
    proc = subprocess.run([sys.executable, str(BENCHMARK), "--cpu-only", "--dim", "8",
                           "--popsize", "64", "--bits", "200", "--bit-popsize", "20",
                           "--side", "8", "--chains", "8", "--sweeps", "2", "--repeats", "1"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "| Gaussian iteration, d = 8, λ = 64 |" in proc.stdout
    assert "Gibbs spin updates per second: CPU" in proc.stdout
    assert not list(tmp_path.iterdir())  # --cpu-only writes nothing


def test_gpu_benchmark_without_a_gpu_says_so(tmp_path):
    if backend.gpu_available():
        pytest.skip("a GPU is present")
    proc = subprocess.run([sys.executable, str(BENCHMARK)], capture_output=True, text=True,
                          cwd=tmp_path, timeout=300)
    assert proc.returncode != 0
    assert "needs a CUDA GPU with cupy" in proc.stderr
