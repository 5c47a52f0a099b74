"""Exact gradient flows dξ/dt = −∇F(ξ) and dξ/dt = −∇̃F(ξ), integrated with scipy.

The flows are the limit of the stochastic optimizer for infinite sample size and
infinitesimal step (the slides' "Vanilla and Natural gradient flows", here for
minimization, hence the minus sign).  F, g_θ = Cov(f, T) and g_η = I_θ⁻¹ g_θ are exact
(:func:`relax.exact.exact`: enumeration for binary models with n ≤ 20, Gauss–Hermite
quadrature for Gaussians with n ≤ 3), the direction in chart ξ comes from
:mod:`relax.flows.charts`, and :func:`scipy.integrate.solve_ivp` integrates with two
terminal events:

``boundary``
    the chart's margin reaches ``chart.btol``: the flow leaves the domain in finite time
    (|η_i| = 1, μ_i ∈ {0, 1}; an eigenvalue of Σ down to 10⁻⁶ of its start), where a
    projection would be required to go on — the fate of vanilla flows in η and μ.  A
    Gaussian flow that approaches the boundary only exponentially (σ → 0 faster than the
    mean converges, as vanilla (μ, σ) flows can) stops there with status ``"collapsed"``,
    and so does a flow on a binary model that cannot reach the boundary (θ-flows, natural
    flows) once some |θ_i| reaches ``theta_max`` (the distribution has concentrated on a
    face without converging: I_θ is numerically singular beyond).
``converged``
    the distribution has concentrated on a point x̂ (the mode) that it approaches from the
    worse side: M = E|f(x) − f(x̂)| ≤ ftol, so F is within ftol of f(x̂), and
    F − f(x̂) = E[f(x) − f(x̂)] ≥ M/2, i.e. at most a quarter of that deviation is on the
    better side, so x̂ is (locally) the limit rather than a point the flow passes by (a
    plateau at a maximum, a mean still sliding down a slope); or the Fisher norm of the
    gradient ‖∇̃F‖ = √|g_θ·g_η| (the same in every chart) is below gtol (a stationary
    point inside the domain).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.integrate import solve_ivp

from relax.direction import check_choice
from relax.exact import Exact, exact, nodes_and_weights
from relax.flows.charts import Chart, get_chart
from relax.flows.trajectory import Trajectory
from relax.models.base import ExponentialFamily, check_model


class Field:
    """The vector field −(gradient of F in ``chart``) of one flow, with its events.

    Exact quantities are cached per point, so the solver's right-hand side and the
    events evaluated at the same ξ cost one expectation.
    """

    def __init__(self, template: ExponentialFamily, f: Callable, chart: Chart,
                 gradient: str, *, vectorized: bool = False, ftol: float = 1e-3,
                 gtol: float = 1e-9, theta_max: float = 15.0):
        self.template, self.f, self.chart, self.gradient = template, f, chart, gradient
        self.vectorized, self.ftol, self.gtol = vectorized, ftol, gtol
        self.theta_max = theta_max
        self._cache: dict[bytes, tuple[ExponentialFamily, Exact]] = {}
        self._last: tuple[ExponentialFamily, Exact] | None = None
        self._btol = chart.btol(template)

    def values(self, X: np.ndarray) -> np.ndarray:
        """f at the rows of X."""
        return np.asarray(self.f(X) if self.vectorized else [self.f(x) for x in X],
                          dtype=float)

    def at(self, xi: np.ndarray) -> tuple[ExponentialFamily, Exact]:
        """The model at ξ (at ``chart.interior(ξ)`` when ξ is outside) and its exact F, g."""
        key = np.asarray(xi, dtype=float).tobytes()
        if key not in self._cache:
            try:
                model = self.chart.model(self.template, self.chart.interior(self.template, xi))
            except ValueError:
                if self._last is None:
                    raise
                return self._last  # beyond a boundary without a closed form (Ising η)
            if len(self._cache) > 64:
                self._cache.clear()
            self._cache[key] = (model, exact(model, self.f, vectorized=self.vectorized))
        self._last = self._cache[key]
        return self._last

    def __call__(self, t: float, xi: np.ndarray) -> np.ndarray:
        """dξ/dt = −direction."""
        model, ex = self.at(xi)
        return -self.chart.direction(self.gradient, model, ex)

    def concentration(self, model: ExponentialFamily, F: float) -> tuple[float, float]:
        """(F − f(x̂), M = E|f(x) − f(x̂)|) with x̂ the mode of ``model``."""
        X, w = nodes_and_weights(model)
        f_mode = float(self.values(model.mode()[None, :])[0])
        return F - f_mode, float(w @ np.abs(self.values(X) - f_mode))

    def converged(self, t: float, xi: np.ndarray) -> float:
        """Positive iff converged (see the module docstring)."""
        model, ex = self.at(xi)
        gap, M = self.concentration(model, ex.F)
        norm = np.sqrt(abs(float(ex.g_theta @ ex.g_eta)))
        return max(min(self.ftol - M, gap - 0.5 * M), self.gtol - norm)

    def boundary(self, t: float, xi: np.ndarray) -> float:
        """The chart's margin less its ``btol``: positive inside the domain."""
        return self.chart.margin(self.template, xi) - self._btol

    def reaches_boundary(self) -> bool:
        """Whether the flow can reach the chart's boundary in finite time.

        Not when the chart has none (θ of a binary model), nor for natural flows on binary
        models: a natural flow is the natural θ-flow seen in another chart, and θ ranges
        over all of R^k, so its η or μ components only approach ±1 or {0, 1}
        exponentially (rounding may cross by ~atol; the field is then evaluated at
        ``chart.interior``).
        """
        if self.chart.margin(self.template, self.chart.coords(self.template)) is None:
            return False
        return not (self.gradient == "natural" and self.template.domain == "binary")

    def saturated(self, t: float, xi: np.ndarray) -> float:
        """theta_max − max_i |θ_i| (binary models): negative once some θ_i is so large that
        I_θ is numerically singular (the distribution sits on a face of the domain), or
        −1 when no model can be built at ξ at all (``from_eta`` of an Ising model fails)."""
        try:
            model = self.chart.model(self.template, self.chart.interior(self.template, xi))
        except ValueError:
            return -1.0
        return self.theta_max - float(np.max(np.abs(model.theta)))

    def events(self) -> list[Callable]:
        """The terminal events for solve_ivp: converged, boundary (where reachable) and, on
        binary models whose flow cannot reach the boundary, saturated."""
        events = [_event(self.converged, direction=1.0)]
        events.append(_event(self.boundary, direction=-1.0) if self.reaches_boundary()
                      else _never)
        if self.template.domain == "binary" and not self.reaches_boundary():
            events.append(_event(self.saturated, direction=-1.0))
        return events


def _never(t, y) -> float:
    """A placeholder event that never fires (keeps the events' order fixed)."""
    return 1.0


def _event(fun: Callable, direction: float) -> Callable:
    def event(t, y):
        return fun(t, y)

    event.terminal, event.direction = True, direction
    return event


def flow(
    model: ExponentialFamily,
    f: Callable,
    gradient: str = "natural",
    param: str = "theta",
    *,
    t_max: float = 10.0,
    chart: Chart | None = None,
    ftol: float = 1e-3,
    gtol: float = 1e-9,
    theta_max: float = 15.0,
    t_eval: np.ndarray | None = None,
    rtol: float = 1e-8,
    atol: float = 1e-10,
    method: str = "RK45",
    substeps: int = 8,
    vectorized: bool = False,
) -> Trajectory:
    """Integrate the exact gradient flow dξ/dt = −∇F(ξ) (vanilla) or −I_ξ⁻¹∇F(ξ) (natural).

    Parameters
    ----------
    model : ExponentialFamily
        The start p(ξ(0)); binary with n ≤ 20 or Gaussian with n ≤ 3 (exact expectations).
    f : callable
        The function to minimize: f(x) for one point, or f(X) for a batch with
        ``vectorized=True``.
    gradient : {"natural", "vanilla"}
    param : {"theta", "eta", "mu", "mu_sigma"}
        The chart ξ the flow runs in (``mu``: binary independence model; ``mu_sigma``:
        1-D Gaussian), see :mod:`relax.flows.charts`.
    t_max : float
        Flow time at which to stop if no event happened first.
    chart : Chart, optional
        A chart object to use instead of ``param``.
    ftol, gtol : float
        Convergence tolerances (module docstring).
    theta_max : float
        Binary models: stop (status ``"collapsed"``) once some |θ_i| reaches it — the
        distribution then sits on a face where I_θ is numerically singular (the
        optimizer's own bound; dense Fisher solves, as for Ising models, lose digits from
        |θ| ≈ 10 on: lower it if the flow slows down there).
    t_eval : array_like, optional
        Record the path at these times (default: every solver step, refined with
        ``substeps`` points of the dense output per step).
    rtol, atol, method
        Passed to :func:`scipy.integrate.solve_ivp`.

    Returns
    -------
    Trajectory
        The path in every chart, F(t), and ``status`` ``"converged"``, ``"boundary"``
        (left the domain: projection is required), ``"t_max"`` or ``"failed"``.
    """
    check_model(model)
    check_choice("gradient", gradient, ("natural", "vanilla"))
    chart = get_chart(param if chart is None else chart, model)
    field = Field(model, f, chart, gradient, vectorized=vectorized, ftol=ftol, gtol=gtol,
                  theta_max=theta_max)
    xi0 = chart.coords(model)
    margin = chart.margin(model, xi0)
    if margin is not None and not margin > chart.btol(model):
        raise ValueError(f"the start is on the boundary of chart {chart.name!r}")
    info = dict(chart=chart.name, gradient=gradient, template=model)
    if field.converged(0.0, xi0) > 0:
        return _record(field, [0.0], [xi0], status="converged",
                       message="converged at t=0 (the start is already a limit)", **info)
    t_end = float(t_max) if t_eval is None else min(float(t_max), float(np.max(t_eval)))
    sol = solve_ivp(field, (0.0, t_end), xi0, method=method, rtol=rtol, atol=atol,
                    events=field.events(), dense_output=True,
                    t_eval=None if t_eval is None else np.asarray(t_eval, dtype=float))
    status, message = _outcome(sol, field, t_max)
    t, Y = _samples(sol, t_eval, substeps)
    return _record(field, t, Y, status=status, message=message, **info)


def _outcome(sol, field: Field, t_max: float) -> tuple[str, str]:
    """Status and message from the solver's result: the earliest event wins (on a tie,
    converged before boundary before saturated)."""
    if sol.status == -1:
        return "failed", f"integration failed: {sol.message}"
    if sol.status == 0:
        return "t_max", f"reached t_max={t_max:g} before converging"
    t, which = min((te[0], i) for i, te in enumerate(sol.t_events) if te.size)
    if which == 0:
        return "converged", (f"converged at t={t:.6g}: F within ftol={field.ftol:g} of its "
                             f"limit (or Fisher gradient norm below gtol={field.gtol:g})")
    if which == 2:
        return "collapsed", (f"collapsed at t={t:.6g}: some |θ_i| reached theta_max="
                             f"{field.theta_max:g} (or no model could be built from the "
                             "coordinates): the distribution sits on a face of the domain and "
                             "I_θ is numerically singular beyond")
    if not _finite_exit(sol, field, t):
        return "collapsed", (f"collapsed at t={t:.6g}: the {field.gradient} flow in "
                             f"{field.chart.name} approaches the boundary exponentially "
                             f"(σ or an eigenvalue of Σ → 0); stopped at margin "
                             f"{field.chart.btol(field.template):g}, where g_η loses accuracy")
    return "boundary", (f"left the domain at t={t:.6g}: the {field.gradient} flow in "
                        f"{field.chart.name} reached the boundary of the chart in finite time, "
                        "projection is required to continue")


def _finite_exit(sol, field: Field, te: float) -> bool:
    """Whether the margin m(t) reached the boundary in finite time (m ≈ v·(t_hit − t))
    rather than exponentially (m ∝ e^(−rt), the boundary only reached as t → ∞).

    With τ = m/|ṁ| at the event, a linear approach had m(te − 10τ) ≈ 11 m(te), an
    exponential one e^10 m(te) ≈ 22026 m(te); the flow left in finite time when the ratio is
    below 100 (or when it started less than 2τ before the event).
    """
    if field.chart.btol(field.template) == 0:
        return True  # margin 0 itself is only reached in finite time

    def m(t):
        return field.chart.margin(field.template, sol.sol(t))

    h = 1e-7 * max(te, 1e-9)
    speed = (m(te - h) - m(te)) / h
    if not speed > 0:
        return False
    tau = m(te) / speed
    if not tau > 0 or te < 2.0 * tau:
        return True
    t1 = max(te - 10.0 * tau, 0.0)
    return m(t1) / max(m(te), 1e-300) < 100.0 * (te - t1) / (10.0 * tau)


def _samples(sol, t_eval, substeps: int) -> tuple[np.ndarray, np.ndarray]:
    """Times and points to record: the solver's steps refined with its dense output."""
    if t_eval is not None:
        t, Y = sol.t, sol.y.T
        if sol.status == 1:
            te = min(te[0] for te in sol.t_events if te.size)
            if t.size == 0 or te > t[-1]:
                t, Y = np.append(t, te), np.vstack([Y, sol.sol(te)])
        return t, Y
    steps = sol.t
    if steps.size < 2:
        return steps, sol.y.T
    fractions = np.linspace(0.0, 1.0, substeps + 1)[:-1]
    t = (steps[:-1, None] + np.diff(steps)[:, None] * fractions).ravel()
    t = np.append(t, steps[-1])
    Y = sol.sol(t).T
    Y[-1] = sol.y[:, -1]
    return t, Y


def _record(field: Field, t, Y, **info) -> Trajectory:
    if not field.reaches_boundary():
        Y = np.array([field.chart.interior(field.template, xi) for xi in Y])
    pairs = [field.at(xi) for xi in Y]
    return Trajectory.from_models(t, np.asarray(Y), [m for m, _ in pairs],
                                  [ex.F for _, ex in pairs], **info)
