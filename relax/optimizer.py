"""The ask/tell optimizer: sample → evaluate → estimate → step.

One iteration: ``X = opt.ask()`` draws ``popsize`` points from the model, the caller
evaluates f, ``opt.tell(X, fX)`` shapes the values into weights ω, estimates
g_θ = Σ ω_i (T(x_i) − η) (and g_η = I_θ⁻¹ g_θ when the direction needs it), picks the
direction by the duality table and takes the step in chart ``param``.

All state that changes lives in :class:`State`, a plain picklable dataclass: the model,
the ``numpy.random.Generator`` (so a pickled optimizer resumes bit for bit), counters,
best point, persistent Gibbs chains and the history.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.optimize import OptimizeResult

from relax.direction import check_choice, eta_from_theta_gradient, needs_g_eta, select
from relax.estimate import cov_f_T, solve_empirical_fisher
from relax.evaluate import POLICIES, check_values
from relax.models.base import ExponentialFamily, as_rng, check_model
from relax.shaping import SHAPINGS, shape
from relax.step import Metric, TrustRegion, as_rule, take_step

HISTORY_FIELDS = ("nfev", "best_f", "mean_f", "rho", "kl", "spread")


def default_popsize(model: ExponentialFamily) -> int:
    """λ₀ = 4 + ⌊3 ln n⌋ (CMA-ES's choice): max(λ₀, 8) for binary models, 4λ₀ for Gaussians.

    Gaussians get four times CMA-ES's population because one step size moves mean and
    covariance together: with rank weights the log-variance of directions f ignores drifts
    down by ≈ 2ρ²/μ_eff per step (the −ρ²ΔμΔμᵀ term of the η-step and Jensen), and a larger
    μ_eff is what keeps that drift below the progress of the mean.
    """
    lam = 4 + int(3 * np.log(model.n))
    return max(lam, 8) if model.domain == "binary" else 4 * lam


def default_param(model: ExponentialFamily) -> str:
    """The chart used when ``param="auto"``: η for binary models, θ for Gaussians.

    Both charts follow the same natural-gradient flow and differ at second order in ρ.
    With rank weights the η-step on a Gaussian, Σ' = (1−ρ)Σ + ρΣ_w − ρ²ΔμΔμᵀ, shrinks the
    variance of directions f ignores by ≈ 2ρ²/μ_eff per step in log scale; the θ-step
    updates the precision instead, Σ'⁻¹ ≈ (1+ρ)Σ⁻¹ − ρΣ⁻¹Σ_wΣ⁻¹, and that bias has the
    opposite sign.  Measured (``benchmarks/RESULTS.md``): natural-θ solves Rosenbrock in
    5, 10 and 20 dimensions where natural-η stalls, at the same cost on the sphere and
    the ellipsoid.  On {−1,+1}^n the η-step is PBIL, which keeps η inside (−1, 1) by
    convexity, while the θ-step divides by 1 − η² and fixes bits early.
    """
    return "eta" if model.domain == "binary" else "theta"


def default_step(model: ExponentialFamily) -> TrustRegion:
    """KL trust region; ε shrinks with the number of free parameters."""
    return TrustRegion(epsilon=float(np.clip(0.5 * model.n / model.k, 0.02, 0.5)))


@dataclass
class State:
    """Everything that changes from one iteration to the next (picklable)."""

    model: ExponentialFamily
    rng: np.random.Generator
    t: int = 0
    nfev: int = 0
    best_x: np.ndarray | None = None
    best_f: float = np.inf
    stall: int = 0
    skipped: int = 0
    chains: object = None
    history: dict = field(default_factory=lambda: {k: [] for k in HISTORY_FIELDS})


class Optimizer:
    """Stochastic relaxation by (natural or vanilla) gradient steps, ask/tell style.

    Parameters
    ----------
    model : ExponentialFamily
        The initial distribution p(x; ξ₀) (e.g. ``Gaussian(x0, sigma0**2)``,
        ``Bernoulli(n)``, ``Ising(n, graph)``).
    gradient : {"natural", "vanilla"}
    param : {"auto", "eta", "theta"}
        The chart the step is taken in; see :data:`relax.direction.DUALITY`.  ``"auto"``
        (the default) is ``"eta"`` for binary models and ``"theta"`` for Gaussians (see
        :func:`default_param`).
    popsize : int, optional
        Sample size per iteration (default :func:`default_popsize`).
    step : float, str or rule, optional
        A fixed ρ, ``"fixed"``, ``"decay"``, ``"trust-region"``, or a
        :class:`~relax.step.Fixed` / :class:`~relax.step.Decay` /
        :class:`~relax.step.TrustRegion`.  Default: a KL trust region
        (:func:`default_step`).
    shaping : {"ranks", "raw", "centered", "standardized"}
        Fitness shaping, see :mod:`relax.shaping`.
    fisher : {"auto", "exact", "empirical"}
        How g_η = I_θ⁻¹ g_θ is obtained; ``"auto"`` is exact when tractable.
    ridge : float
        Relative ridge of the empirical Fisher.
    invalid : {"raise", "worst"}
        Policy for non-finite f values, see :mod:`relax.evaluate`.
    theta_max : float
        Binary models keep |θ_i| ≤ theta_max (probabilities never round to 0 or 1).
    maxiter, maxfev : int, optional
        Budgets (``stop()`` reports them).
    target : float, optional
        Stop once the best f ≤ target.
    tolspread : float, optional
        Stop when ``model.spread()`` falls below this (largest σ for Gaussians, default
        1e-11 × the initial spread; entropy in nats for binary models, default 1e-3).
    patience : int, optional
        Stop when the best f has not improved for this many iterations
        (default 100 + 30 n / popsize).
    seed : int or Generator, optional
        Seed of the single ``numpy.random.Generator`` used for every draw.
    """

    def __init__(self, model: ExponentialFamily, *, gradient="natural", param="auto",
                 popsize=None, step=None, shaping="ranks", fisher="auto", ridge=1e-6,
                 invalid="raise", theta_max=15.0, maxiter=None, maxfev=None, target=None,
                 tolspread=None, patience=None, seed=None):
        check_model(model)
        self.gradient = check_choice("gradient", gradient, ("natural", "vanilla"))
        check_choice("param", param, ("auto", "theta", "eta"))
        self.param = default_param(model) if param == "auto" else param
        self.shaping = check_choice("shaping", shaping, SHAPINGS)
        self.fisher = check_choice("fisher", fisher, ("auto", "exact", "empirical"))
        exact = model.exact
        if fisher == "exact" and not exact:
            raise ValueError(f"fisher='exact' is intractable for {model!r}; use 'empirical'")
        if fisher == "auto":
            self.fisher = "exact" if exact else "empirical"
        self.invalid = check_choice("invalid", invalid, POLICIES)
        self.popsize = default_popsize(model) if popsize is None else _int("popsize", popsize, 2)
        self.step = default_step(model) if step is None else as_rule(step)
        self.ridge = float(ridge)
        self.theta_max = float(theta_max)
        self.maxiter = None if maxiter is None else _int("maxiter", maxiter, 1)
        self.maxfev = None if maxfev is None else _int("maxfev", maxfev, 1)
        self.target = None if target is None else float(target)
        spread0 = model.spread() if exact else np.inf
        self.tolspread = (
            float(tolspread) if tolspread is not None
            else (1e-3 if model.domain == "binary" else 1e-11 * spread0)
        )
        self.patience = (_int("patience", patience, 1) if patience is not None
                         else int(100 + 30 * model.n / self.popsize))
        self.state = State(model=model, rng=as_rng(seed))

    # ------------------------------------------------------------------ loop
    @property
    def model(self) -> ExponentialFamily:
        return self.state.model

    def ask(self) -> np.ndarray:
        """Draw ``popsize`` points from the current model, shape (popsize, n)."""
        s = self.state
        if hasattr(s.model, "sample_chains"):
            X, s.chains = s.model.sample_chains(self.popsize, s.rng, s.chains)
            return X
        return s.model.sample(self.popsize, s.rng)

    def tell(self, X: np.ndarray, fX: np.ndarray) -> None:
        """Update the model from the sample X and its values f(X).

        Raw values update the best point; shaped values drive the step.  Rows whose value
        is non-finite are handled by the ``invalid`` policy and never enter an estimate.
        """
        s = self.state
        X = s.model._check_X(X)
        fX = np.asarray(fX, dtype=float)
        if fX.shape != (X.shape[0],):
            raise ValueError(f"fX must have shape ({X.shape[0]},) to match X; got {fX.shape}")
        ev = check_values(fX, X, self.invalid)
        s.nfev += X.shape[0]
        self._track_best(X, ev.values, ev.valid)
        if ev.valid.sum() >= 2:
            rho, kl = self._update(X, ev.values, ev.valid)
        else:
            rho, kl, s.skipped = 0.0, 0.0, s.skipped + 1
        s.t += 1
        self._record(ev.values[ev.valid], rho, kl, X)

    def _track_best(self, X, values, valid) -> None:
        s = self.state
        i = int(np.argmin(values))
        if valid[i] and values[i] < s.best_f:
            improved = not np.isfinite(s.best_f) or (
                values[i] < s.best_f - 1e-12 * max(1.0, abs(s.best_f)))
            s.best_f, s.best_x = float(values[i]), X[i].copy()
            s.stall = 0 if improved else s.stall + 1
        else:
            s.stall += 1

    def _weights(self, values, valid) -> np.ndarray:
        """Shaped weights for the valid rows (invalid rows ranked last with weight 0)."""
        if self.shaping == "ranks":
            return shape(values, "ranks")[valid]
        return shape(values[valid], self.shaping)

    def _update(self, X, values, valid) -> tuple[float, float]:
        s = self.state
        model = s.model
        Xv = X[valid]
        T = model.stats(Xv)
        exact = self.fisher == "exact"
        base = model.eta if model.exact else T.mean(axis=0)
        g_theta = cov_f_T(self._weights(values, valid), T, base)
        g_eta = None
        if needs_g_eta(self.gradient, self.param):
            g_eta = eta_from_theta_gradient(
                model, g_theta, fisher=self.fisher, T=T, ridge=self.ridge
            )
        d = select(self.gradient, self.param, g_theta, g_eta)
        step = take_step(model, self.param, d, self.step, s.t, self._metric(T, exact),
                         theta_max=self.theta_max)
        s.model = step.model
        return step.rho, step.kl

    def _metric(self, T, exact: bool) -> Metric:
        model = self.state.model
        if exact:
            return Metric(model.fisher_vector, model.natural_from_vanilla)
        Tc = T - T.mean(axis=0)
        N = T.shape[0]
        return Metric(lambda v: Tc.T @ (Tc @ v) / (N - 1),
                      lambda g: solve_empirical_fisher(T, g, self.ridge))

    def _spread(self, X) -> float:
        model = self.state.model
        if model.exact:
            return float(model.spread())
        p = np.clip((1.0 + X.mean(axis=0)) / 2.0, 1e-300, 1.0)
        q = np.clip(1.0 - p, 1e-300, 1.0)
        return float(-np.sum(p * np.log(p) + q * np.log(q)))

    def _record(self, finite_values, rho, kl, X) -> None:
        s = self.state
        mean_f = float(np.mean(finite_values)) if finite_values.size else np.nan
        row = (s.nfev, s.best_f, mean_f, rho, kl, self._spread(X))
        for key, value in zip(HISTORY_FIELDS, row, strict=True):
            s.history[key].append(value)

    # ------------------------------------------------------------- stopping
    def stop(self) -> dict[str, str]:
        """The stopping criteria that hold now, ``{name: message}`` (empty: keep going)."""
        s, out = self.state, {}
        if self.maxfev is not None and s.nfev >= self.maxfev:
            out["maxfev"] = f"maximum number of function evaluations ({self.maxfev}) reached"
        if self.maxiter is not None and s.t >= self.maxiter:
            out["maxiter"] = f"maximum number of iterations ({self.maxiter}) reached"
        if self.target is not None and s.best_f <= self.target:
            out["target"] = f"target f <= {self.target:g} reached"
        spread = s.history["spread"][-1] if s.t else np.inf
        if spread < self.tolspread:
            out["tolspread"] = f"distribution collapsed (spread {spread:.3g} < {self.tolspread:g})"
        if s.stall >= self.patience:
            out["stagnation"] = f"no improvement of the best f in {self.patience} iterations"
        return out

    def result(self) -> OptimizeResult:
        """The run so far as a ``scipy.optimize.OptimizeResult``.

        ``x``/``fun`` are the best point seen and its value, ``model`` the current
        distribution, ``history`` a dict of per-iteration arrays
        (nfev, best_f, mean_f, rho, kl, spread).
        """
        s = self.state
        reasons = self.stop()
        success = "target" in reasons or "tolspread" in reasons or (
            self.target is None and "stagnation" in reasons)
        message = "; ".join(reasons.values()) or "running (no stopping criterion met)"
        return OptimizeResult(
            x=s.best_x, fun=s.best_f, nfev=s.nfev, nit=s.t, success=bool(success),
            message=message, status=0 if success else 1, stop=reasons, model=s.model,
            history={k: np.asarray(v) for k, v in s.history.items()},
        )

    # ---------------------------------------------------------- checkpoints
    def save(self, path: str | Path) -> None:
        """Pickle the whole optimizer (state and settings) to ``path``, atomically."""
        path = Path(path)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(pickle.dumps(self))
        tmp.replace(path)

    @staticmethod
    def load(path: str | Path) -> Optimizer:
        """An optimizer saved by :meth:`save`; it continues exactly where it stopped."""
        opt = pickle.loads(Path(path).read_bytes())
        if not isinstance(opt, Optimizer):
            raise ValueError(f"{path} does not hold a relax Optimizer")
        return opt


def _int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)
