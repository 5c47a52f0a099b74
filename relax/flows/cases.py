"""The slides' gradient-flow examples, by name.

relax always **minimizes**.  The toy problem is a minimization on the slides too; the
Gaussian examples are maximizations there ("Vanilla and natural flows for f = x − 3x²"
climb to the maximum of f), so here they are run as minimization of −f, which draws the
same flows.

========== ===================================================== =====================
name       function minimized, model                             pictures
========== ===================================================== =====================
toy        f = x1 + 2x2 + 3x1x2 on {−1,+1}², independence model  μ, θ, η charts
cubic      −(x − 3x²), 1-D Gaussian                              (μ, σ) chart
quartic    −(6x + 8x² − x³ − 2x⁴), 1-D Gaussian                  (μ, σ) chart
quadratic2d −(x1 + 2x2 − 3x1² − 2x1x2 − 2x2²), 2-D Gaussian,      (μ1, μ2) projection
           Σ(0) = [[1, −0.5], [−0.5, 2]]
========== ===================================================== =====================

(``cubic`` is the name the issue gave it; f = x − 3x² is quadratic — the slide is titled
"Quadratic functions in R".)  Each case starts its flows from a grid of initial points and
describes its figures: a :class:`Picture` is one PNG, drawn in one chart (``view``), with
one :class:`Panel` per gradient, each holding the flows of one or more charts.  ``minima``
lists the local minima of f, the global one first: the limits the flows are coloured by.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from relax.flows.gradient_flow import flow
from relax.flows.trajectory import Trajectory
from relax.models.base import ExponentialFamily
from relax.models.bernoulli import Bernoulli
from relax.models.gaussian import Gaussian


# ---------------------------------------------------------------- the functions
def toy(X: np.ndarray) -> np.ndarray:
    """f(x) = x1 + 2x2 + 3x1x2 on {−1,+1}² (minimum −4 at (+1,−1), local minimum −2 at
    (−1,+1)); in μ_i = P(x_i = +1), F(μ) = −4μ1 − 2μ2 + 12μ1μ2."""
    X = np.asarray(X, dtype=float)
    return X[..., 0] + 2.0 * X[..., 1] + 3.0 * X[..., 0] * X[..., 1]


def neg_cubic(X: np.ndarray) -> np.ndarray:
    """−f with the slides' f = x − 3x² (maximized there): 3x² − x, minimum at x = 1/6."""
    x = np.asarray(X, dtype=float)[..., 0]
    return 3.0 * x * x - x


def neg_quartic(X: np.ndarray) -> np.ndarray:
    """−f with the slides' f = 6x + 8x² − x³ − 2x⁴ (maximized there): 2x⁴ + x³ − 8x² − 6x,
    minima at x = ±√2 (global at +√2), a local maximum at x = −3/8."""
    x = np.asarray(X, dtype=float)[..., 0]
    return 2.0 * x**4 + x**3 - 8.0 * x * x - 6.0 * x


def neg_quadratic2d(X: np.ndarray) -> np.ndarray:
    """−f with the slides' f = x1 + 2x2 − 3x1² − 2x1x2 − 2x2² (maximized there):
    3x1² + 2x1x2 + 2x2² − x1 − 2x2, minimum −1/2 at (0, 1/2)."""
    X = np.asarray(X, dtype=float)
    x1, x2 = X[..., 0], X[..., 1]
    return 3.0 * x1 * x1 + 2.0 * x1 * x2 + 2.0 * x2 * x2 - x1 - 2.0 * x2


#: The slides' initial covariance of the 2-D quadratic: σ11 = 1, σ12 = −0.5, σ22 = 2.
SIGMA_2D = np.array([[1.0, -0.5], [-0.5, 2.0]])


#: ODE tolerances for pictures (a tenth of a pixel is plenty).
PICTURE_TOLERANCES = {"rtol": 1e-5, "atol": 1e-7, "substeps": 3}


# ------------------------------------------------------------------ descriptions
@dataclass(frozen=True)
class Panel:
    """One axis of a picture: the ``gradient`` flows in each chart of ``params`` (the
    first one's field is drawn as arrows), integrated up to ``t_max``."""

    gradient: str
    params: tuple[str, ...]
    t_max: float


@dataclass(frozen=True)
class Picture:
    """One PNG: panels side by side, drawn in chart ``view`` over ``window``."""

    name: str
    title: str
    view: str
    window: tuple[tuple[float, float], tuple[float, float]]
    panels: tuple[Panel, ...]


@dataclass(frozen=True)
class MonteCarlo:
    """Settings of the optimizer overlay: fixed step ``rho``, ``popsize`` samples per
    iteration, up to flow time ``t`` (so t/ρ iterations), from start number ``start``;
    ``special`` maps (gradient, param) to its own (rho, t) where the flow is stiff and
    Euler steps of size ``rho`` would be unstable."""

    rho: float
    t: float
    popsize: int
    start: int = 0
    special: tuple[tuple[tuple[str, str], tuple[float, float]], ...] = ()

    def settings(self, gradient: str, param: str) -> tuple[float, float]:
        """(rho, t) for the overlay of that flow."""
        return dict(self.special).get((gradient, param), (self.rho, self.t))


@dataclass
class Case:
    """A named example: f (vectorized, minimized), the starts, and the pictures."""

    name: str
    title: str
    f: Callable[[np.ndarray], np.ndarray]
    starts: tuple[ExponentialFamily, ...]
    pictures: tuple[Picture, ...]
    monte_carlo: MonteCarlo
    minima: tuple[tuple[float, ...], ...]
    _flows: dict = field(default_factory=dict, repr=False)

    def basin(self, tr: Trajectory) -> int:
        """Index of the minimum in ``minima`` nearest to the mode of the path's end."""
        x = tr.end.mode()
        return int(np.argmin([np.linalg.norm(x - np.asarray(m)) for m in self.minima]))

    def flows(self, gradient: str, param: str, t_max: float) -> list[Trajectory]:
        """The exact flows from every start (computed once, then cached)."""
        key = (gradient, param, float(t_max))
        if key not in self._flows:
            self._flows[key] = [flow(m, self.f, gradient, param, t_max=t_max, vectorized=True,
                                     **PICTURE_TOLERANCES) for m in self.starts]
        return self._flows[key]


def _grid(a, b) -> list[tuple[float, float]]:
    return [(x, y) for x in a for y in b]


def _toy() -> Case:
    starts = tuple(Bernoulli(p=p) for p in _grid((0.1, 0.37, 0.63, 0.9), (0.1, 0.37, 0.63, 0.9)))
    both = ("vanilla", "natural")
    t = {"vanilla": 5.0, "natural": 8.0}
    pictures = (
        Picture("toy_mu", "marginal probabilities μ", "mu", ((0, 1), (0, 1)),
                tuple(Panel(g, ("mu",), t[g]) for g in both)),
        Picture("toy_theta", "natural parameters θ", "theta", ((-3, 3), (-3, 3)),
                (Panel("vanilla", ("theta",), 1000.0), Panel("natural", ("theta",), 8.0))),
        Picture("toy_eta", "expectation parameters η", "eta", ((-1, 1), (-1, 1)),
                tuple(Panel(g, ("eta",), t[g]) for g in both)),
        Picture("toy_charts", "flows of θ, η and μ drawn in μ: vanilla flows depend on the "
                "chart, the natural flow does not", "mu", ((0, 1), (0, 1)),
                (Panel("vanilla", ("theta", "eta", "mu"), 1000.0),
                 Panel("natural", ("theta", "eta", "mu"), 8.0))),
    )
    return Case("toy", "minimize f = x1 + 2x2 + 3x1x2 on {−1,+1}² (independence model)",
                toy, starts, pictures, MonteCarlo(rho=0.02, t=3.0, popsize=4000, start=5),
                minima=((1.0, -1.0), (-1.0, 1.0)))


def _line(name: str, title: str, f, mus, sigmas, window, minima) -> Case:
    starts = tuple(Gaussian([m], s * s) for m, s in _grid(mus, sigmas))
    view = "mu_sigma"
    pictures = (
        Picture(name, "(μ, σ) chart", view, window,
                (Panel("vanilla", ("mu_sigma",), 5.0), Panel("natural", ("mu_sigma",), 40.0))),
        Picture(f"{name}_charts", "flows of θ, η and (μ, σ) drawn in (μ, σ)", view, window,
                (Panel("vanilla", ("theta", "eta", "mu_sigma"), 5.0),
                 Panel("natural", ("theta", "eta", "mu_sigma"), 40.0))),
    )
    return Case(name, title, f, starts, pictures, MonteCarlo(rho=0.01, t=2.0, popsize=4000),
                minima=minima)


def _quadratic2d() -> Case:
    means = [m for m in _grid((-2.0, 0.0, 2.0), (-2.0, 0.0, 2.0)) if m != (0.0, 0.0)]
    starts = tuple(Gaussian(m, SIGMA_2D) for m in means)
    window = ((-3.0, 3.0), (-3.0, 3.0))
    pictures = (
        Picture("quadratic2d", "projection on (μ1, μ2), Σ(0) = [[1, −0.5], [−0.5, 2]]",
                "mean", window,
                (Panel("vanilla", ("theta",), 5.0), Panel("vanilla", ("eta",), 5.0),
                 Panel("natural", ("theta", "eta"), 20.0))),
    )
    return Case("quadratic2d", "minimize 3x1² + 2x1x2 + 2x2² − x1 − 2x2 (that is −f for "
                "f = x1 + 2x2 − 3x1² − 2x1x2 − 2x2²), 2-D Gaussian", neg_quadratic2d, starts,
                pictures,
                MonteCarlo(rho=0.01, t=1.0, popsize=4000,
                           special=((("vanilla", "theta"), (5e-4, 0.1)),
                                    (("vanilla", "eta"), (2e-3, 1.0)))),
                minima=((0.0, 0.5),))


#: Case factories by name (a fresh Case, with an empty flow cache, per call).
CASES: dict[str, Callable[[], Case]] = {
    "toy": _toy,
    "cubic": lambda: _line("cubic", "minimize 3x² − x (that is −f for f = x − 3x²), "
                           "1-D Gaussian", neg_cubic, (-1.5, -0.5, 0.5, 1.5), (0.4, 1.2),
                           ((-2.0, 2.0), (0.0, 1.6)), minima=((1.0 / 6.0,),)),
    "quartic": lambda: _line("quartic", "minimize 2x⁴ + x³ − 8x² − 6x (that is −f for "
                             "f = 6x + 8x² − x³ − 2x⁴), 1-D Gaussian", neg_quartic,
                             (-2.5, -1.0, 0.25, 1.0, 2.5), (0.3, 1.2),
                             ((-3.0, 3.0), (0.0, 1.6)),
                             minima=((np.sqrt(2.0),), (-np.sqrt(2.0),))),
    "quadratic2d": _quadratic2d,
}


def get_case(name: str) -> Case:
    """The case ``name`` (see :data:`CASES`)."""
    if name not in CASES:
        raise ValueError(f"unknown case {name!r}; choose one of {', '.join(CASES)}")
    return CASES[name]()
