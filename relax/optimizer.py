"""The ask/tell optimizer: sample → evaluate → estimate → step.

One iteration: ``X = opt.ask()`` draws ``popsize`` points from the model, the caller
evaluates f, ``opt.tell(X, fX)`` shapes the values into weights ω, estimates
g_θ = Σ ω_i (T(x_i) − η) (and g_η = I_θ⁻¹ g_θ when the direction needs it), picks the
direction by the duality table and takes the step in chart ``param``.

All state that changes lives in :class:`State`, a plain picklable dataclass: the model,
the ``numpy.random.Generator`` (so a pickled optimizer resumes bit for bit), counters,
best point, persistent Gibbs chains, the history and the batch asked but not yet told (so
that a checkpoint taken between ``ask`` and ``tell`` resumes with the same batch).

``tell`` is atomic: it checks X and f(X) completely before it changes anything, and a
numerical failure inside the step (a singular matrix, an overflow) skips that step, is
counted (``nskipped``) and leaves the model as it was.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.optimize import OptimizeResult

from relax import backend, checkpoint, validate
from relax.direction import check_choice
from relax.evaluate import POLICIES, EvaluationError, check_values
from relax.history import History
from relax.models import DiagonalGaussian, Gaussian
from relax.models.base import ExponentialFamily, as_rng, check_model
from relax.search import AdaptiveSearch, FlatSearch, FrameSearch
from relax.shaping import SHAPINGS, unit_scale
from relax.step import TrustRegion, as_rule
from relax.stopping import CONVERGED, Termination

ADAPT = ("auto", "cma", "none")

#: Errors of a step's arithmetic (not of the input, which ``tell`` checks first): the step
#: is skipped and counted instead.
NUMERICAL_ERRORS = (ArithmeticError, np.linalg.LinAlgError, ValueError)


def is_gaussian(model: ExponentialFamily) -> bool:
    return isinstance(model, Gaussian | DiagonalGaussian)


def default_popsize(model: ExponentialFamily, adaptive: bool = True) -> int:
    """λ₀ = 4 + ⌊3 ln n⌋ (CMA-ES's choice) for the adaptive Gaussian search;
    ⌊1.5 (4 + 3 ln n)⌋ for binary models; 4λ₀ for Gaussians under a plain step rule.

    On {−1,+1}^n the larger population with a larger trust region (see
    :func:`default_step`) measured best on OneMax and LeadingOnes at n = 64 and 256
    (λ = 24 and 30: OneMax 398 and 1,992 evaluations, LeadingOnes 3,139 and 49,062, mean
    of 5 seeds; λ = 16 and 20 with ε = 0.5 needed 4,147 and 57,612 on LeadingOnes).
    Models with interactions take at least ⌈0.5 k⌉ samples (k statistics), so that the
    regression of f on span(T) behind their natural gradient is well posed enough (the
    shrinkage of :class:`relax.estimate.EmpiricalFisher` handles what N < k leaves).
    Measured with the adaptive trust region, 3 seeds at n = 256: λ = 0.5k solved the ring,
    the torus and the 16 × 16 ±J glass in 9,900, 12,000 and 15,600 evaluations (0.8k:
    15,300, 17,400, 22,100; 0.3k: the ring 2/3).

    The plain rule moves mean and covariance with one ρ: with rank weights the
    log-variance of directions f ignores drifts down by ≈ 2ρ²/μ_eff per step (the
    −ρ²ΔμΔμᵀ term of the η-step and Jensen), and a larger μ_eff keeps that drift below
    the progress of the mean.  The adaptive search has a learning rate per block and
    needs no such margin.
    """
    if model.domain == "binary":
        return max(8, int(1.5 * (4 + 3 * np.log(model.n))), math.ceil(0.5 * model.k)
                   if model.k > model.n else 0)
    lam = 4 + int(3 * np.log(model.n))
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
    """KL trust region.  Binary models: ε = 1 nat per step.  For the independence model
    (k = n) the margins of :func:`default_theta_max` undo wrong fixations.  Models with
    interactions anneal f along their natural-gradient path (see :func:`default_shaping`);
    there ε adapts to the signal-to-noise ratio of the steps (``adapt=True``,
    :class:`relax.step.TrustAdaptation`: it grows while steps agree and shrinks where the
    path bends or the gradient is noise) and each block of θ is shrunk by its own
    (:func:`relax.search.block_shrunk`).  Measured at n = 256, 3 seeds, λ = 0.5k: ring,
    torus and 16 × 16 ±J glass in 5,500, 5,400 and 7,600 evaluations from ε₀ = 1 (from
    ε₀ = 0.05: 9,900, 12,000, 15,600; with a fixed ε = 0.05 and no block shrinkage the
    ring failed 3/3, its fields drifting until they pinned two domain walls); the
    adaptive rule made the independence model slower on LeadingOnes (n = 256: 62,000
    against 49,000) and is off there.  Gaussians under a plain step rule:
    ε = clip(0.5 n/k, 0.02, 0.5)."""
    if model.domain == "binary":
        return TrustRegion(epsilon=1.0, adapt=model.k > model.n)
    return TrustRegion(epsilon=float(np.clip(0.5 * model.n / model.k, 0.02, 0.5)))


def default_shaping(model: ExponentialFamily) -> str:
    """``"centered"`` (raw f, centred) for binary models with interactions, ``"ranks"``
    otherwise.

    With centred raw values the empirical natural gradient is the least-squares fit of f
    on span(T); when f lies in span(T) (Ising, spin-glass, MaxCut and QUBO problems on the
    model's own graph) the fit is exact and the natural-gradient path is the Boltzmann
    path θ = −βc of f = cᵀT + const, annealed at the speed the trust region sets (Malagò
    and Pistone, FOGA 2015).  Rank weights are a nonlinear transform of f that leaves
    span(T): on the 10 × 10 ±J spin glass they stalled at −136 of −140 in 3 of 3 runs
    where centred values found the ground state 3 of 3 times (measured).  Ranks stay the
    default where the model cannot represent f (they make the search invariant to
    monotone transformations of f).
    """
    return "centered" if model.domain == "binary" and model.k > model.n else "ranks"


def default_theta_max(model: ExponentialFamily) -> float:
    """Margins of a binary model: |θ_i| ≤ max(½ ln(n − 1), 1.5).

    For the independence model this keeps every marginal in [1/n, 1 − 1/n] (the EDA
    literature's borders: tanh θ_max = 1 − 2/n), so that a bit fixed the wrong way is
    still flipped in about one sample in n and a run never stalls on a wrong fixation;
    for small n the floor 1.5 (marginals in [0.047, 0.953]) lets the model concentrate.
    The same bound applies to the fields and couplings of an Ising model.
    """
    return float(max(0.5 * np.log(max(model.n - 1, 1)), 1.5))


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
    pending: np.ndarray | None = None  # the batch of ask() not yet told
    replaced: int = 0  # failed evaluations of the pending batch, already replaced
    failed: int = 0  # failed evaluations, in total
    step_error: str | None = None  # the last numerical failure of a step

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
    shaping : {"auto", "ranks", "raw", "centered", "standardized"}
        Fitness shaping of the plain steps, see :mod:`relax.shaping`; ``"auto"`` is
        :func:`default_shaping` (the adaptive search
        uses its own rank weights).
    fisher : {"auto", "exact", "empirical"}
        How g_η = I_θ⁻¹ g_θ is obtained on non-Gaussian models; ``"auto"`` is exact when
        tractable.
    ridge : float
        Relative ridge of the empirical Fisher.
    invalid : {"raise", "worst", "resample"}
        Policy for failed evaluations (f raised, returned NaN/inf or no number, its worker
        was lost), see :mod:`relax.evaluate`.  ``tell`` treats rows that still fail under
        ``"resample"`` as ``"worst"``; :meth:`resample` draws their replacements.
    theta_max : float, optional
        Binary models keep |θ_i| ≤ theta_max: finite, > 0 and small enough that
        tanh(theta_max) < 1 in floating point (≤ 19).  Default :func:`default_theta_max`,
        the margins [1/n, 1 − 1/n] of every marginal.
    maxiter, maxfev : int, optional
        Budgets (``stop()`` reports them).
    target : float, optional
        Stop once the best f ≤ target; ``success`` then means exactly that.
    tolspread : float, optional
        Stop when ``model.spread()`` falls below this (binary models: entropy in nats;
        Gaussians: largest σ).  Default off: binary models keep their margins and never
        collapse, and on Gaussians ``tolx`` is the relative rule.
    tolfun, tolx : float
        Relative stopping rules of :mod:`relax.stopping` (Gaussians; binary models stop
        by the ``stagnation`` rule, or ``patience``, and restarts take over from there).
    patience : int, optional
        Stop when the best f has not improved for this many iterations (default off).
    seed : int or Generator, optional
        Seed of the single ``numpy.random.Generator`` used for every draw.
    device : {"cpu", "gpu"}
        Where the sample, the statistics, the estimates and the search state live:
        ``"cpu"`` (numpy, default) or ``"gpu"`` (cupy, ``pip install "relax[gpu]"``; see
        :mod:`relax.backend`).  On the GPU, ``ask`` returns a cupy array and ``tell`` takes
        cupy or numpy arrays; the model, the result and the history are numpy.  The same
        seed gives the same run on the same device, not across devices.  :meth:`to` moves
        a run between devices; a checkpoint holds numpy arrays and resumes on either.
    """

    #: The model's domain, "real" or "binary" (None in optimizers pickled before it was kept).
    domain: str | None = None
    #: Where the run's arrays live (see :mod:`relax.backend`).
    device: str = "cpu"
    #: False after unpickling a run of another device, until :meth:`to` places it.
    _placed: bool = True

    def __init__(self, model: ExponentialFamily, *, gradient: str = "natural",
                 param: str = "auto", adapt: str = "auto", mirrored: bool = True,
                 popsize: int | None = None,
                 step=None, shaping: str = "auto", fisher: str = "auto", ridge: float = 1e-6,
                 invalid: str = "raise", theta_max: float | None = None,
                 maxiter: int | None = None,
                 maxfev: int | None = None, target: float | None = None,
                 tolspread: float | None = None, tolfun: float = 1e-12, tolx: float = 1e-12,
                 patience: int | None = None, seed=None, device: str = "cpu"):
        check_model(model)
        bk = backend.check_device(device)
        self.device = bk.name
        self.gradient = check_choice("gradient", gradient, ("natural", "vanilla"))
        check_choice("param", param, ("auto", "theta", "eta"))
        check_choice("shaping", shaping, ("auto", *SHAPINGS))
        self.shaping = default_shaping(model) if shaping == "auto" else shaping
        step = None if step is None else validate.step(step)
        self.adapt = self._resolve_adapt(model, adapt, step)
        self.mirrored = validate.boolean("mirrored", mirrored)
        adaptive = self.adapt == "cma"
        self.param = default_param(model, adaptive) if param == "auto" else param
        self.fisher = self._resolve_fisher(model, fisher)
        self.invalid = check_choice("invalid", invalid, POLICIES)
        self.popsize = (default_popsize(model, adaptive) if popsize is None
                        else _int("popsize", popsize, 2))
        self.step = None if adaptive else (default_step(model) if step is None
                                           else as_rule(step))
        self.ridge = validate.real("ridge", ridge, low=0.0)
        self.theta_max = (default_theta_max(model) if theta_max is None
                          else _theta_max(theta_max))
        self.maxiter = validate.optional_integer("maxiter", maxiter, 1)
        self.maxfev = validate.optional_integer("maxfev", maxfev, 1)
        self.target = validate.target(target)
        self.domain = model.domain  # read by tell without building the model
        binary = model.domain == "binary"
        if binary:
            _check_binary_start(model, self.theta_max)
        self.tolspread = (validate.real("tolspread", tolspread, low=0.0)
                          if tolspread is not None else None)
        patience = validate.optional_integer("patience", patience, 1)
        termination = Termination(
            n=model.n, popsize=self.popsize,
            spread0=model.spread() if model.exact else np.inf,
            tolfun=validate.real("tolfun", tolfun, low=0.0),
            tolx=validate.real("tolx", tolx, low=0.0),
            patience=patience, rules=("patience", "stagnation") if binary else None,
        )
        self.state = State(search=self._search(model), rng=as_rng(validate.seed(seed)),
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
        bk = self._bk
        if self.adapt == "cma":
            return AdaptiveSearch(model, self.popsize, self.param, self.mirrored, bk)
        if is_gaussian(model):
            return FrameSearch(model, self.gradient, self.param, self.step, self.shaping, bk)
        return FlatSearch(model, self.gradient, self.param, self.step, self.shaping,
                          self.fisher, self.ridge, self.theta_max, bk=bk)

    # --------------------------------------------------------------- devices
    @property
    def _bk(self) -> backend.Backend:
        return backend.get(self.device)

    def to(self, device: str) -> Optimizer:
        """Move the run to ``device`` ("cpu" or "gpu"): the search state and the pending
        batch change namespace; the random generator, counters and history stay as they
        are, so the run goes on (with the new device's random numbers).  Returns self."""
        bk = backend.check_device(device)
        s = self.state
        s.search = s.search.to(bk)
        if s.pending is not None:
            s.pending = (np.array(backend.to_numpy(s.pending), dtype=float) if bk.is_numpy
                         else bk.asarray(s.pending))
        self.device, self._placed = bk.name, True
        return self

    def _place(self) -> None:
        """Put an unpickled run of another device back on it (:meth:`__setstate__`)."""
        if self._placed:
            return
        try:
            self.to(backend.get(self.device))
        except backend.DeviceUnavailable as e:
            raise backend.DeviceUnavailable(
                f"this run was saved on device {self.device!r}: {e}. Continue it on the CPU "
                "with opt.to('cpu'), Optimizer.load(path, device='cpu') or "
                "relax.resume(path, device='cpu')") from None

    def __getstate__(self) -> dict:
        """The optimizer with numpy arrays only (a GPU run pickles without cupy)."""
        state = self.__dict__.copy()
        if self.device != "cpu" and self._placed:
            s = copy.copy(self.state)
            s.search = s.search.to(backend.CPU)
            s.pending = None if s.pending is None else backend.to_numpy(s.pending)
            state["state"] = s
            state["_placed"] = False
        return state

    # ------------------------------------------------------------------ loop
    @property
    def model(self) -> ExponentialFamily:
        """The current distribution (numpy parameters, whatever the device)."""
        return self.state.search.model.on_host()

    @property
    def pending(self) -> np.ndarray | None:
        """The batch returned by :meth:`ask` and not yet told (None if there is none)."""
        s = self.state
        return None if s.pending is None else s.pending.copy()

    def ask(self) -> np.ndarray:
        """Draw ``popsize`` points from the current model, shape (popsize, n).

        Until it is told, the batch stays pending: asking again returns the same batch (a
        checkpoint taken between ``ask`` and ``tell`` resumes with it, bit for bit).
        """
        if not self._placed:
            self._place()
        s, bk = self.state, self._bk
        if s.pending is None:
            X = s.search.ask(self.popsize, s.rng)
            s.pending = np.array(X, dtype=float) if bk.is_numpy else X
        return bk.copy(s.pending)

    def resample(self, rows) -> np.ndarray:
        """Replace ``rows`` of the pending batch by fresh draws from the current model and
        return the whole batch (the other rows unchanged).

        For failed evaluations under ``invalid="resample"``: the replaced evaluations count
        in ``nfev`` and as failures.  The replacements are independent draws from p(x; ξ)
        (a model's ``sample``), not mirrored partners and not the persistent Gibbs chains,
        so the adaptive search re-whitens the told batch instead of reusing the whitened
        sample of ``ask``.
        """
        s = self.state
        if s.pending is None:
            raise RuntimeError("resample() replaces rows of the batch of ask(); call ask() "
                               "first")
        rows = np.asarray(rows)
        size = s.pending.shape[0]
        if (rows.ndim != 1 or not np.issubdtype(rows.dtype, np.integer)
                or np.any((rows < 0) | (rows >= size)) or np.unique(rows).size != rows.size):
            raise ValueError(f"rows must be distinct row indices of the batch, 0..{size - 1};"
                             f" got {rows!r}")
        if rows.size:
            bk = self._bk
            X = bk.copy(s.pending)
            new = s.search.model.sample(rows.size, s.rng)
            if bk.is_numpy:
                X[rows] = new
            else:
                X[bk.asarray(rows, dtype=bk.xp.int64), ...] = bk.asarray(new)
            s.pending = X
            s.nfev += int(rows.size)
            s.replaced += int(rows.size)
        return s.pending.copy()

    def tell(self, X: np.ndarray, fX: np.ndarray) -> None:
        """Update the model from the sample X and its values f(X).

        Raw values update the best point; shaped values drive the step.  Everything is
        checked before anything changes: X's shape, finite entries (±1 on binary models),
        fX's shape, and failed rows (NaN, ±inf) under the ``invalid`` policy — ``"raise"``
        raises :class:`~relax.evaluate.EvaluationError` with the partial result and leaves
        the state (and the pending batch) as it was; ``"worst"`` and ``"resample"`` rank
        the rows last and keep them out of every estimate.  A numerical failure of the step
        itself skips the step (the model stays as it was) and is counted.
        """
        if not self._placed:
            self._place()
        s = self.state
        X, fX = self._checked(X, fX)
        try:
            ev = check_values(fX, X, "raise" if self.invalid == "raise" else "worst")
        except EvaluationError as error:
            error.result, error.optimizer = self.partial_result(X, fX, str(error)), self
            raise
        rho, kl = self._step(X, ev.values, ev.valid)
        failed = s.replaced + len(ev.failures)
        s.nfev += X.shape[0]
        s.failed += failed
        s.pending, s.replaced = None, 0
        improved = self._track_best(X, ev.values, ev.valid)
        s.t += 1
        s.termination.record(ev.values[ev.valid], improved)
        self._record(ev.values[ev.valid], rho, kl, X, failed)

    def _checked(self, X, fX) -> tuple[np.ndarray, np.ndarray]:
        """X and fX as float arrays of matching shapes, X finite (and ±1 on a binary
        model); a ValueError naming the first problem otherwise."""
        n = self.state.termination.n
        bk = self._bk
        try:
            X = np.asarray(X, dtype=float) if bk.is_numpy else bk.asarray(X)
            fX = np.asarray(backend.to_numpy(fX), dtype=float)
        except (TypeError, ValueError) as e:
            raise ValueError(f"X and fX must be numeric arrays: {e}") from None
        if X.ndim != 2 or X.shape[1] != n:
            raise ValueError(f"X must have shape (size, {n}); got {X.shape}")
        if fX.shape != (X.shape[0],):
            raise ValueError(f"fX must have shape ({X.shape[0]},) to match X; got {fX.shape}")
        if X.shape[0] < 1:
            raise ValueError("X must hold at least one row")
        validate.X_rows(X, self.domain or self.model.domain)
        return X, fX

    def _step(self, X, values, valid) -> tuple[float, float]:
        """The search's step from the valid rows, or (0, 0) when fewer than two are valid or
        the step fails numerically (then the search is restored as it was)."""
        s = self.state
        if valid.sum() < 2:
            s.skipped += 1
            return 0.0, 0.0
        scale = 0
        if isinstance(self.step, TrustRegion) and self.shaping != "ranks":
            values, scale = unit_scale(values)  # same step, no under/overflow
        before = _snapshot(s.search)
        try:
            rho, kl = s.search.tell(X, values, valid, s.t)
            if self.adapt != "cma":  # plain steps of any size: check where they landed
                _check_landed(s.search.model)
        except NUMERICAL_ERRORS as e:
            s.search, s.skipped, s.step_error = before, s.skipped + 1, repr(e)
            return 0.0, 0.0
        return float(np.ldexp(rho, -scale)) if scale else rho, kl

    def _track_best(self, X, values, valid) -> bool:
        """Update the best point; True when the best f decreased."""
        s = self.state
        i = int(np.argmin(values))
        if valid[i] and values[i] < s.best_f:
            s.best_f, s.best_x = float(values[i]), np.array(backend.to_numpy(X[i, ...]))
            return True
        return False

    def _record(self, finite_values, rho, kl, X, failed) -> None:
        s = self.state
        scaled, e = unit_scale(finite_values)
        mean_f = float(np.ldexp(np.mean(scaled), e)) if finite_values.size else np.nan
        s.history.append({"nfev": s.nfev, "best_f": s.best_f, "mean_f": mean_f, "rho": rho,
                          "kl": kl, "spread": s.search.spread(X), "failed": failed,
                          **s.search.trace()})

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
        nfev, best_f, mean_f, rho, kl, spread, failed (failed evaluations of the
        iteration), and for the adaptive Gaussian search sigma (and, for n ≤ 200, axes —
        the sorted principal standard deviations — and mean); ``nfailed`` counts the
        failed evaluations and ``nskipped`` the skipped steps.

        ``success`` is honest: with a target it means exactly that the best f reached it;
        without one, that a convergence rule holds (tolfun, tolx, tolspread, noeffect) and
        some evaluation was valid.  The message says why a run failed: a missed target, or
        that every evaluation failed.
        """
        s = self.state
        reasons = self.stop()
        if self.target is not None:
            success = s.best_f <= self.target
        else:
            success = np.isfinite(s.best_f) and any(r in reasons for r in CONVERGED)
        notes = list(reasons.values()) or ["running (no stopping criterion met)"]
        if s.nfev and not np.isfinite(s.best_f):
            notes.insert(0, f"no valid evaluation: all {s.nfev} evaluations failed")
        elif self.target is not None and not success and reasons:
            notes.append(f"target f <= {self.target:g} not reached (best f = {s.best_f:.6g})")
        return OptimizeResult(
            x=s.best_x, fun=s.best_f, nfev=s.nfev, nit=s.t, success=bool(success),
            message="; ".join(notes), status=0 if success else 1, stop=reasons,
            model=self.model, history=s.history.arrays(), nfailed=s.failed,
            nskipped=s.skipped,
        )

    def partial_result(self, X: np.ndarray, fX: np.ndarray, why: str) -> OptimizeResult:
        """The result so far counting a batch that was evaluated but not told (a failure
        under ``invalid="raise"``, an interruption): its valid rows count for the best
        point and its rows for ``nfev``; ``success`` is False and the message ``why``."""
        res = self.result()
        values = np.asarray(fX, dtype=float)
        finite = np.isfinite(values)
        if finite.any():
            i = int(np.argmin(np.where(finite, values, np.inf)))
            if values[i] < res.fun:
                res.x, res.fun = (np.array(backend.to_numpy(X[i, ...]), dtype=float),
                                  float(values[i]))
        res.nfev += int(values.size)
        res.update(success=False, status=1, message=why)
        return res

    # ---------------------------------------------------------- checkpoints
    def save(self, path: str | Path) -> None:
        """Checkpoint the whole optimizer (state, settings, pending batch) to ``path``:
        a pickle written atomically (fsync and rename, :mod:`relax.checkpoint`)."""
        checkpoint.write(path, self)

    @staticmethod
    def load(path: str | Path, device: str | None = None) -> Optimizer:
        """The optimizer of a checkpoint (:meth:`save`, ``minimize(checkpoint=...)``,
        ``relax run --checkpoint``); it continues exactly where it stopped, on ``device``
        (default: the device it ran on; a GPU run resumes on the CPU with
        ``device="cpu"`` and the other way round).  Checkpoints are pickles: load only
        files you trust."""
        opt = checkpoint.read(path).optimizer
        return opt if device is None else opt.to(device)


def _int(name: str, value, minimum: int) -> int:
    return validate.integer(name, value, minimum)


def _theta_max(value) -> float:
    """theta_max: finite, > 0 and with tanh(theta_max) < 1 in floating point."""
    value = validate.real("theta_max", value, low=0.0, low_open=True)
    if not np.tanh(value) < 1.0:
        raise ValueError(f"theta_max must be small enough that tanh(theta_max) < 1 (at most "
                         f"19); got {value!r}")
    return value


def _check_binary_start(model: ExponentialFamily, theta_max: float) -> None:
    """A binary model must start inside |θ_i| ≤ theta_max, where no probability rounds
    to 0 or 1."""
    worst = float(np.max(np.abs(model.theta)))
    if worst > theta_max:
        raise ValueError(
            f"model has |theta_i| up to {worst:g} > theta_max = {theta_max:g}: probabilities "
            "that round to 0 or 1 cannot be optimized; start from a model inside the bound "
            "or raise theta_max (at most 19)")


def _check_landed(model: ExponentialFamily) -> None:
    """A ValueError when a step left the family: θ (and η, when it is exact) must be
    finite.  (A fixed ρ times a gradient of f ≈ 1e300 can overflow.)"""
    bk = backend.of(model.theta)
    if not bk.all_finite(model.theta) or (model.exact and not bk.all_finite(model.eta)):
        raise ValueError("the step left the family (parameters overflowed)")


def _snapshot(search):
    """A copy of the search that a failed step cannot touch: searches replace their
    arrays rather than write into them, so copying the search and its frame suffices."""
    twin = copy.copy(search)
    if hasattr(search, "frame"):
        twin.frame = copy.copy(search.frame)
    return twin
