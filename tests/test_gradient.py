"""Directions against hand-derived and enumerated values; Monte Carlo against exact."""

import numpy as np
import pytest

import relax
from relax import Bernoulli, DiagonalGaussian, Gaussian
from relax.exact import exact


def toy(x):
    """The slides' toy problem on {-1,+1}^2: f(x) = x1 + 2 x2 + 3 x1 x2."""
    x = np.asarray(x)
    return x[..., 0] + 2 * x[..., 1] + 3 * x[..., 0] * x[..., 1]


def toy_hand(theta):
    """By hand: m = tanh θ, F = m1 + 2 m2 + 3 m1 m2, ∂F/∂m = (1 + 3 m2, 2 + 3 m1),
    g_η = ∂F/∂m, g_θ = (1 − m²) ⊙ g_η."""
    m = np.tanh(theta)
    g_eta = np.array([1 + 3 * m[1], 2 + 3 * m[0]])
    return m[0] + 2 * m[1] + 3 * m[0] * m[1], (1 - m**2) * g_eta, g_eta


THETAS = [(0.0, 0.0), (0.5, -0.3), (-1.2, 0.8), (2.0, 2.5), (-3.0, -0.1)]


@pytest.mark.parametrize("theta", THETAS)
def test_toy_problem_four_directions(theta):
    model = Bernoulli(theta=theta)
    F, g_theta, g_eta = toy_hand(np.array(theta))
    expected = {("vanilla", "theta"): g_theta, ("natural", "theta"): g_eta,
                ("vanilla", "eta"): g_eta, ("natural", "eta"): g_theta}
    for (gradient, param), value in expected.items():
        got = relax.exact_gradient(model, toy, gradient=gradient, param=param)
        np.testing.assert_allclose(got, value, rtol=1e-12, atol=1e-12)
    assert relax.expectation(model, toy) == pytest.approx(F, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("theta", THETAS)
def test_toy_problem_in_marginal_probabilities(theta):
    """F(μ) = −4μ1 − 2μ2 + 12μ1μ2 with μ_i = P(x_i = +1)."""
    model = Bernoulli(theta=theta)
    mu = model.p
    assert relax.expectation(model, toy) == pytest.approx(
        -4 * mu[0] - 2 * mu[1] + 12 * mu[0] * mu[1], abs=1e-12)


def test_toy_problem_by_brute_enumeration():
    """Independent of relax.exact: sum over the four points with explicit probabilities."""
    theta = np.array([0.4, -0.9])
    pts = np.array([[a, b] for a in (-1, 1) for b in (-1, 1)], dtype=float)
    p = np.exp(pts @ theta) / np.exp(pts @ theta).sum()
    F = p @ toy(pts)
    g_theta = ((toy(pts) - F) * p) @ (pts - p @ pts)
    np.testing.assert_allclose(relax.exact_gradient(Bernoulli(theta=theta), toy,
                                                    gradient="vanilla", param="theta"), g_theta)


def quadratic_case(model_cls):
    a = np.array([0.5, -1.0])
    B = np.array([[2.0, 0.3], [0.3, 1.0]])
    m = Gaussian([1.0, -0.5], [[1.5, 0.4], [0.4, 0.8]]) if model_cls is Gaussian \
        else DiagonalGaussian([1.0, -0.5], [1.5, 0.8])
    return m, a, B, (lambda x: x @ a + x @ B @ x)


def test_gaussian_quadratic_is_linear_in_eta():
    """F = aᵀμ + tr(B E) is linear in η = (μ, E_ii, 2E_ij): g_η = (a, B_ii, B_ij) exactly."""
    m, a, B, f = quadratic_case(Gaussian)
    np.testing.assert_allclose(relax.exact_gradient(m, f, param="theta", gradient="natural"),
                               [*a, B[0, 0], B[1, 1], B[0, 1]], atol=1e-10)
    F = a @ m.mean() + np.trace(B @ (m.cov + np.outer(m.mean(), m.mean())))
    assert relax.expectation(m, f) == pytest.approx(F)
    g_theta = m.fisher_vector(np.array([*a, B[0, 0], B[1, 1], B[0, 1]]))
    np.testing.assert_allclose(relax.exact_gradient(m, f, gradient="vanilla", param="theta"),
                               g_theta, atol=1e-10)


def test_diagonal_gaussian_degree_six_closed_form():
    """f = x⁶ in 1-D: F = μ⁶ + 15μ⁴v + 45μ²v² + 15v³ (v = σ²); with η = (μ, v + μ²),
    ∂F/∂η2 = ∂F/∂v and ∂F/∂η1 = ∂F/∂μ − 2μ ∂F/∂v."""
    mu, v = 0.7, 1.3
    m = DiagonalGaussian([mu], [v])
    dF_dmu = 6 * mu**5 + 60 * mu**3 * v + 90 * mu * v**2
    dF_dv = 15 * mu**4 + 90 * mu**2 * v + 45 * v**2
    g_eta = relax.exact_gradient(m, lambda x: x[0] ** 6, gradient="vanilla", param="eta")
    np.testing.assert_allclose(g_eta, [dF_dmu - 2 * mu * dF_dv, dF_dv], rtol=1e-10)
    F = mu**6 + 15 * mu**4 * v + 45 * mu**2 * v**2 + 15 * v**3
    assert relax.expectation(m, lambda x: x[0] ** 6) == pytest.approx(F, rel=1e-12)


@pytest.mark.parametrize("model", [Bernoulli(theta=[0.5, -0.3]),
                                   Gaussian([0.2, -0.1], [[1.0, 0.3], [0.3, 0.5]])],
                         ids=["bernoulli", "gaussian"])
@pytest.mark.parametrize("gradient,param", list(relax.DUALITY))
def test_monte_carlo_converges_at_the_predicted_rate(model, gradient, param):
    """Over R repetitions the estimator is unbiased within 4 standard errors and its RMSE
    falls like 1/√N (quadrupling N halves it)."""
    f = toy if model.domain == "binary" else (lambda X: X[:, 0] + X[:, 0] * X[:, 1] + X[:, 1] ** 2)
    truth = relax.exact_gradient(model, f, gradient=gradient, param=param, vectorized=True)
    rng = np.random.default_rng(42)
    R = 300
    rmse = []
    for N in (200, 800):
        est = np.array([relax.gradient(model, X, f(X), gradient=gradient, param=param)
                        for X in (model.sample(N, rng) for _ in range(R))])
        err = est - truth
        assert np.all(np.abs(err.mean(0)) <= 4 * err.std(0) / np.sqrt(R) + 1e-12)
        rmse.append(np.sqrt(np.mean(err**2)))
    assert 0.4 < rmse[1] / rmse[0] < 0.6


def test_empirical_fisher_matches_exact_for_large_samples():
    model = Bernoulli(theta=[0.5, -0.3, 0.1])
    f = lambda X: X[:, 0] - 2 * X[:, 1] * X[:, 2]  # noqa: E731
    X = model.sample(400_000, 3)
    emp = relax.gradient(model, X, f(X), gradient="natural", param="theta", fisher="empirical")
    ex = relax.exact_gradient(model, f, gradient="natural", param="theta", vectorized=True)
    np.testing.assert_allclose(emp, ex, atol=0.02)


@pytest.mark.parametrize("method", ["dense", "woodbury", "cg"])
def test_empirical_fisher_solvers_agree(method):
    from relax.estimate import solve_empirical_fisher
    rng = np.random.default_rng(0)
    for N, k in ((50, 20), (20, 50)):
        T, g = rng.normal(size=(N, k)), rng.normal(size=k)
        ref = solve_empirical_fisher(T, g, 1e-3, method="dense")
        np.testing.assert_allclose(solve_empirical_fisher(T, g, 1e-3, method=method), ref,
                                   rtol=1e-6, atol=1e-8)


def test_exact_is_consistent_with_direction_table():
    e = exact(Bernoulli(theta=[0.2, 0.1]), toy)
    np.testing.assert_allclose(e.direction("natural", "eta"), e.g_theta)
    np.testing.assert_allclose(e.direction("vanilla", "eta"), e.g_eta)
