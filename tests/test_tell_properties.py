"""Properties of ``Optimizer.tell`` over arbitrary batches (hypothesis): whatever f returns —
finite or not, from 1e-300 to 1e300 in magnitude, under every shaping — the model stays a
valid member of its family and the state stays consistent; under ``invalid="raise"`` a
failed batch changes nothing; the trust-region step does not depend on the scale of f."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import relax
from relax import Bernoulli, DiagonalGaussian, EvaluationError, Gaussian, Ising, Optimizer

SHAPINGS = ("ranks", "raw", "centered", "standardized")
SPECIAL = (np.nan, np.inf, -np.inf)

#: (name, model, Optimizer options): every search the optimizer has.
SETUPS = [
    ("adaptive-full", lambda: Gaussian(np.ones(3), 1.0), {}),
    ("adaptive-diagonal", lambda: DiagonalGaussian(np.ones(3), 1.0), {}),
    *[(f"frame-{s}", lambda: Gaussian(np.ones(3), 1.0), {"shaping": s, "adapt": "none"})
      for s in SHAPINGS],
    *[(f"frame-theta-{s}", lambda: DiagonalGaussian(np.ones(3), 1.0),
       {"shaping": s, "param": "theta", "step": 0.1}) for s in SHAPINGS],
    *[(f"bernoulli-{s}", lambda: Bernoulli(5), {"shaping": s}) for s in SHAPINGS],
    *[(f"bernoulli-theta-{s}", lambda: Bernoulli(5), {"shaping": s, "param": "theta"})
      for s in SHAPINGS],
    *[(f"ising-{s}", lambda: Ising(4, [(0, 1), (1, 2), (2, 3)]), {"shaping": s})
      for s in SHAPINGS],
]
IDS = [name for name, _, _ in SETUPS]

unit = st.one_of(st.floats(-1.0, 1.0), st.sampled_from(SPECIAL))
anything = st.floats(allow_nan=True, allow_infinity=True)


@st.composite
def batches(draw, size: int):
    """``size`` values: scaled unit values (|f| from 1e-300 to 1e300, some non-finite) or
    arbitrary doubles (subnormals and ±1.8e308 included)."""
    if draw(st.booleans()):
        scale = 10.0 ** draw(st.integers(-300, 300))
        return np.array(draw(st.lists(unit, min_size=size, max_size=size))) * scale
    return np.array(draw(st.lists(anything, min_size=size, max_size=size)))


def assert_valid_model(model, theta_max=15.0):
    assert np.all(np.isfinite(model.theta)) and np.all(np.isfinite(model.eta))
    if model.domain == "real":
        cov = np.diag(model.var) if isinstance(model, DiagonalGaussian) else model.cov
        assert np.all(np.isfinite(cov)) and np.linalg.eigvalsh(cov)[0] > 0
    else:
        assert np.all(np.abs(model.theta) <= theta_max * (1 + 1e-12))
        assert np.all(np.abs(model.eta) < 1)


@pytest.mark.parametrize("name,make,options", SETUPS, ids=IDS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_model_stays_valid_and_state_consistent(name, make, options, data):
    opt = Optimizer(make(), invalid="worst", seed=data.draw(st.integers(0, 2**32 - 1)),
                    **options)
    best, failed, seen = np.inf, 0, []
    for t in range(1, 4):
        X = opt.ask()
        fX = data.draw(batches(len(X)))
        opt.tell(X, fX)
        s = opt.state
        bad = int(np.sum(~np.isfinite(fX)))
        failed += bad
        finite = fX[np.isfinite(fX)]
        best = min(best, finite.min()) if finite.size else best
        assert (s.t, s.nfev, len(s.history), s.pending) == (t, t * len(X), t, None)
        assert s.best_f == best and s.failed == failed == opt.result().nfailed
        assert opt.result().history["failed"][-1] == bad
        seen.extend(zip(fX, X, strict=True))
        if np.isfinite(best):  # the first point that reached the best value
            first = next(x for v, x in seen if v == best)
            np.testing.assert_array_equal(s.best_x, first)
        assert_valid_model(opt.model)
        opt.stop()
    res = opt.result()
    assert not res.success or np.isfinite(best)
    if not np.isfinite(best):
        assert not res.success and res.x is None and "no valid evaluation" in res.message


@pytest.mark.parametrize("name,make,options", SETUPS[::3], ids=IDS[::3])
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_a_failed_batch_under_raise_changes_nothing(name, make, options, data):
    opt = Optimizer(make(), seed=0, **options)
    X = opt.ask()
    opt.tell(X, np.arange(len(X), dtype=float))
    before = (opt.state.t, opt.state.nfev, opt.state.best_f, opt.model.theta.copy(),
              len(opt.state.history))
    X = opt.ask()
    fX = data.draw(batches(len(X)))
    if np.all(np.isfinite(fX)):
        fX[data.draw(st.integers(0, len(X) - 1))] = data.draw(st.sampled_from(SPECIAL))
    with pytest.raises(EvaluationError) as info:
        opt.tell(X, fX)
    s = opt.state
    assert (s.t, s.nfev, s.best_f, len(s.history)) == (before[0], before[1], before[2],
                                                       before[4])
    np.testing.assert_array_equal(opt.model.theta, before[3])
    np.testing.assert_array_equal(opt.ask(), X)  # still pending
    partial = info.value.result
    assert partial.nfev == s.nfev + len(X) and not partial.success
    finite = fX[np.isfinite(fX)]
    assert partial.fun == min([s.best_f, *finite])


@pytest.mark.parametrize("shaping", SHAPINGS)
@pytest.mark.parametrize("make", [lambda: Bernoulli(30), lambda: Gaussian(np.ones(3), 1.0)],
                         ids=["bernoulli", "gaussian"])
@pytest.mark.parametrize("exponent", [-300, -200, -100, 100, 200, 300])
def test_trust_region_steps_do_not_depend_on_the_scale_of_f(make, shaping, exponent):
    """f and c·f give the same step: exactly for c a power of two, to rounding for
    c = 10^k (the bug was ρ = ∞, a jump to a corner, at 1e-200 and ρ = 0 at 1e300).
    f has no near-ties (values one ulp apart may swap order when scaled by 10^k)."""
    def step(c):
        opt = Optimizer(make(), shaping=shaping, adapt="none", seed=3)
        X = opt.ask()
        fX = np.sum((X - 0.3) ** 2 * np.arange(1, X.shape[1] + 1) ** 0.5, axis=1)
        fX = np.round(fX * 1e3)  # integers: distinct values stay ordered under scaling
        opt.tell(X, fX * c)
        return opt

    ref = step(1.0)
    exact = step(2.0 ** round(exponent * np.log2(10)))
    np.testing.assert_array_equal(exact.model.theta, ref.model.theta)
    scaled = step(10.0 ** exponent)
    np.testing.assert_allclose(scaled.model.theta, ref.model.theta, rtol=1e-6, atol=1e-9)
    assert scaled.state.history.last("kl") == pytest.approx(ref.state.history.last("kl"))
    assert_valid_model(scaled.model)


def test_a_numerical_failure_skips_the_step_and_restores_the_search(monkeypatch):
    """A step that fails half way through (the adaptive search has moved its mean, then
    an eigendecomposition fails) leaves the model as it was, counted in nskipped."""
    opt = Optimizer(Gaussian(np.ones(3), 1.0), seed=0)
    X = opt.ask()
    opt.tell(X, np.sum(X**2, axis=1))
    mean, cov = opt.model.mean().copy(), opt.model.cov.copy()

    def broken(self, *args):
        raise np.linalg.LinAlgError("eigh did not converge")

    monkeypatch.setattr(relax.adapt.Frame, "_diagonal", broken)
    X = opt.ask()
    opt.tell(X, np.sum(X**2, axis=1))
    s = opt.state
    assert s.t == 2 and s.nfev == 2 * len(X) and s.skipped == 1
    assert "eigh did not converge" in s.step_error and opt.result().nskipped == 1
    np.testing.assert_array_equal(opt.model.mean(), mean)
    np.testing.assert_array_equal(opt.model.cov, cov)
    monkeypatch.undo()
    X = opt.ask()
    opt.tell(X, np.sum(X**2, axis=1))
    assert opt.state.t == 3 and not np.array_equal(opt.model.mean(), mean)
