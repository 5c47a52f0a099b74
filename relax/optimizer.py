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

from relax.direction import check_choice
from relax.evaluate import POLICIES, check_values
from relax.history import History
from relax.models import DiagonalGaussian, Gaussian
from relax.models.base import ExponentialFamily, as_rng, check_model
from relax.search import AdaptiveSearch, FlatSearch, FrameSearch
from relax.shaping import SHAPINGS
from relax.step import TrustRegion, as_rule
from relax.stopping import CONVERGED, Termination

ADAPT = ("auto", "cma", "none")


def is_gaussian(model: ExponentialFamily) -> bool:
    return isinstance(model, Gaussian | DiagonalGaussian)


def default_popsize(model: ExponentialFamily, adaptive: bool = True) -> int:
    """λ₀ = 4 + ⌊3 ln n⌋ (CMA-ES's choice) for the adaptive Gaussian search;
    max(λ₀, 8) for binary models; 4λ₀ for Gaussians under a plain step rule.

    The plain rule moves mean and covariance with one ρ: with rank weights the
    log-variance of directions f ignores drifts down by ≈ 2ρ²/μ_eff per step (the
    −ρ²ΔμΔμᵀ term of the η-step and Jensen), and a larger μ_eff keeps that drift below
    the progress of the mean.  The adaptive search has a learning rate per block and
    needs no such margin.
    """
    lam = 4 + int(3 * np.log(model.n))
    if model.domain == "binary":
        return max(lam, 8)
    return lam if adaptive else 4 * lam


def default_param(model: ExponentialFamily, adaptive: bool = True) -> str:
    """The chart used when ``param="auto"``.

    - Binary models: η.  On {−1,+1}^n the natural η-step is PBIL, which keeps η inside
      (−1, 1) by convexity, while the θ-step divides by 1 − η² and fixes bits early.
    - Adaptive Gaussian search: η (the correlation increments are added to the covariance,
      as CMA-ES does; ``"theta"`` adds them to the precision instead).
    - Plain Gaussian steps: θ.  With one ρ for mean and covariance, the η-step
      Σ' = (1−ρ)Σ + ρΣ_w − ρ²ΔμΔμᵀ shrinks the variance of directions f ignores by
      ≈ 2ρ²/μ_eff per step in log scale and stalls in Rosenbrock's valley; the θ-step's
      second-order bias has the opposite sign.
    """
    if model.domain == "binary" or adaptive:
        return "eta"
    return "theta"


def default_step(model: ExponentialFamily) -> TrustRegion:
    """KL trust region; ε shrinks with the number of free parameters."""
    return TrustRegion(epsilon=float(np.clip(0.5 * model.n / model.k, 0.02, 0.5)))


@dataclass
class State:
    """Everything that changes from one iteration to the next (picklable)."""

    search: object
    rng: np.random.Generator
    termination: Termination
    t: int = 0
    nfev: int = 0
    best_x: np.ndarray | None = None
    best_f: float = np.inf
    skipped: int = 0
    history: History = field(default_factory=History)

    @property
    def model(self) -> ExponentialFamily:
        return self.search.model


class Optimizer:
    """Stochastic relaxation by (natural or vanilla) gradient steps, ask/tell style.

    Parameters
    ----------
    model : ExponentialFamily
        The initial distribution p(x; ξ₀) (e.g. ``Gaussian(x0, sigma0**2)``,
        ``Bernoulli(n)``, ``Ising(n, graph)``).
    gradient : {"natural", "vanilla"}
    param : {"auto", "eta", "theta"}
        The chart the step is taken in; see :data:`relax.direction.DUALITY` and
        :func:`default_param`.
    adapt : {"auto", "cma", "none"}
        ``"cma"``: the adaptive Gaussian search of :mod:`relax.adapt` (natural gradient,
        rank weights, per-block learning rates, step-size control, evolution paths,
        diagonal decoding).  ``"none"``: one step of size ρ from ``step`` per iteration.
        ``"auto"`` (default): ``"cma"`` for Gaussian models when ``gradient="natural"``,
        ``shaping="ranks"`` and no ``step`` is given, else ``"none"``.
    mirrored : bool
        Adaptive search only: draw each population in mirrored pairs ±z (default True).
    popsize : int, optional
        Sample size per iteration (default :func:`default_popsize`).
    step : float, str or rule, optional
        A fixed ρ, ``"fixed"``, ``"decay"``, ``"trust-region"``, or a
        :class:`~relax.step.Fixed` / :class:`~relax.step.Decay` /
        :class:`~relax.step.TrustRegion` (plain steps only; default: a KL trust region,
        :func:`default_step`).
    shaping : {"ranks", "raw", "centered", "standardized"}
        Fitness shaping of the plain steps, see :mod:`relax.shaping` (the adaptive search
        uses its own rank weights).
    fisher : {"auto", "exact", "empirical"}
        How g_η = I_θ⁻¹ g_θ is obtained on non-Gaussian models; ``"auto"`` is exact when
        tractable.
    ridge : float
        Relative ridge of the empirical Fisher.
    invalid : {"raise", "worst"}
        Policy for non-finite f values, see :mod:`relax.evaluate`.
    theta_max : float
        Binary models keep |θ_i| ≤ theta_max (probabilities never round to 0 or 1).
    maxiter, maxfev : int, optional
        Budgets (``stop()`` reports them).
    target : float, optional
        Stop once the best f ≤ target; ``success`` then means exactly that.
    tolspread : float, optional
        Stop when ``model.spread()`` falls below this (binary models: entropy in nats,
        default 1e-3; Gaussians: largest σ, default off — ``tolx`` is the relative rule).
    tolfun, tolx : float
        Relative stopping rules of :mod:`relax.stopping` (Gaussians).
    patience : int, optional
        Stop when the best f has not improved for this many iterations (default
        100 + 30 n / popsize on binary models, off on Gaussians, whose ``stagnation`` rule
        compares medians instead).
    seed : int or Generator, optional
        Seed of the single ``numpy.random.Generator`` used for every draw.
    """

    def __init__(self, model: ExponentialFamily, *, gradient: str = "natural",
                 param: str = "auto", adapt: str = "auto", mirrored: bool = True,
                 popsize: int | None = None,
                 step=None, shaping: str = "ranks", fisher: str = "auto", ridge: float = 1e-6,
                 invalid: str = "raise", theta_max: float = 15.0, maxiter: int | None = None,
                 maxfev: int | None = None, target: float | None = None,
                 tolspread: float | None = None, tolfun: float = 1e-12, tolx: float = 1e-12,
                 patience: int | None = None, seed=None):
        check_model(model)
        self.gradient = check_choice("gradient", gradient, ("natural", "vanilla"))
        check_choice("param", param, ("auto", "theta", "eta"))
        self.shaping = check_choice("shaping", shaping, SHAPINGS)
        self.adapt = self._resolve_adapt(model, adapt, step)
        if not isinstance(mirrored, bool | np.bool_):
            raise ValueError(f"mirrored must be True or False; got {mirrored!r}")
        self.mirrored = bool(mirrored)
        adaptive = self.adapt == "cma"
        self.param = default_param(model, adaptive) if param == "auto" else param
        self.fisher = self._resolve_fisher(model, fisher)
        self.invalid = check_choice("invalid", invalid, POLICIES)
        self.popsize = (default_popsize(model, adaptive) if popsize is None
                        else _int("popsize", popsize, 2))
        self.step = None if adaptive else (default_step(model) if step is None
                                           else as_rule(step))
        self.ridge = float(ridge)
        self.theta_max = float(theta_max)
        self.maxiter = None if maxiter is None else _int("maxiter", maxiter, 1)
        self.maxfev = None if maxfev is None else _int("maxfev", maxfev, 1)
        self.target = None if target is None else float(target)
        binary = model.domain == "binary"
        self.tolspread = (float(tolspread) if tolspread is not None
                          else (1e-3 if binary else None))
        if patience is None and binary:
            patience = int(100 + 30 * model.n / self.popsize)
        termination = Termination(
            n=model.n, popsize=self.popsize,
            spread0=model.spread() if model.exact else np.inf,
            tolfun=float(tolfun), tolx=float(tolx),
            patience=None if patience is None else _int("patience", patience, 1),
            rules=("patience",) if binary else None,
        )
        self.state = State(search=self._search(model), rng=as_rng(seed),
                           termination=termination)

    def _resolve_adapt(self, model, adapt, step) -> str:
        adapt = "none" if adapt is None else check_choice("adapt", adapt, ADAPT)
        plain = self.gradient != "natural" or step is not None or self.shaping != "ranks"
        if adapt == "auto":
            return "cma" if is_gaussian(model) and not plain else "none"
        if adapt == "cma" and (not is_gaussian(model) or plain):
            raise ValueError(
                "adapt='cma' needs a Gaussian model, gradient='natural', shaping='ranks' and "
                "no step rule; drop the conflicting option or pass adapt='none'"
            )
        return adapt

    @staticmethod
    def _resolve_fisher(model, fisher) -> str:
        check_choice("fisher", fisher, ("auto", "exact", "empirical"))
        if fisher == "exact" and not model.exact:
            raise ValueError(f"fisher='exact' is intractable for {model!r}; use 'empirical'")
        if fisher == "auto":
            return "exact" if model.exact else "empirical"
        return fisher

    def _search(self, model):
        if self.adapt == "cma":
            return AdaptiveSearch(model, self.popsize, self.param, self.mirrored)
        if is_gaussian(model):
            return FrameSearch(model, self.gradient, self.param, self.step, self.shaping)
        return FlatSearch(model, self.gradient, self.param, self.step, self.shaping,
                          self.fisher, self.ridge, self.theta_max)

    # ------------------------------------------------------------------ loop
    @property
    def model(self) -> ExponentialFamily:
        """The current distribution."""
        return self.state.search.model

    def ask(self) -> np.ndarray:
        """Draw ``popsize`` points from the current model, shape (popsize, n)."""
        s = self.state
        return s.search.ask(self.popsize, s.rng)

    def tell(self, X: np.ndarray, fX: np.ndarray) -> None:
        """Update the model from the sample X and its values f(X).

        Raw values update the best point; shaped values drive the step.  Rows whose value
        is non-finite are handled by the ``invalid`` policy and never enter an estimate.
        """
        s = self.state
        X = np.asarray(X, dtype=float)
        n = s.termination.n
        if X.ndim != 2 or X.shape[1] != n:
            raise ValueError(f"X must have shape (size, {n}); got {X.shape}")
        fX = np.asarray(fX, dtype=float)
        if fX.shape != (X.shape[0],):
            raise ValueError(f"fX must have shape ({X.shape[0]},) to match X; got {fX.shape}")
        ev = check_values(fX, X, self.invalid)
        s.nfev += X.shape[0]
        improved = self._track_best(X, ev.values, ev.valid)
        if ev.valid.sum() >= 2:
            rho, kl = s.search.tell(X, ev.values, ev.valid, s.t)
        else:
            rho, kl, s.skipped = 0.0, 0.0, s.skipped + 1
        s.t += 1
        s.termination.record(ev.values[ev.valid], improved)
        self._record(ev.values[ev.valid], rho, kl, X)

    def _track_best(self, X, values, valid) -> bool:
        """Update the best point; True when the best f decreased."""
        s = self.state
        i = int(np.argmin(values))
        if valid[i] and values[i] < s.best_f:
            s.best_f, s.best_x = float(values[i]), X[i].copy()
            return True
        return False

    def _record(self, finite_values, rho, kl, X) -> None:
        s = self.state
        mean_f = float(np.mean(finite_values)) if finite_values.size else np.nan
        s.history.append({"nfev": s.nfev, "best_f": s.best_f, "mean_f": mean_f, "rho": rho,
                          "kl": kl, "spread": s.search.spread(X), **s.search.trace()})

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
        if not s.t:
            return out
        spread = s.history.last("spread")
        if self.tolspread is not None and spread < self.tolspread:
            out["tolspread"] = f"distribution collapsed (spread {spread:.3g} < {self.tolspread:g})"
        search = s.search
        out.update(s.termination.check(spread, cond=search.condition(),
                                       noeffect=search.noeffect()))
        return out

    def result(self) -> OptimizeResult:
        """The run so far as a ``scipy.optimize.OptimizeResult``.

        ``x``/``fun`` are the best point seen and its value, ``model`` the current
        distribution, ``history`` a dict of per-iteration arrays (views, O(1) to build):
        nfev, best_f, mean_f, rho, kl, spread, and for the adaptive Gaussian search sigma
        (and, for n ≤ 200, axes — the sorted principal standard deviations — and mean).
        ``success`` is True when the target is reached (if one is set), otherwise when a
        convergence rule holds (tolfun, tolx, tolspread, noeffect) after valid points.
        """
        s = self.state
        reasons = self.stop()
        if self.target is not None:
            success = s.best_f <= self.target
        else:
            success = np.isfinite(s.best_f) and any(r in reasons for r in CONVERGED)
        message = "; ".join(reasons.values()) or "running (no stopping criterion met)"
        return OptimizeResult(
            x=s.best_x, fun=s.best_f, nfev=s.nfev, nit=s.t, success=bool(success),
            message=message, status=0 if success else 1, stop=reasons, model=self.model,
            history=s.history.arrays(),
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
