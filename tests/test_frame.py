"""Local-frame Gaussian steps against the flat formulas of the models (independent code
paths: flat statistics, raw moments and the structured Fisher), and their invariances."""

import numpy as np
import pytest

import relax
from relax import DiagonalGaussian, Gaussian
from relax.direction import DUALITY, select
from relax.estimate import cov_f_T
from relax.frame import local_frame
from relax.step import Metric


def random_gaussian(n, seed):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, n))
    return Gaussian(rng.normal(size=n), A @ A.T + 0.5 * np.eye(n))


MODELS = {
    "gaussian-3": lambda: random_gaussian(3, 4),
    "gaussian-5": lambda: random_gaussian(5, 5),
    "diagonal-4": lambda: DiagonalGaussian([0.5, -1.0, 2.0, 0.1], [0.7, 2.0, 0.3, 1.5]),
}


def flat_step(model, X, w, gradient, param, rho):
    """The reference: flat g_θ = Σ ω (T(x) − η), g_η = I_θ⁻¹ g_θ, ξ − ρ d in the flat chart."""
    g_theta = cov_f_T(w, model.stats(X), model.eta)
    d = select(gradient, param, g_theta, model.natural_from_vanilla(g_theta))
    return model.from_param(param, model.param(param) - rho * d), d


def local_step(model, X, w, gradient, param, rho):
    fr = local_frame(model)
    d = fr.direction(gradient, param, *fr.gradients(fr.whiten(X), w))
    inc = fr.increment(d, param, rho)
    return fr.moved(*inc).model(), fr.kl(*inc), d


def sample_and_weights(model, seed, N=12):
    rng = np.random.default_rng(seed)
    X = model.sample(N, rng)
    return X, rng.normal(size=N) / N


@pytest.mark.parametrize("gradient,param", list(DUALITY))
@pytest.mark.parametrize("name", MODELS)
def test_local_step_equals_flat_step(name, gradient, param):
    model = MODELS[name]()
    X, w = sample_and_weights(model, 1)
    rho = 0.05 if gradient == "natural" else 0.002
    flat, _ = flat_step(model, X, w, gradient, param, rho)
    local, kl, _ = local_step(model, X, w, gradient, param, rho)
    np.testing.assert_allclose(local.mean(), flat.mean(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(local.cov, flat.cov, rtol=1e-9, atol=1e-12)
    assert kl == pytest.approx(model.kl(flat), rel=1e-8)


@pytest.mark.parametrize("gradient,param", list(DUALITY))
@pytest.mark.parametrize("name", MODELS)
def test_local_quadratic_is_the_fisher_norm_of_the_flat_direction(name, gradient, param):
    """½ρ²(|δ₁|² + ½‖M₁‖²) is the second-order KL: ½ρ² dᵀ I d in the flat chart."""
    model = MODELS[name]()
    X, w = sample_and_weights(model, 2)
    _, d_flat = flat_step(model, X, w, gradient, param, 0.0)
    _, _, d = local_step(model, X, w, gradient, param, 1e-3)
    flat_q = Metric(model.fisher_vector, model.natural_from_vanilla).quadratic(param, d_flat)
    assert d.quadratic() == pytest.approx(flat_q, rel=1e-8)


@pytest.mark.parametrize("param", ["eta", "theta"])
@pytest.mark.parametrize("cls", [Gaussian, DiagonalGaussian])
def test_natural_local_step_is_translation_and_scale_invariant(cls, param):
    """The same whitened sample and weights give the same increment at μ = 0 and at
    μ = 1e8 (where the flat formulas lose every digit), and at any scale."""
    n = 4
    base = cls(np.zeros(n), 1.0)
    Z = np.random.default_rng(3).standard_normal((10, n))
    w = -relax.shaping.rank_weights(10)
    ref = None
    for shift, scale in [(0.0, 1.0), (1e8, 1.0), (0.0, 1e-12), (-3e7, 1e9)]:
        fr = local_frame(cls(np.full(n, shift), scale**2))
        d = fr.direction("natural", param, *fr.gradients(fr.whiten(fr.sample(Z)), w))
        delta, M = fr.increment(d, param, 0.1)
        if ref is None:
            ref = (delta, M)
        np.testing.assert_allclose(delta, ref[0], rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(M, ref[1], rtol=1e-6, atol=1e-9)
    assert base.n == n


def test_invalid_theta_step_is_rejected_and_eta_step_reports_it():
    fr = local_frame(Gaussian(np.zeros(2), 1.0))
    d = relax.frame.Direction(np.zeros(2), np.diag([2.0, 0.0]))
    assert fr.increment(d, "theta", 1.0) is None     # I − ρM₁ singular
    delta, M = fr.increment(d, "eta", 1.0)
    assert fr.kl(delta, np.diag([-1.0, 1.0])) is None


def test_sample_and_whiten_are_inverse():
    for model in (random_gaussian(4, 0), DiagonalGaussian(np.ones(3), [1.0, 4.0, 9.0])):
        fr = local_frame(model)
        Z = np.random.default_rng(0).standard_normal((7, model.n))
        np.testing.assert_allclose(fr.whiten(fr.sample(Z)), Z, atol=1e-12)
