"""The Ising model: statistics, exact expectations (enumeration), θ↔η, Fisher actions,
sampling, persistent chains, the n > 20 regime and input validation.

Ground truth is computed here independently: p(x) ∝ exp(h·x + Σ_S θ_S ∏_{i∈S} x_i) over
all 2^n points, finite differences of ψ, and closed forms for independent spins.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from relax import gibbs, graphs
from relax.enumeration import all_points
from relax.models import Bernoulli, Ising

INTERACTIONS = [(0, 1), (1, 2), (0, 2, 3), (3, 4), (1, 4), (2, 4)]


def model(seed=0, n=5, interactions=INTERACTIONS, scale=0.7, **kwargs):
    m = Ising(n, interactions, **kwargs)
    return m.from_theta(scale * np.random.default_rng(seed).standard_normal(m.k))


def dense_T(m):
    """T(x) for every x in all_points(n), built with a Python loop over interactions."""
    X = all_points(m.n)
    cols = [X] + [np.prod(X[:, list(S)], axis=1)[:, None] for S in m.interactions]
    return np.hstack(cols)


def exact_p(m):
    logit = dense_T(m) @ m.theta
    p = np.exp(logit - logit.max())
    return p / p.sum()


def state_index(X):
    return ((np.asarray(X) < 0).astype(np.int64) << np.arange(X.shape[1])).sum(axis=1)


# --------------------------------------------------------------------- statistics
def test_stats_are_products_in_the_given_order():
    m = model()
    X = all_points(m.n)
    assert np.array_equal(m.stats(X), dense_T(m))
    assert m.k == m.n + len(INTERACTIONS)
    assert np.array_equal(m.h, m.theta[:5]) and np.array_equal(m.J, m.theta[5:])


def test_default_interactions_are_all_pairs():
    m = Ising(4)
    assert m.interactions == ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))
    assert np.array_equal(m.theta, np.zeros(10)) and m.exact and m.sampler == "exact"


# ---------------------------------------------------------------- exact moments
def test_eta_log_partition_and_mean_by_enumeration():
    m = model(1)
    T = dense_T(m)
    logit = T @ m.theta
    p = exact_p(m)
    np.testing.assert_allclose(m.log_partition(), np.log(np.sum(np.exp(logit))), rtol=1e-12)
    np.testing.assert_allclose(m.eta, p @ T, atol=1e-12)
    np.testing.assert_allclose(m.mean(), (p @ T)[: m.n], atol=1e-12)
    np.testing.assert_allclose(m.entropy(), -np.sum(p * np.log(p)), rtol=1e-10)
    assert m.spread() == m.entropy()
    assert np.array_equal(m.mode(), all_points(m.n)[np.argmax(p)])


def test_fisher_is_the_hessian_of_log_partition():
    """I_θ = ∇²ψ: central second differences of ψ, step ε = 1e-4 (error O(ε²) + 1e-16/ε²)."""
    m = model(2)
    eps, k = 1e-4, m.k
    E = np.eye(k) * eps

    def psi(t):
        return m.from_theta(m.theta + t).log_partition()

    H = np.array([[(psi(E[a] + E[b]) - psi(E[a] - E[b]) - psi(E[b] - E[a])
                    + psi(-E[a] - E[b])) / (4 * eps**2) for b in range(k)] for a in range(k)])
    np.testing.assert_allclose(m.fisher("theta"), H, atol=1e-6)


def test_fisher_actions_equal_dense_covariance_and_solve():
    m = model(3)
    T, p = dense_T(m), exact_p(m)
    Tc = T - p @ T
    cov = Tc.T @ (p[:, None] * Tc)
    v = np.random.default_rng(0).standard_normal(m.k)
    np.testing.assert_allclose(m.fisher_vector(v), cov @ v, atol=1e-12)
    np.testing.assert_allclose(m.natural_from_vanilla(v), np.linalg.solve(cov, v), rtol=1e-9)
    np.testing.assert_allclose(m.fisher("eta") @ cov, np.eye(m.k), atol=1e-8)


def test_no_interactions_is_the_independence_model():
    theta = np.array([0.3, -1.2, 2.0, 0.0])
    m = Ising(4, [], theta)
    b = Bernoulli(theta=theta)
    np.testing.assert_allclose(m.log_partition(), np.sum(np.log(2 * np.cosh(theta))))
    np.testing.assert_allclose(m.eta, np.tanh(theta), atol=1e-14)
    np.testing.assert_allclose(m.fisher("theta"), b.fisher("theta"), atol=1e-14)
    np.testing.assert_allclose(m.entropy(), b.entropy(), rtol=1e-12)
    np.testing.assert_allclose(m.kl(m.from_theta(-theta)), b.kl(b.from_theta(-theta)))


def test_kl_is_a_direct_sum():
    a, b = model(4), model(5)
    p, q = exact_p(a), exact_p(b)
    np.testing.assert_allclose(a.kl(b), np.sum(p * np.log(p / q)), rtol=1e-9)
    assert a.kl(a) == pytest.approx(0.0, abs=1e-12)


# -------------------------------------------------------------------------- θ ↔ η
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_theta_eta_round_trip(seed):
    m = model(seed, scale=1.0)
    for start in (m.from_theta(np.zeros(m.k)), m.from_theta(-m.theta)):
        back = start.from_eta(m.eta)
        np.testing.assert_allclose(back.theta, m.theta, atol=1e-7)
        np.testing.assert_allclose(back.eta, m.eta, atol=1e-10)


def test_from_eta_outside_the_marginal_polytope():
    m = Ising(3)  # E[x1x2 + x1x3 + x2x3] = (E[(Σx)²] − 3)/2 ≥ −1
    with pytest.raises(ValueError, match="marginal polytope"):
        m.from_eta(np.r_[0, 0, 0, -0.9, -0.9, -0.9])
    with pytest.raises(ValueError, match="marginal polytope"):
        m.from_eta(np.r_[1.0, 0, 0, 0, 0, 0])
    with pytest.raises(ValueError, match="eta"):
        m.from_eta(np.zeros(5))


# ---------------------------------------------------------------------- sampling
def test_exact_sampler_matches_enumeration():
    """TV(p̂, p) ≤ ½ Σ sqrt(p(1−p)/N) + sqrt(log(1e6)/(2N)) (see tests/test_gibbs.py)."""
    m = model(6, scale=1.0)
    size = 2**16
    X = m.sample(size, np.random.default_rng(0))
    assert X.shape == (size, m.n) and X.dtype == np.float64
    p = exact_p(m)
    emp = np.bincount(state_index(X), minlength=2**m.n) / size
    tol = 0.5 * np.sum(np.sqrt(p * (1 - p) / size)) + np.sqrt(np.log(1e6) / (2 * size))
    assert 0.5 * np.abs(emp - p).sum() < tol
    assert np.array_equal(m.sample(100, 3), m.sample(100, 3))


def test_sample_chains_persist():
    m = model(7, sampler="gibbs", burn_in=20, sweeps=3)
    rng = np.random.default_rng(0)
    X, chains = m.sample_chains(64, rng)
    assert X.shape == (64, 5) and chains.sweeps_done == 20
    X2, chains2 = m.from_theta(np.zeros(m.k)).sample_chains(64, rng, chains)
    assert chains2.sweeps_done == 23 and chains.sweeps_done == 20
    assert np.array_equal(chains2.chain_keys, chains.chain_keys)
    _, fresh = m.sample_chains(32, rng, chains2)  # other size: new chains
    assert fresh.n_chains == 32 and fresh.sweeps_done == 20
    again = m.sample_chains(64, np.random.default_rng(0))[0]
    assert np.array_equal(X, again)
    exact = model(7)
    Xe, same = exact.sample_chains(10, rng, chains)
    assert same is chains and Xe.shape == (10, 5)


def test_gibbs_sample_reproducible_and_checked():
    m = model(8, sampler="gibbs", burn_in=5)
    assert np.array_equal(m.sample(50, 1), m.sample(50, np.random.default_rng(1)))
    with pytest.raises(ValueError, match="size"):
        m.sample(0, 1)


def test_pickle_drops_caches_and_keeps_the_model():
    m = model(9)
    eta = m.eta
    back = pickle.loads(pickle.dumps(m))
    assert back._cache == {} and back.structure() == m.structure()
    np.testing.assert_array_equal(back.eta, eta)


# ------------------------------------------------------------------------ n > 20
def test_large_models_use_gibbs_and_refuse_intractable_quantities():
    g = graphs.torus(5)
    m = Ising(25, g, np.r_[np.full(25, 0.2), np.full(50, 0.1)])
    assert not m.exact and m.sampler == "gibbs"
    for call in (lambda: m.eta, m.log_partition, lambda: m.fisher_vector(np.zeros(m.k)),
                 lambda: m.natural_from_vanilla(np.zeros(m.k)),
                 lambda: m.from_eta(np.zeros(m.k)), lambda: m.kl(m), m.entropy):
        with pytest.raises(ValueError, match="intractable for n > 20"):
            call()
    X, chains = m.sample_chains(128, 0)
    assert X.shape == (128, 25) and isinstance(chains, gibbs.GibbsChains)
    assert m.mean().shape == (25,) and m.spread() > 0


def test_large_independent_model_mean_field_is_exact():
    h = np.linspace(-2, 2, 24)
    m = Ising(24, [], h)
    np.testing.assert_allclose(m.mean(), np.tanh(h), atol=1e-12)
    np.testing.assert_allclose(m.spread(), Bernoulli(theta=h).entropy(), rtol=1e-10)
    np.testing.assert_array_equal(m.mode(), np.where(h >= 0, 1.0, -1.0))


def test_large_mode_is_a_local_maximum():
    """Zero-temperature sweeps end where no single flip raises θ·T(x)."""
    rng = np.random.default_rng(1)
    g = graphs.torus(6)
    m = Ising(36, g, np.r_[0.3 * rng.standard_normal(36), rng.standard_normal(72)])
    x = m.mode()
    score = m.stats(x[None])[0] @ m.theta
    flips = np.where(np.eye(36, dtype=bool), -x, x)
    assert np.all(m.stats(flips) @ m.theta <= score + 1e-12)
    assert score >= m.stats(np.where(m.h >= 0, 1.0, -1.0)[None])[0] @ m.theta


# ------------------------------------------------------------------ validation
@pytest.mark.parametrize("interactions, match", [
    ([(0, 5)], "outside"),
    ([(1, 1)], "repeats"),
    ([(2,)], "at least two"),
    ([(0, 1), (1, 0)], "twice"),
    (5, "interactions must be"),
    (graphs.chain(4), "graph on 4 vertices"),
])
def test_bad_interactions(interactions, match):
    with pytest.raises(ValueError, match=match):
        Ising(5, interactions)


def test_bad_theta_and_options():
    with pytest.raises(ValueError, match=r"theta must have shape \(11,\)"):
        Ising(5, INTERACTIONS, np.zeros(10))
    with pytest.raises(ValueError, match="finite"):
        Ising(5, INTERACTIONS, np.r_[np.zeros(10), np.nan])
    with pytest.raises(ValueError, match="finite"):
        model().from_theta(np.r_[np.zeros(10), np.inf])
    with pytest.raises(ValueError, match="theta"):
        model().from_theta(np.zeros(3))
    with pytest.raises(ValueError, match="sampler='exact' needs n <= 20"):
        Ising(21, graphs.chain(21), sampler="exact")
    with pytest.raises(ValueError, match="sampler"):
        Ising(3, sampler="metropolis")
    with pytest.raises(ValueError, match="n must be"):
        Ising(0)
    with pytest.raises(ValueError, match="burn_in"):
        Ising(3, burn_in=-1)
    with pytest.raises(ValueError, match="sweeps"):
        Ising(3, sweeps=0)


def test_structure_includes_the_graph():
    a, b = Ising(3, [(0, 1)]), Ising(3, [(1, 2)])
    assert a.k == b.k and a.structure() != b.structure()
    with pytest.raises(ValueError, match="same structure"):
        a.kl(b)
