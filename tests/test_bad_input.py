"""Bad input gets a clear error naming the argument, or the documented policy."""

from concurrent.futures import ThreadPoolExecutor

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


#: Every argument of Optimizer (and so of minimize) with values it must refuse: the error
#: names the argument and says what is allowed.
OPTIMIZER_ERRORS = [
    ({"gradient": "newton"}, "gradient must be one of 'natural', 'vanilla'; got 'newton'"),
    ({"param": "mu"}, "param must be one of"),
    ({"adapt": "yes"}, "adapt must be one of"),
    ({"shaping": "fancy"}, "shaping must be one of"),
    ({"fisher": "approximate"}, "fisher must be one of"),
    ({"invalid": "ignore"}, "invalid must be one of 'raise', 'worst', 'resample'"),
    ({"mirrored": "no"}, "mirrored must be True or False; got 'no'"),
    ({"popsize": 1}, "popsize must be an integer >= 2; got 1"),
    ({"popsize": 6.0}, "popsize must be an integer >= 2; got 6.0"),
    ({"popsize": True}, "popsize must be an integer >= 2; got True"),
    ({"step": -1}, "step must be a finite number > 0; got -1"),
    ({"step": 0.0}, "step must be a finite number > 0"),
    ({"step": np.inf}, "step must be a finite number > 0; got inf"),
    ({"step": np.nan}, "step must be a finite number > 0; got nan"),
    ({"step": True}, "step must be"),
    ({"step": "big"}, "step must be"),
    ({"step": relax.Fixed(np.inf)}, "step.rho must be a finite number > 0; got inf"),
    ({"step": relax.Decay(power=np.nan)}, "step.power must be a finite number >= 0; got nan"),
    ({"step": relax.Decay(tau=np.inf)}, "step.tau must be a finite number > 0"),
    ({"step": relax.TrustRegion(np.inf)}, "step.epsilon must be a finite number > 0"),
    ({"ridge": -1}, "ridge must be a finite number >= 0; got -1"),
    ({"ridge": np.nan}, "ridge must be a finite number >= 0"),
    ({"theta_max": 0}, "theta_max must be a finite number > 0; got 0"),
    ({"theta_max": -3.0}, "theta_max must be a finite number > 0"),
    ({"theta_max": np.nan}, "theta_max must be a finite number > 0; got nan"),
    ({"theta_max": np.inf}, "theta_max must be a finite number > 0; got inf"),
    ({"theta_max": 40.0}, r"tanh\(theta_max\) < 1"),
    ({"maxiter": 0}, "maxiter must be an integer >= 1; got 0"),
    ({"maxiter": 2.5}, "maxiter must be an integer >= 1"),
    ({"maxfev": -5}, "maxfev must be an integer >= 1"),
    ({"target": "a"}, "target must be a finite number; got 'a'"),
    ({"target": np.nan}, "target must be a finite number; got nan"),
    ({"target": np.inf}, "target must be a finite number; got inf"),
    ({"target": -np.inf}, "target must be a finite number"),
    ({"tolspread": -1.0}, "tolspread must be a finite number >= 0"),
    ({"tolfun": np.nan}, "tolfun must be a finite number >= 0"),
    ({"tolx": "small"}, "tolx must be a finite number >= 0"),
    ({"patience": 0}, "patience must be an integer >= 1"),
    ({"seed": "abc"}, "seed must be None, an integer >= 0.*got 'abc'"),
    ({"seed": -1}, "seed must be None, an integer >= 0"),
    ({"seed": 1.5}, "seed must be None, an integer >= 0"),
    ({"seed": True}, "seed must be None"),
]


@pytest.mark.parametrize("kwargs,match", OPTIMIZER_ERRORS,
                         ids=[next(iter(k)) + "=" + repr(v) for k, v in
                              ((kw, next(iter(kw.values()))) for kw, _ in OPTIMIZER_ERRORS)])
@pytest.mark.parametrize("model", [Gaussian([0.0], 1.0), Bernoulli(2)], ids=["real", "binary"])
def test_optimizer_argument_errors(model, kwargs, match):
    with pytest.raises(ValueError, match=match):
        Optimizer(model, **kwargs)
    with pytest.raises(ValueError, match=match):
        relax.minimize(lambda x: 0.0, model, **({"maxiter": 1} | kwargs))


def f0(x):
    return 0.0


#: Arguments of minimize (beyond the Optimizer's) with values it must refuse, before any
#: evaluation.
MINIMIZE_ERRORS = [
    ({"f": 3}, "f must be callable; got 3"),
    ({"model": np.zeros(3)}, "model must be a relax model"),
    ({"vectorized": "no"}, "vectorized must be True or False; got 'no'"),
    ({"vectorized": 1}, "vectorized must be True or False"),
    ({"callback": 3}, "callback must be a callable or None; got 3"),
    ({"restarts": -1}, "restarts must be an integer >= 0"),
    ({"restart": "random"}, "restart must be one of"),
    ({"workers": 0}, "workers must be an integer >= 1; got 0"),
    ({"workers": 2.0}, "workers must be an integer >= 1"),
    ({"executor": "pool"}, "executor must be a concurrent.futures.Executor"),
    ({"timeout": -1.0}, "timeout must be a finite number > 0"),
    ({"timeout": 1.0}, "timeout needs workers=N or executor="),
    ({"max_resamples": -1}, "max_resamples must be an integer >= 0"),
    ({"checkpoint": 3}, "checkpoint must be a file path or None"),
    ({"checkpoint_every": 5}, "checkpoint_every needs checkpoint=PATH"),
    ({"checkpoint": "/nonexistent/folder/c.pkl"}, "does not exist or is not writable"),
    ({"checkpoint": "c.pkl", "checkpoint_every": 0}, "checkpoint_every must be an integer"),
    ({"checkpoint": "c.pkl", "restarts": 1}, "checkpoint cannot be combined with restarts"),
    ({"workers": 2, "executor": ThreadPoolExecutor(1)}, "not both"),
    ({"f": lambda x: 0.0, "workers": 2}, "f must be picklable to run on a process pool"),
]


@pytest.mark.parametrize("kwargs,match", MINIMIZE_ERRORS,
                         ids=[" ".join(k) for k, _ in MINIMIZE_ERRORS])
def test_minimize_argument_errors(kwargs, match, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    calls = []
    args = {"f": lambda x: calls.append(x) or 0.0, "model": Gaussian([0.0, 0.0], 1.0),
            "maxiter": 2} | kwargs
    with pytest.raises(ValueError, match=match):
        relax.minimize(args.pop("f"), args.pop("model"), **args)
    assert calls == [] and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kwargs", [
    {"step": np.float32(0.1)}, {"step": np.float64(0.2)}, {"popsize": np.int64(6)},
    {"maxiter": np.int32(3)}, {"maxfev": np.uint16(100)}, {"target": np.float32(-1.0)},
    {"seed": np.int64(3)}, {"seed": np.random.default_rng(1)}, {"mirrored": np.bool_(False)},
    {"theta_max": np.float32(10.0)}, {"ridge": np.float16(0.001)}, {"tolspread": 0},
])
def test_numpy_scalars_are_accepted(kwargs):
    model = Bernoulli(3) if "theta_max" in kwargs else Gaussian([1.0, 1.0], 1.0)
    r = relax.minimize(lambda x: float(np.sum(x)), model, **({"maxiter": 3} | kwargs))
    assert r.nit <= 3 and np.isfinite(r.fun)


def test_binary_model_outside_theta_max_is_refused():
    """tanh(40) == 1.0 in floating point: the model has a probability of exactly 1."""
    with pytest.raises(ValueError, match=r"\|theta_i\| up to 40 > theta_max = 15"):
        Optimizer(Bernoulli(theta=[40.0, 0.0]), theta_max=15.0)
    with pytest.raises(ValueError, match=r"\|theta_i\| up to 40 > theta_max = 1.5"):
        Optimizer(Bernoulli(theta=[40.0, 0.0]))  # the default margins
    with pytest.raises(ValueError, match="theta_max"):
        relax.minimize(lambda x: 0.0, Bernoulli(theta=[0.0, -16.0]), maxiter=1)


@pytest.mark.parametrize("X,match", [
    (np.full((8, 3), 0.5), r"X must hold -1/\+1 entries on a binary model; X\[0, 0\] = 0.5"),
    (np.where(np.eye(8, 3) > 0, np.nan, 1.0), r"X must be finite; X\[0, 0\] = nan"),
    (np.array([["a"] * 3] * 8), "X and fX must be numeric"),
])
def test_tell_refuses_bad_rows_and_changes_nothing(X, match):
    opt = Optimizer(Bernoulli(3), seed=0)
    asked = opt.ask()
    with pytest.raises(ValueError, match=match):
        opt.tell(X, np.zeros(8))
    assert opt.state.t == 0 and opt.state.nfev == 0 and len(opt.state.history) == 0
    np.testing.assert_array_equal(opt.ask(), asked)  # still pending


def test_tell_refuses_nan_in_a_real_X():
    opt = Optimizer(Gaussian([0.0, 0.0], 1.0), seed=0)
    X = opt.ask()
    X[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"X\[2, 1\] = nan"):
        opt.tell(X, np.zeros(len(X)))


def test_resample_needs_a_pending_batch_and_valid_rows():
    opt = Optimizer(Gaussian([0.0, 0.0], 1.0), seed=0, invalid="resample")
    with pytest.raises(RuntimeError, match="call ask"):
        opt.resample([0])
    X = opt.ask()
    for rows in ([len(X)], [0, 0], [-1], [0.5]):
        with pytest.raises(ValueError, match="rows must be distinct row indices"):
            opt.resample(rows)
    assert opt.state.nfev == 0


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
