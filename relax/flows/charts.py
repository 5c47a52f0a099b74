"""Charts: coordinate systems ξ on a model, with the vanilla and natural gradients in each.

A chart is a coordinate system ξ on the family, with η = η(ξ).  With A = ∂η/∂ξ its
Jacobian, the chain rule ∇_ξ F = Aᵀ ∇_η F and the metric I_ξ = Aᵀ I_η A give both
gradients from the two exact vectors g_θ = Cov(f, T) and g_η = I_θ⁻¹ g_θ:

    vanilla   ∇_ξ F  = Aᵀ g_η
    natural   ∇̃_ξ F = I_ξ⁻¹ ∇_ξ F = A⁻¹ I_η⁻¹ A⁻ᵀ Aᵀ g_η = A⁻¹ g_θ

=========  ===============  ===================  ============================
chart      ξ                A = ∂η/∂ξ            vanilla ∇_ξ F / natural ∇̃_ξ F
=========  ===============  ===================  ============================
theta      θ                I_θ                  g_θ / g_η
eta        η                1                    g_η / g_θ
mu         μ = (1 + η)/2    2·1                  2 g_η / g_θ/2
mu_sigma   (μ, σ)           [[1, 0], [2μ, 2σ]]   (g_η1 + 2μ g_η2, 2σ g_η2) /
                                                 (g_θ1, (g_θ2 − 2μ g_θ1)/(2σ))
=========  ===============  ===================  ============================

``mu`` is the marginal-probability chart of the binary independence model,
μ_i = P(x_i = +1), with I_μ = diag(1/(μ_i(1 − μ_i))), so ∇̃_μ F = μ(1 − μ) ∂F/∂μ.
``mu_sigma`` is the (mean, standard deviation) chart of the 1-D Gaussian, with
I_(μ,σ) = diag(1/σ², 2/σ²), so ∇̃ F = (σ² ∂F/∂μ, (σ²/2) ∂F/∂σ).

Each chart also knows its domain: ``margin(template, ξ)`` is positive inside, zero on the
boundary and negative outside, ``interior(template, ξ)`` is a point at least ``DELTA``
(in margin units) inside the domain near ξ, where a flow's field is evaluated when a trial
step crosses the boundary, and ``btol(template)`` is the margin at which a flow counts as
having reached the boundary.  Margins are scale-free:

- binary η: 1 − max_i |η_i|; μ: min_i min(μ_i, 1 − μ_i) (reached exactly, ``btol`` = 0);
- Gaussian η: λ_min(Σ)/λ_max(Σ₀), θ: λ_min(Σ⁻¹)/λ_max(Σ₀⁻¹), (μ, σ): (σ/σ₀)², with Σ₀
  the template's covariance.  Near a singular Σ, g_η = I_θ⁻¹ g_θ loses about
  log10(κ(Σ)²) digits, so Gaussian flows stop at margin ``btol`` = 1e-6 (σ_min ≈ 10⁻³ σ₀).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from relax.exact import Exact
from relax.models.base import ExponentialFamily

#: How far inside the domain ``interior`` keeps a point (in margin units).
DELTA = 1e-12


def _gaussian_cov(template: ExponentialFamily, eta: np.ndarray) -> np.ndarray:
    """Σ = E − μμᵀ from η = (μ; E_ii; 2E_ij, i<j) (diagonal models: (μ; E_ii))."""
    n = template.n
    mu, E = eta[:n], np.diag(eta[n:2 * n])
    if template.k > 2 * n:
        iu = np.triu_indices(n, 1)
        E[iu] = 0.5 * eta[2 * n:]
        E.T[iu] = 0.5 * eta[2 * n:]
    return E - np.outer(mu, mu)


def _gaussian_eta(template: ExponentialFamily, mu: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """η = (μ; E_ii; 2E_ij, i<j) with E = Σ + μμᵀ (the inverse of :func:`_gaussian_cov`)."""
    n = template.n
    E = cov + np.outer(mu, mu)
    off = 2.0 * E[np.triu_indices(n, 1)] if template.k > 2 * n else np.empty(0)
    return np.concatenate([mu, np.diag(E), off])


def _precision(template: ExponentialFamily, theta: np.ndarray) -> np.ndarray:
    """P = Σ⁻¹ = −2Θ from θ = (Σ⁻¹μ; Θ_ii; Θ_ij, i<j)."""
    n = template.n
    Theta = np.diag(theta[n:2 * n])
    if template.k > 2 * n:
        iu = np.triu_indices(n, 1)
        Theta[iu] = theta[2 * n:]
        Theta.T[iu] = theta[2 * n:]
    return -2.0 * Theta


def _clip_spectrum(S: np.ndarray, floor: float) -> np.ndarray:
    """S with its eigenvalues raised to at least ``floor`` (symmetric S)."""
    w, V = np.linalg.eigh(0.5 * (S + S.T))
    return (V * np.maximum(w, floor)) @ V.T


def _is_independence(model: ExponentialFamily) -> bool:
    return model.domain == "binary" and model.k == model.n


class Chart(ABC):
    """A coordinate system ξ on a family (see the module docstring).

    Attributes
    ----------
    name : str
        The chart's name (``"theta"``, ``"eta"``, ``"mu"``, ``"mu_sigma"``).
    symbol : str
        How the coordinates are written in titles.
    """

    name: str = ""
    symbol: str = ""

    def supports(self, model: ExponentialFamily) -> bool:
        """Whether this chart is a chart of ``model``'s family."""
        return True

    def check(self, model: ExponentialFamily) -> None:
        """ValueError naming the chart when it does not apply to ``model``."""
        if not self.supports(model):
            raise ValueError(f"chart {self.name!r} does not apply to {model!r}")

    def labels(self, model: ExponentialFamily) -> list[str]:
        """Axis labels of the coordinates."""
        return [f"{self.symbol}{i + 1}" for i in range(model.k)]

    @abstractmethod
    def coords(self, model: ExponentialFamily) -> np.ndarray:
        """ξ of ``model``."""

    @abstractmethod
    def model(self, template: ExponentialFamily, xi: np.ndarray) -> ExponentialFamily:
        """The model of ``template``'s structure at ξ (ValueError outside the domain)."""

    def margin(self, template: ExponentialFamily, xi: np.ndarray) -> float | None:
        """Signed distance-like margin to the domain's boundary; None: no boundary."""
        return None

    def interior(self, template: ExponentialFamily, xi: np.ndarray) -> np.ndarray:
        """A point of the domain near ξ, at least ``DELTA`` inside (ξ itself if inside)."""
        return xi

    def btol(self, template: ExponentialFamily) -> float:
        """The margin at which a flow has reached the boundary (module docstring)."""
        return 0.0 if template.domain == "binary" else 1e-6

    @abstractmethod
    def vanilla(self, model: ExponentialFamily, ex: Exact) -> np.ndarray:
        """∇_ξ F = Aᵀ g_η."""

    @abstractmethod
    def natural(self, model: ExponentialFamily, ex: Exact) -> np.ndarray:
        """∇̃_ξ F = A⁻¹ g_θ."""

    @abstractmethod
    def eta_velocity(self, model: ExponentialFamily, v: np.ndarray) -> np.ndarray:
        """η̇ = A ξ̇ for a chart velocity ξ̇ = v."""

    @abstractmethod
    def velocity(self, model: ExponentialFamily, eta_dot: np.ndarray) -> np.ndarray:
        """ξ̇ = A⁻¹ η̇ for an η-velocity η̇."""

    def direction(self, gradient: str, model: ExponentialFamily, ex: Exact) -> np.ndarray:
        """``vanilla`` or ``natural`` gradient of F in this chart."""
        if gradient == "vanilla":
            return self.vanilla(model, ex)
        if gradient == "natural":
            return self.natural(model, ex)
        raise ValueError(f"gradient must be 'vanilla' or 'natural'; got {gradient!r}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ThetaChart(Chart):
    """Natural parameters θ: A = I_θ, vanilla g_θ, natural g_η.

    Binary models have no boundary in θ; for Gaussians the domain is Σ⁻¹ = −2Θ ≻ 0 and
    the margin is its smallest eigenvalue.
    """

    name, symbol = "theta", "θ"

    def coords(self, model):
        return np.array(model.theta)

    def model(self, template, xi):
        return template.from_theta(np.asarray(xi, dtype=float))

    def margin(self, template, xi):
        if template.domain == "binary":
            return None
        scale = np.linalg.eigvalsh(_precision(template, template.theta))[-1]
        return float(np.linalg.eigvalsh(_precision(template, xi))[0] / scale)

    def interior(self, template, xi):
        if template.domain == "binary" or self.margin(template, xi) >= DELTA:
            return xi
        n = template.n
        scale = np.linalg.eigvalsh(_precision(template, template.theta))[-1]
        P = _clip_spectrum(_precision(template, xi), DELTA * scale)
        out = np.array(xi, dtype=float)
        out[n:2 * n] = -0.5 * np.diag(P)
        if template.k > 2 * n:
            out[2 * n:] = -0.5 * P[np.triu_indices(n, 1)]
        return out

    def vanilla(self, model, ex):
        return ex.g_theta

    def natural(self, model, ex):
        return ex.g_eta

    def eta_velocity(self, model, v):
        return model.fisher_vector(v)

    def velocity(self, model, eta_dot):
        return model.natural_from_vanilla(eta_dot)


class EtaChart(Chart):
    """Expectation parameters η = E[T]: A = 1, vanilla g_η, natural g_θ.

    Domain: |η_i| < 1 for the independence model, Σ = E − μμᵀ ≻ 0 for Gaussians, the
    interior of the marginal polytope for other binary models (detected by
    ``from_eta`` failing: margin +1 inside, −1 outside).
    """

    name, symbol = "eta", "η"

    def coords(self, model):
        return np.array(model.eta)

    def model(self, template, xi):
        return template.from_eta(np.asarray(xi, dtype=float))

    def margin(self, template, xi):
        if _is_independence(template):
            return float(1.0 - np.max(np.abs(xi)))
        if template.domain == "real":
            scale = np.linalg.eigvalsh(np.array(template.cov))[-1]
            return float(np.linalg.eigvalsh(_gaussian_cov(template, xi))[0] / scale)
        try:
            self.model(template, xi)
        except ValueError:
            return -1.0
        return 1.0

    def interior(self, template, xi):
        if _is_independence(template):
            return np.clip(xi, -1.0 + DELTA, 1.0 - DELTA)
        if template.domain == "real" and self.margin(template, xi) < DELTA:
            n = template.n
            scale = np.linalg.eigvalsh(np.array(template.cov))[-1]
            cov = _clip_spectrum(_gaussian_cov(template, xi), DELTA * scale)
            return _gaussian_eta(template, np.asarray(xi[:n], dtype=float), cov)
        return xi

    def vanilla(self, model, ex):
        return ex.g_eta

    def natural(self, model, ex):
        return ex.g_theta

    def eta_velocity(self, model, v):
        return np.asarray(v, dtype=float)

    def velocity(self, model, eta_dot):
        return np.asarray(eta_dot, dtype=float)


class MuChart(Chart):
    """Marginal probabilities μ_i = P(x_i = +1) = (1 + η_i)/2 of the binary independence
    model: A = 2·1, vanilla ∂F/∂μ = 2 g_η, natural μ(1 − μ) ∂F/∂μ = g_θ/2; domain
    0 < μ_i < 1."""

    name, symbol = "mu", "μ"

    def supports(self, model):
        return _is_independence(model)

    def coords(self, model):
        return 0.5 * (1.0 + np.asarray(model.eta))

    def model(self, template, xi):
        return template.from_eta(2.0 * np.asarray(xi, dtype=float) - 1.0)

    def margin(self, template, xi):
        return float(np.min(np.minimum(xi, 1.0 - xi)))

    def interior(self, template, xi):
        return np.clip(xi, DELTA, 1.0 - DELTA)

    def vanilla(self, model, ex):
        return 2.0 * ex.g_eta

    def natural(self, model, ex):
        return 0.5 * ex.g_theta

    def eta_velocity(self, model, v):
        return 2.0 * np.asarray(v, dtype=float)

    def velocity(self, model, eta_dot):
        return 0.5 * np.asarray(eta_dot, dtype=float)


class MuSigmaChart(Chart):
    """(μ, σ) of the 1-D Gaussian, η = (μ, σ² + μ²): A = [[1, 0], [2μ, 2σ]],
    natural A⁻¹ g_θ = (g_θ1, (g_θ2 − 2μ g_θ1)/(2σ)) = (σ² ∂F/∂μ, (σ²/2) ∂F/∂σ) and
    vanilla (∂F/∂μ, ∂F/∂σ) = Aᵀ g_η = I_(μ,σ) A⁻¹ g_θ = (g_θ1/σ², (g_θ2 − 2μ g_θ1)/σ³),
    computed in the second form (no I_θ⁻¹, which loses digits as σ → 0); domain σ > 0,
    margin (σ/σ₀)² (as λ_min(Σ)/λ_max(Σ₀) in the η chart)."""

    name, symbol = "mu_sigma", ""

    def supports(self, model):
        return model.domain == "real" and model.n == 1

    def labels(self, model):
        return ["μ", "σ"]

    def coords(self, model):
        return np.array([model.mean()[0], np.sqrt(model.cov[0, 0])])

    def model(self, template, xi):
        mu, sigma = float(xi[0]), float(xi[1])
        if not sigma > 0:
            raise ValueError(f"sigma must be > 0; got {sigma}")
        return template.from_eta(np.array([mu, sigma * sigma + mu * mu]))

    def margin(self, template, xi):
        return float(xi[1] * abs(xi[1]) / template.cov[0, 0])

    def interior(self, template, xi):
        return np.array([xi[0], max(float(xi[1]), DELTA * np.sqrt(template.cov[0, 0]))])

    @staticmethod
    def _jacobian(model) -> np.ndarray:
        mu, sigma = model.mean()[0], np.sqrt(model.cov[0, 0])
        return np.array([[1.0, 0.0], [2.0 * mu, 2.0 * sigma]])

    def vanilla(self, model, ex):
        sigma2 = model.cov[0, 0]
        return self.natural(model, ex) * np.array([1.0 / sigma2, 2.0 / sigma2])

    def natural(self, model, ex):
        return np.linalg.solve(self._jacobian(model), ex.g_theta)

    def eta_velocity(self, model, v):
        return self._jacobian(model) @ np.asarray(v, dtype=float)

    def velocity(self, model, eta_dot):
        return np.linalg.solve(self._jacobian(model), np.asarray(eta_dot, dtype=float))


class MeanProjection:
    """Not a chart: the projection p ↦ E[x] of a Gaussian onto its mean, with the
    covariance held at the template's Σ when a model is built from a point.

    Used to draw an n-dimensional flow in the (μ1, μ2) plane, as the slides do for the 2-D
    quadratic: ``coords`` = μ, ``velocity`` = μ̇ = η̇_1..n.
    """

    name, symbol = "mean", "μ"

    def supports(self, model: ExponentialFamily) -> bool:
        return model.domain == "real"

    def check(self, model: ExponentialFamily) -> None:
        if not self.supports(model):
            raise ValueError(f"the mean projection needs a Gaussian; got {model!r}")

    def labels(self, model: ExponentialFamily) -> list[str]:
        return [f"μ{i + 1}" for i in range(model.n)]

    def coords(self, model: ExponentialFamily) -> np.ndarray:
        return np.array(model.mean())

    def model(self, template: ExponentialFamily, point: np.ndarray) -> ExponentialFamily:
        """N(point, Σ_template)."""
        point = np.asarray(point, dtype=float)
        return template.from_eta(_gaussian_eta(template, point, np.array(template.cov)))

    def velocity(self, model: ExponentialFamily, eta_dot: np.ndarray) -> np.ndarray:
        return np.asarray(eta_dot[: model.n], dtype=float)


#: The charts by name.
CHARTS: dict[str, Chart] = {c.name: c for c in (ThetaChart(), EtaChart(), MuChart(),
                                                MuSigmaChart())}


def get_view(view: str, model: ExponentialFamily) -> Chart | MeanProjection:
    """A chart by name, or ``"mean"`` for :class:`MeanProjection`: where pictures are drawn."""
    if view == "mean":
        found = MeanProjection()
        found.check(model)
        return found
    return get_chart(view, model)


def get_chart(chart: str | Chart, model: ExponentialFamily | None = None) -> Chart:
    """The chart named ``chart`` (or ``chart`` itself), checked against ``model``."""
    if isinstance(chart, Chart):
        found = chart
    elif chart in CHARTS:
        found = CHARTS[chart]
    else:
        raise ValueError(f"chart must be one of {', '.join(map(repr, CHARTS))} or a "
                         f"relax.flows.Chart; got {chart!r}")
    if model is not None:
        found.check(model)
    return found
