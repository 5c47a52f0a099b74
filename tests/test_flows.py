"""Exact gradient flows against hand-derived fields, closed forms and independent Euler
integration; invariance of the natural flow; the optimizer as a noisy Euler scheme."""

import numpy as np
import pytest
from scipy.linalg import expm
from scipy.optimize import brentq

from relax import Bernoulli, Gaussian
from relax.exact import exact, exact_gradient
from relax.flows import CHARTS, flow, get_chart
from relax.flows.cases import CASES, get_case, neg_cubic, neg_quartic, toy
from relax.flows.montecarlo import monte_carlo
from relax.models.ising import Ising

# the toy problem by hand, in μ_i = P(x_i = +1): F(μ) = −4μ1 − 2μ2 + 12μ1μ2
GRID = [(a, b) for a in (0.1, 0.37, 0.63, 0.9) for b in (0.1, 0.37, 0.63, 0.9)]


def dF_dmu(mu):
    """∂F/∂μ = (−4 + 12μ2, −2 + 12μ1)."""
    return np.stack([-4 + 12 * mu[..., 1], -2 + 12 * mu[..., 0]], axis=-1)


def euler_theta(theta, vanilla: bool, T: float, dt: float = 2e-3):
    """Explicit Euler in θ on the hand formulas, μ = (1 + tanh θ)/2, dμ/dθ = 2μ(1 − μ):
    natural dθ/dt = −∂F/∂η = −½ ∂F/∂μ, vanilla dθ/dt = −∂F/∂θ = −2μ(1 − μ) ∂F/∂μ."""
    theta = np.array(theta, dtype=float)
    for _ in range(int(T / dt)):
        mu = 0.5 * (1 + np.tanh(theta))
        g = dF_dmu(mu)
        theta -= dt * (2 * mu * (1 - mu) * g if vanilla else 0.5 * g)
    return theta


def vertex(trajectory):
    return tuple(np.sign(trajectory.mean[-1]).astype(int))


# ----------------------------------------------------------------------- charts
def _fd_gradient(chart, model, f, h=1e-6):
    """Central differences of F(ξ) = E_ξ[f] in chart ξ."""
    xi = chart.coords(model)
    out = np.empty_like(xi)
    for i in range(xi.size):
        e = np.zeros_like(xi)
        e[i] = h
        Fp = exact(chart.model(model, xi + e), f, vectorized=True).F
        Fm = exact(chart.model(model, xi - e), f, vectorized=True).F
        out[i] = (Fp - Fm) / (2 * h)
    return out


@pytest.mark.parametrize("name", ["theta", "eta", "mu"])
def test_binary_chart_gradients_match_finite_differences(name):
    chart, model = CHARTS[name], Bernoulli(p=[0.3, 0.8])
    ex = exact(model, toy, vectorized=True)
    np.testing.assert_allclose(chart.vanilla(model, ex), _fd_gradient(chart, model, toy),
                               rtol=1e-6, atol=1e-7)


def test_mu_chart_natural_is_mu_one_minus_mu_times_vanilla():
    """I_μ = diag(1/(μ(1 − μ))), so ∇̃_μ F = μ(1 − μ) ∂F/∂μ, and ∂F/∂μ is the hand formula."""
    model = Bernoulli(p=[0.3, 0.8])
    mu, ex = model.p, exact(model, toy, vectorized=True)
    chart = CHARTS["mu"]
    np.testing.assert_allclose(chart.vanilla(model, ex), dF_dmu(mu), atol=1e-12)
    np.testing.assert_allclose(chart.natural(model, ex), mu * (1 - mu) * dF_dmu(mu),
                               atol=1e-12)


@pytest.mark.parametrize("name", ["theta", "eta", "mu_sigma"])
def test_gaussian_chart_gradients_match_finite_differences(name):
    chart, model = CHARTS[name], Gaussian([0.7], 0.3)
    ex = exact(model, neg_quartic, vectorized=True)
    np.testing.assert_allclose(chart.vanilla(model, ex),
                               _fd_gradient(chart, model, neg_quartic, h=1e-5),
                               rtol=1e-6, atol=1e-6)


def test_mu_sigma_natural_uses_fisher_diag_one_over_sigma2_two_over_sigma2():
    model = Gaussian([-0.4], 1.7)
    ex = exact(model, neg_quartic, vectorized=True)
    chart, s2 = CHARTS["mu_sigma"], 1.7
    np.testing.assert_allclose(chart.natural(model, ex),
                               chart.vanilla(model, ex) / np.array([1 / s2, 2 / s2]),
                               rtol=1e-12)


def test_chart_checks_its_model():
    with pytest.raises(ValueError, match="does not apply"):
        get_chart("mu", Gaussian([0.0], 1.0))
    with pytest.raises(ValueError, match="does not apply"):
        get_chart("mu_sigma", Bernoulli(2))
    with pytest.raises(ValueError, match="chart must be one of"):
        get_chart("polar", Bernoulli(2))
    with pytest.raises(ValueError, match="gradient must be"):
        flow(Bernoulli(2), toy, "steepest", vectorized=True)


# ------------------------------------------------------------------- invariance
T_EVAL = np.linspace(0.0, 1.5, 16)


@pytest.mark.parametrize("start", [(0.3, 0.6), (0.8, 0.2), (0.5, 0.9)])
def test_toy_natural_flow_is_the_same_path_in_every_chart(start):
    paths = {p: flow(Bernoulli(p=start), toy, "natural", p, t_eval=T_EVAL, vectorized=True)
             for p in ("theta", "eta", "mu")}
    for p, tr in paths.items():
        np.testing.assert_allclose(tr.t, T_EVAL)
        np.testing.assert_allclose(tr.mu, paths["theta"].mu, atol=1e-6, err_msg=p)
        np.testing.assert_allclose(tr.F, paths["theta"].F, atol=1e-6, err_msg=p)


def _hausdorff(P, Q):
    d = np.linalg.norm(P[:, None, :] - Q[None, :, :], axis=2)
    return max(d.min(axis=1).max(), d.min(axis=0).max())


@pytest.mark.parametrize("start", [(0.3, 0.6), (0.8, 0.2)])
def test_toy_vanilla_flows_in_theta_and_eta_are_different_paths(start):
    th = flow(Bernoulli(p=start), toy, "vanilla", "theta", t_max=5000, vectorized=True)
    et = flow(Bernoulli(p=start), toy, "vanilla", "eta", t_max=10, vectorized=True)
    assert (th.status, et.status) == ("converged", "boundary")
    assert _hausdorff(th.mu, et.mu) > 0.1
    nat = flow(Bernoulli(p=start), toy, "natural", "eta", t_max=50, vectorized=True)
    nat_theta = flow(Bernoulli(p=start), toy, "natural", "theta", t_max=50, vectorized=True)
    assert _hausdorff(nat.mu, nat_theta.mu) < 0.01  # sampling gaps only


@pytest.mark.parametrize("f, start", [(neg_cubic, (1.0, 1.0)), (neg_quartic, (-2.5, 0.3)),
                                      (neg_quartic, (0.25, 1.2))])
def test_gaussian_natural_flow_is_the_same_path_in_every_chart(f, start):
    model = Gaussian([start[0]], start[1] ** 2)
    t = np.linspace(0.0, 1.0, 11)
    paths = {p: flow(model, f, "natural", p, t_eval=t, vectorized=True)
             for p in ("theta", "eta", "mu_sigma")}
    for p, tr in paths.items():
        np.testing.assert_allclose(tr.mu_sigma, paths["theta"].mu_sigma, atol=1e-6,
                                   err_msg=p)
    vanilla = {p: flow(model, f, "vanilla", p, t_eval=t[:3], vectorized=True)
               for p in ("theta", "eta", "mu_sigma")}
    d = np.abs(vanilla["theta"].mu_sigma[-1] - vanilla["mu_sigma"].mu_sigma[-1]).max()
    assert d > 1e-2


def test_ising_natural_flow_is_the_same_path_in_theta_and_eta():
    """Generic over binary models: an Ising model (enumeration, Newton from_eta)."""
    model = Ising(3, [(0, 1), (1, 2)], theta=[0.2, -0.1, 0.3, 0.4, -0.2])

    def f(X):
        return X[:, 0] * X[:, 2] - 2 * X[:, 1] + X[:, 0]

    t = np.linspace(0.0, 0.8, 9)
    a = flow(model, f, "natural", "theta", t_eval=t, vectorized=True)
    b = flow(model, f, "natural", "eta", t_eval=t, vectorized=True)
    np.testing.assert_allclose(a.eta, b.eta, atol=1e-6)
    assert flow(model, f, "vanilla", "eta", t_max=5, vectorized=True).status == "boundary"


def test_theta_flow_drawn_in_mu_is_the_marginal_probability():
    tr = flow(Bernoulli(p=(0.3, 0.6)), toy, "vanilla", "theta", t_max=1, vectorized=True)
    np.testing.assert_allclose(tr.coords("mu"), 0.5 * (1 + np.tanh(tr.theta)), atol=1e-12)
    np.testing.assert_allclose(tr.coords("theta"), tr.xi)


# ----------------------------------------------------------------- basins, boundary
@pytest.mark.parametrize("param", ["theta", "eta", "mu"])
def test_toy_natural_flows_end_in_the_basin_euler_finds(param):
    theta0 = np.array([Bernoulli(p=p).theta for p in GRID])
    expected = np.sign(euler_theta(theta0, vanilla=False, T=30.0))
    ends = []
    for p, want in zip(GRID, expected, strict=True):
        tr = flow(Bernoulli(p=p), toy, "natural", param, t_max=50, vectorized=True)
        assert tr.status == "converged", tr.message
        assert vertex(tr) == tuple(want.astype(int)), p
        assert abs(tr.F[-1] - toy(np.array(vertex(tr), dtype=float))) <= 1e-3 + 1e-12
        ends.append(vertex(tr))
    assert {(1, -1), (-1, 1)} <= set(ends)  # both the global and the local minimum


@pytest.mark.slow
def test_toy_vanilla_theta_flows_end_in_the_basin_euler_finds():
    theta0 = np.array([Bernoulli(p=p).theta for p in GRID])
    expected = np.sign(euler_theta(theta0, vanilla=True, T=60.0))
    ends = []
    for p, want in zip(GRID, expected, strict=True):
        tr = flow(Bernoulli(p=p), toy, "vanilla", "theta", t_max=5000, vectorized=True)
        assert tr.status == "converged", tr.message
        assert vertex(tr) == tuple(want.astype(int)), p
        ends.append(vertex(tr))
    assert {(1, -1), (-1, 1)} <= set(ends)


def _eta_closed_form(eta0):
    """The vanilla η-flow of the toy problem is linear: dη/dt = −(b + Mη), b = (1, 2),
    M = [[0, 3], [3, 0]]; η(t) = −M⁻¹b + e^(−Mt)(η0 + M⁻¹b).  Returns η(t) and the first
    time some |η_i| = 1."""
    b, M = np.array([1.0, 2.0]), np.array([[0.0, 3.0], [3.0, 0.0]])
    c = np.linalg.solve(M, b)

    def eta(t):
        return -c + expm(-M * t) @ (eta0 + c)

    w, V = np.linalg.eigh(M)  # the same closed form, vectorized over a time grid
    ts = np.linspace(0, 2, 4001)
    path = -c + (V * np.exp(-np.outer(ts, w))[:, None, :]) @ (V.T @ (eta0 + c))
    margin = 1 - np.max(np.abs(path), axis=1)
    i = int(np.argmax(margin <= 0))
    return eta, brentq(lambda t: 1 - np.max(np.abs(eta(t))), ts[i - 1], ts[i], xtol=1e-14)


@pytest.mark.parametrize("p", GRID)
def test_toy_vanilla_eta_and_mu_flows_leave_the_domain_where_the_closed_form_does(p):
    """The slides: vanilla ∇F(η) does not converge to a vertex, projection is required."""
    model = Bernoulli(p=p)
    eta_t, t_exit = _eta_closed_form(np.array(model.eta))
    tr = flow(model, toy, "vanilla", "eta", t_max=10, vectorized=True)
    assert tr.status == "boundary" and "projection is required" in tr.message
    assert tr.t[-1] == pytest.approx(t_exit, abs=1e-7)
    np.testing.assert_allclose(tr.xi[-1], eta_t(t_exit), atol=1e-6)
    assert np.max(np.abs(tr.xi[-1])) == pytest.approx(1.0, abs=1e-9)
    # μ = (1 + η)/2 and ∂F/∂μ = 2 ∂F/∂η: the vanilla μ-flow is the same path, 4x faster
    mu = flow(model, toy, "vanilla", "mu", t_max=10, vectorized=True)
    assert mu.status == "boundary"
    assert mu.t[-1] == pytest.approx(t_exit / 4, abs=1e-7)
    np.testing.assert_allclose(mu.xi[-1], 0.5 * (1 + eta_t(t_exit)), atol=1e-6)
    assert min(mu.xi[-1].min(), 1 - mu.xi[-1].max()) == pytest.approx(0.0, abs=1e-9)


def test_toy_vanilla_eta_flows_mostly_stop_off_the_vertices():
    corners = 0
    for p in GRID:
        tr = flow(Bernoulli(p=p), toy, "vanilla", "eta", t_max=10, vectorized=True)
        corners += int(np.min(1 - np.abs(tr.xi[-1])) < 1e-9 and
                       np.max(1 - np.abs(tr.xi[-1])) < 1e-3)
    assert corners == 0


def test_gaussian_vanilla_eta_flow_leaves_the_domain_natural_does_not():
    model = Gaussian([1.0], 1.0)
    van = flow(model, neg_cubic, "vanilla", "eta", t_max=10, vectorized=True)
    assert van.status == "boundary"
    assert van.std[-1, 0] == pytest.approx(1e-3, rel=1e-3)  # margin (σ/σ0)² = btol = 1e-6
    nat = flow(model, neg_cubic, "natural", "eta", t_max=10, vectorized=True)
    assert nat.status == "t_max" and nat.std[-1, 0] > 0.05
    assert abs(nat.mean[-1, 0] - 1 / 6) < 0.02  # heading for the minimum of 3x² − x


# ------------------------------------------------------------------------ plateau
def test_natural_theta_flow_crosses_the_plateau_far_faster_than_vanilla():
    """From θ = (4, 4) (μ ≈ (0.9997, 0.9997), the maximum, where sech²θ ≈ 1e-3), the
    vanilla θ-gradient Cov(f, x) vanishes: the slides' plateau."""
    start = Bernoulli(theta=[4.0, 4.0])
    nat = flow(start, toy, "natural", "theta", t_max=1e3, vectorized=True)
    van = flow(start, toy, "vanilla", "theta", t_max=1e5, vectorized=True)
    reached = []
    for tr in (nat, van):
        assert tr.status == "converged", tr.message
        limit = toy(np.array(vertex(tr), dtype=float))
        assert np.all(np.diff(tr.F) <= 1e-12)  # F decreases along a gradient flow
        assert abs(tr.F[-1] - limit) <= 1e-3 + 1e-12
        within = tr.F - limit <= 1e-3 + 1e-12
        reached.append(tr.t[np.argmax(within)])  # the first time F is within 1e-3
    t_nat, t_van = reached
    ratio = t_van / t_nat
    print(f"\nplateau theta=(4,4): natural {t_nat:.3g}, vanilla {t_van:.3g}, "
          f"ratio {ratio:.0f}")
    assert ratio > 10


# -------------------------------------------------------------------- Monte Carlo
def test_optimizer_with_large_sample_stays_near_the_exact_flow():
    """Natural η steps η ← η − ρ Ĉov(f, T): the Euler scheme of the flow plus noise.

    Bound: |MC − flow| ≤ |Euler − flow| + 5√2 ρ √K σ/√N, with the exact Euler path
    (deterministic part) and σ the largest per-sample standard deviation of
    (f − F)(x_i − η_i) along the path (a random walk of K steps of size ρ σ/√N)."""
    model, rho, K, N = Bernoulli(p=(0.37, 0.63)), 0.01, 100, 20_000
    mc = monte_carlo(model, toy, "natural", "eta", rho=rho, iterations=K, popsize=N, seed=1,
                     vectorized=True)
    ex = flow(model, toy, "natural", "eta", t_eval=rho * np.arange(K + 1), vectorized=True)
    euler, m, sigma = [model.eta], model, 0.0
    X = np.array([[a, b] for a in (-1, 1) for b in (-1, 1)], dtype=float)
    for _ in range(K):
        p = np.exp(X @ m.theta) / np.exp(X @ m.theta).sum()
        F = p @ toy(X)
        var = p @ (((toy(X) - F)[:, None] * (X - m.eta)) ** 2)
        sigma = max(sigma, float(np.sqrt(var.max())))
        m = m.from_eta(m.eta - rho * exact_gradient(m, toy, gradient="natural", param="eta",
                                                    vectorized=True))
        euler.append(m.eta)
    deterministic = np.max(np.linalg.norm(np.array(euler) - ex.eta, axis=1))
    noise = 5 * np.sqrt(2) * rho * np.sqrt(K) * sigma / np.sqrt(N)
    distance = np.max(np.linalg.norm(mc.eta - ex.eta, axis=1))
    assert deterministic < 0.01
    assert distance <= deterministic + noise, (distance, deterministic, noise)
    assert distance > 0  # the overlay is a real Monte Carlo run


# -------------------------------------------------------------------------- cases
@pytest.mark.parametrize("name", list(CASES))
def test_cases_describe_their_flows(name):
    case = get_case(name)
    assert case.pictures and case.starts and case.minima
    for picture in case.pictures:
        for panel in picture.panels:
            for param in panel.params:
                get_chart(param, case.starts[0])
    assert case.minima[0] == min(case.minima, key=lambda x: case.f(np.array([x]))[0])


def test_get_case_rejects_unknown_names():
    with pytest.raises(ValueError, match="unknown case"):
        get_case("sextic")
