"""Models against independent ground truth: finite differences of ψ, closed forms,
round trips, structured Fisher actions against dense solves."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import relax
from relax import Bernoulli, DiagonalGaussian, Gaussian


def random_gaussian(n, seed):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, n))
    return Gaussian(rng.normal(size=n), A @ A.T + 0.5 * np.eye(n))


MODELS = {
    "bernoulli": lambda: Bernoulli(theta=[0.3, -1.2, 2.0]),
    "diagonal": lambda: DiagonalGaussian([0.5, -1.0], [0.7, 2.0]),
    "gaussian": lambda: random_gaussian(3, 1),
}


def fd_hessian(psi, theta, h=1e-4):
    k = theta.size
    E = np.eye(k) * h
    H = np.empty((k, k))
    for i in range(k):
        for j in range(k):
            H[i, j] = (psi(theta + E[i] + E[j]) - psi(theta + E[i] - E[j])
                       - psi(theta - E[i] + E[j]) + psi(theta - E[i] - E[j])) / (4 * h * h)
    return H


@pytest.mark.parametrize("name", MODELS)
def test_round_trips(name):
    m = MODELS[name]()
    np.testing.assert_allclose(m.from_eta(m.eta).theta, m.theta, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(m.from_theta(m.theta).eta, m.eta, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", MODELS)
def test_eta_is_gradient_of_log_partition(name):
    m = MODELS[name]()
    h = 1e-6
    grad = [(m.from_theta(m.theta + h * e).log_partition()
             - m.from_theta(m.theta - h * e).log_partition()) / (2 * h) for e in np.eye(m.k)]
    np.testing.assert_allclose(grad, m.eta, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", MODELS)
def test_fisher_is_hessian_of_log_partition_and_inverse(name):
    m = MODELS[name]()
    H = fd_hessian(lambda t: m.from_theta(t).log_partition(), m.theta)
    F = m.fisher("theta")
    np.testing.assert_allclose(F, H, rtol=1e-4, atol=1e-5 * np.abs(F).max())
    np.testing.assert_allclose(m.fisher("eta") @ F, np.eye(m.k), atol=1e-9)


@pytest.mark.parametrize("name", MODELS)
def test_natural_from_vanilla_equals_dense_solve(name):
    m = MODELS[name]()
    g = np.random.default_rng(0).normal(size=m.k)
    dense = np.linalg.solve(fd_hessian(lambda t: m.from_theta(t).log_partition(), m.theta), g)
    np.testing.assert_allclose(m.natural_from_vanilla(g), dense, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(m.fisher_vector(m.natural_from_vanilla(g)), g, rtol=1e-10)


@pytest.mark.parametrize("name", MODELS)
def test_sample_moments_match_eta(name):
    m = MODELS[name]()
    N = 200_000
    T = m.stats(m.sample(N, 0))
    se = T.std(axis=0) / np.sqrt(N)
    assert np.all(np.abs(T.mean(axis=0) - m.eta) < 5 * se)


@pytest.mark.parametrize("name", MODELS)
def test_kl_entropy_against_their_definitions(name):
    m = MODELS[name]()
    other = m.from_theta(m.theta * 1.1 + 0.05)
    bregman = (other.log_partition() - m.log_partition()
               - np.dot(other.theta - m.theta, m.eta))
    assert m.kl(other) == pytest.approx(bregman, rel=1e-8)
    assert m.kl(m) == pytest.approx(0.0, abs=1e-12)
    assert m.entropy() == pytest.approx(m.log_partition() - m.theta @ m.eta, rel=1e-10)
    # Monte Carlo check of KL = E_p[log p - log q]
    X = m.sample(200_000, 1)
    lp = m.stats(X) @ m.theta - m.log_partition()
    lq = other.stats(X) @ other.theta - other.log_partition()
    d = lp - lq
    assert abs(d.mean() - m.kl(other)) < 5 * d.std() / np.sqrt(d.size)


def test_gaussian_closed_forms():
    mu, S = np.array([1.0, -2.0]), np.array([[2.0, 0.6], [0.6, 1.0]])
    g = Gaussian(mu, S)
    P = np.linalg.inv(S)
    np.testing.assert_allclose(g.theta, [*(P @ mu), -0.5 * P[0, 0], -0.5 * P[1, 1], -0.5 * P[0, 1]])
    E = S + np.outer(mu, mu)
    np.testing.assert_allclose(g.eta, [*mu, E[0, 0], E[1, 1], 2 * E[0, 1]])
    psi = 0.5 * mu @ P @ mu + 0.5 * np.log(np.linalg.det(2 * np.pi * S))
    assert g.log_partition() == pytest.approx(psi)
    x = np.array([[0.3, 0.1]])
    logpdf = g.stats(x)[0] @ g.theta - g.log_partition()
    from scipy.stats import multivariate_normal
    assert logpdf == pytest.approx(multivariate_normal(mu, S).logpdf(x[0]))


def test_diagonal_matches_full_gaussian():
    d = DiagonalGaussian([0.5, -1.0], [0.7, 2.0])
    f = Gaussian([0.5, -1.0], [0.7, 2.0])
    assert d.log_partition() == pytest.approx(f.log_partition())
    assert d.entropy() == pytest.approx(f.entropy())
    assert d.kl(d.from_theta(d.theta * 1.2)) == pytest.approx(
        f.kl(Gaussian(d.from_theta(d.theta * 1.2).mean(), d.from_theta(d.theta * 1.2).var)))


def test_bernoulli_constructors_agree():
    p = np.array([0.2, 0.9])
    a, b = Bernoulli(p=p), Bernoulli(theta=np.arctanh(2 * p - 1))
    np.testing.assert_allclose(a.theta, b.theta)
    np.testing.assert_allclose(a.p, p)
    assert Bernoulli(3).entropy() == pytest.approx(3 * np.log(2))


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 4), st.integers(0, 10_000))
def test_gaussian_round_trip_property(n, seed):
    m = random_gaussian(n, seed)
    back = m.from_theta(m.theta)
    np.testing.assert_allclose(back.cov, m.cov, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(m.from_eta(m.eta).mean(), m.mean(), rtol=1e-8, atol=1e-8)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-8, 8), min_size=1, max_size=6))
def test_bernoulli_round_trip_property(theta):
    m = Bernoulli(theta=theta)
    np.testing.assert_allclose(m.from_eta(m.eta).theta, theta, rtol=1e-6, atol=1e-6)


def test_models_are_immutable():
    m = Gaussian([0.0, 1.0], 1.0)
    with pytest.raises(ValueError):
        m.theta[0] = 3.0
    assert isinstance(m, relax.ExponentialFamily)
