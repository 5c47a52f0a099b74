"""Bad input gets a clear error naming the argument, or the documented policy."""

import numpy as np
import pytest

import relax
from relax import Bernoulli, DiagonalGaussian, EvaluationError, Gaussian, Optimizer


@pytest.mark.parametrize("make,match", [
    (lambda: Bernoulli(0), "n must be a positive integer"),
    (lambda: Bernoulli(-3), "n must be a positive integer"),
    (lambda: Bernoulli(p=[0.5, 1.0]), "p must be"),
    (lambda: Bernoulli(p=[0.0]), "p must be"),
    (lambda: Bernoulli(theta=[np.inf]), "theta must be finite"),
    (lambda: Bernoulli(3, p=[0.5, 0.5]), "does not match"),
    (lambda: Gaussian([0.0, 0.0], [[1.0, 2.0], [2.0, 1.0]]), "positive definite"),
    (lambda: Gaussian([0.0, 0.0], [[1.0, 0.5], [0.0, 1.0]]), "symmetric"),
    (lambda: Gaussian([0.0, 0.0], -1.0), "positive definite"),
    (lambda: Gaussian([0.0, 0.0], np.eye(3)), "cov must be"),
    (lambda: Gaussian([np.nan], 1.0), "mean must be"),
    (lambda: DiagonalGaussian([0.0, 0.0], [1.0, 0.0]), "var must be"),
    (lambda: DiagonalGaussian([0.0, 0.0], [1.0, 1.0, 1.0]), "var must be"),
])
def test_constructor_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_outside_the_family():
    g = Gaussian([0.0, 0.0], 1.0)
    with pytest.raises(ValueError, match="positive definite"):
        g.from_theta(np.array([0, 0, 1.0, -1.0, 0]))  # Theta_11 > 0: not a precision
    with pytest.raises(ValueError, match="positive definite"):
        g.from_eta(np.array([1.0, 0, 0.5, 1.0, 0]))  # E_11 < mu_1^2
    with pytest.raises(ValueError, match=r"shape \(5,\)"):
        g.from_theta(np.zeros(4))
    with pytest.raises(ValueError, match=r"\|eta_i\| < 1"):
        Bernoulli(2).from_eta([0.5, 1.0])
    with pytest.raises(ValueError, match="strictly negative"):
        DiagonalGaussian([0.0], 1.0).from_theta([0.0, 0.1])


def test_shapes_of_samples_and_values():
    g = Gaussian([0.0, 0.0], 1.0)
    with pytest.raises(ValueError, match=r"X must have shape \(size, 2\)"):
        g.stats(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="size must be a positive integer"):
        g.sample(0)
    with pytest.raises(ValueError, match=r"fX must have shape \(4,\)"):
        relax.gradient(g, np.zeros((4, 2)), np.zeros(3))
    with pytest.raises(ValueError, match=r"fX must be finite; fX\[1\] = nan"):
        relax.gradient(g, np.zeros((4, 2)), [0.0, np.nan, 0, 0])
    with pytest.raises(ValueError, match="gradient must be one of"):
        relax.gradient(g, np.zeros((4, 2)), np.zeros(4), gradient="steepest")
    with pytest.raises(ValueError, match="same structure"):
        g.kl(Gaussian([0.0], 1.0))


@pytest.mark.parametrize("kwargs,match", [
    ({"gradient": "newton"}, "gradient must be one of"),
    ({"param": "mu"}, "param must be one of"),
    ({"shaping": "fancy"}, "shaping must be one of"),
    ({"popsize": 1}, "popsize must be an integer >= 2"),
    ({"step": -0.1}, "rho must be > 0"),
    ({"step": "big"}, "step must be"),
    ({"invalid": "ignore"}, "invalid must be one of"),
    ({"fisher": "approximate"}, "fisher must be one of"),
])
def test_optimizer_option_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Optimizer(Gaussian([0.0], 1.0), **kwargs)


def test_model_must_be_a_model():
    with pytest.raises(ValueError, match="model must be a relax model"):
        relax.minimize(lambda x: 0.0, np.zeros(3))


def test_nan_raises_naming_the_row_by_default():
    def f(x):
        return np.nan if x[0] > 0.5 else float(x @ x)

    with pytest.raises(EvaluationError, match=r"returned nan at row \d+.*invalid='worst'"):
        relax.minimize(f, Gaussian([1.0, 1.0], 1.0), seed=0, maxiter=5)


def test_exception_in_f_raises_with_cause():
    def f(x):
        if x[1] > 0:
            raise ZeroDivisionError("boom")
        return 0.0

    with pytest.raises(EvaluationError, match=r"raised ZeroDivisionError\('boom'\) at row") as e:
        relax.minimize(f, Gaussian([0.0, 0.0], 1.0), seed=0, maxiter=2)
    assert isinstance(e.value.__cause__, ZeroDivisionError)


def test_worst_policy_never_updates_from_garbage():
    """Points where f is NaN, inf or raises are ranked last; the run still solves the
    problem and the model stays finite."""
    def f(x):
        if x[0] > 2.0:
            return np.nan
        if x[1] > 2.0:
            raise RuntimeError("simulator crashed")
        return float(x @ x)

    r = relax.minimize(f, Gaussian([1.0, 1.0], 1.0), seed=0, invalid="worst", target=1e-6)
    assert r.fun < 1e-6 and np.all(np.isfinite(r.model.theta))


def test_all_invalid_batch_skips_the_step():
    opt = Optimizer(Gaussian([0.0, 0.0], 1.0), invalid="worst", seed=0)
    before = opt.model.theta.copy()
    X = opt.ask()
    opt.tell(X, np.full(X.shape[0], np.nan))
    np.testing.assert_array_equal(opt.model.theta, before)
    assert opt.state.skipped == 1 and opt.state.nfev == X.shape[0]


@pytest.mark.parametrize("f,vectorized,match", [
    (lambda X: np.zeros((X.shape[0], 2)), True, r"vectorized f must return shape \(\d+,\)"),
    (lambda x: np.zeros(2), False, "f must return a scalar for each point"),
])
def test_wrong_shape_is_a_clear_error(f, vectorized, match):
    with pytest.raises(ValueError, match=match):
        relax.minimize(f, Gaussian([0.0, 0.0], 1.0), vectorized=vectorized, maxiter=1)


def test_tell_validates_the_batch():
    opt = Optimizer(Bernoulli(3), seed=0)
    with pytest.raises(ValueError, match=r"X must have shape \(size, 3\)"):
        opt.tell(np.zeros((5, 2)), np.zeros(5))
    with pytest.raises(ValueError, match=r"fX must have shape \(5,\)"):
        opt.tell(np.zeros((5, 3)), np.zeros(4))


def test_exact_gradient_domain_limits():
    with pytest.raises(ValueError, match="n <= 3"):
        relax.exact_gradient(Gaussian(np.zeros(4), 1.0), lambda x: 0.0)
    with pytest.raises(ValueError, match="n <= 20"):
        relax.exact_gradient(Bernoulli(21), lambda x: 0.0)
