"""A path of distributions t ↦ p(t), recorded in every chart at once.

A flow is integrated in one chart, but the path is a curve of distributions: the
:class:`Trajectory` keeps it in θ, η, the mean (and, for Gaussians, the marginal standard
deviations), so a θ-flow can be drawn in the μ or (μ, σ) chart and two flows integrated in
different charts can be compared point by point.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from relax.models.base import ExponentialFamily

#: How a path ended.
STATUSES = ("converged", "boundary", "collapsed", "t_max", "failed", "monte-carlo")


@dataclass(frozen=True)
class Trajectory:
    """The path of a gradient flow (or of an optimizer run) and F along it.

    Attributes
    ----------
    t : ndarray, shape (m,)
        Flow time (for an optimizer run: ρ × iteration).
    xi : ndarray, shape (m, d)
        The path in the chart it was computed in (``chart``).
    theta, eta : ndarray, shape (m, k)
        The path in the natural and the expectation parameters.
    mean : ndarray, shape (m, n)
        E[x] along the path (η_1..η_n).
    std : ndarray, shape (m, n) or None
        Marginal standard deviations √Σ_ii (Gaussians only).
    F : ndarray, shape (m,)
        F(t) = E_p(t)[f], exact.
    chart, gradient : str
        Which flow this is: dξ/dt = −(gradient of F in chart ξ).
    status : str
        ``"converged"``, ``"boundary"`` (left the chart's domain in finite time),
        ``"collapsed"`` (a Gaussian's Σ became singular exponentially), ``"t_max"``,
        ``"failed"`` or ``"monte-carlo"``.
    message : str
        What happened, in words.
    template : ExponentialFamily
        The starting model (its structure is the path's family).
    """

    t: np.ndarray
    xi: np.ndarray
    theta: np.ndarray
    eta: np.ndarray
    mean: np.ndarray
    std: np.ndarray | None
    F: np.ndarray
    chart: str
    gradient: str
    status: str
    message: str
    template: ExponentialFamily

    @classmethod
    def from_models(cls, t, xi, models: Sequence[ExponentialFamily], F, **info) -> Trajectory:
        """Record a path from its models at times ``t`` (``info``: chart, gradient, status,
        message, template)."""
        real = models[0].domain == "real"
        return cls(
            t=np.asarray(t, dtype=float),
            xi=np.atleast_2d(np.asarray(xi, dtype=float)),
            theta=np.array([m.theta for m in models]),
            eta=np.array([m.eta for m in models]),
            mean=np.array([m.mean() for m in models]),
            std=np.array([np.sqrt(np.diag(m.cov)) for m in models]) if real else None,
            F=np.asarray(F, dtype=float),
            **info,
        )

    # ------------------------------------------------------------------ charts
    @property
    def mu(self) -> np.ndarray:
        """Marginal probabilities μ_i = P(x_i = +1) = (1 + E[x_i])/2 (binary models)."""
        if self.template.domain != "binary":
            raise ValueError("mu (marginal probabilities) is defined for binary models only")
        return 0.5 * (1.0 + self.mean)

    @property
    def mu_sigma(self) -> np.ndarray:
        """(μ, σ) of a 1-D Gaussian, shape (m, 2)."""
        if self.std is None or self.template.n != 1:
            raise ValueError("mu_sigma is defined for 1-D Gaussians only")
        return np.column_stack([self.mean[:, 0], self.std[:, 0]])

    def coords(self, chart: str) -> np.ndarray:
        """The path in ``chart``: "theta", "eta", "mu", "mu_sigma" or "mean"."""
        if chart == self.chart:
            return self.xi
        views = {"theta": lambda: self.theta, "eta": lambda: self.eta,
                 "mean": lambda: self.mean, "mu": lambda: self.mu,
                 "mu_sigma": lambda: self.mu_sigma}
        if chart not in views:
            raise ValueError(f"chart must be one of {', '.join(map(repr, views))}; got {chart!r}")
        return views[chart]()

    # ----------------------------------------------------------------- summary
    @property
    def end(self) -> ExponentialFamily:
        """The model at the last point."""
        return _model_at(self.template, self.theta[-1], self.eta[-1])

    def time_to(self, tol: float) -> float:
        """The first time after which F stays within ``tol`` of its final value F[-1]."""
        outside = np.flatnonzero(np.abs(self.F - self.F[-1]) > tol)
        return float(self.t[0] if outside.size == 0 else self.t[min(outside[-1] + 1,
                                                                     self.t.size - 1)])

    def __len__(self) -> int:
        return self.t.size

    def __repr__(self) -> str:
        return (f"Trajectory({self.gradient} in {self.chart}, {self.t.size} points, "
                f"t_end={self.t[-1]:.4g}, F_end={self.F[-1]:.6g}, status={self.status!r})")


def _model_at(template: ExponentialFamily, theta: np.ndarray, eta: np.ndarray):
    try:
        return template.from_theta(theta)
    except ValueError:
        return template.from_eta(eta)
