"""Pictures: exact gradient flows over the level sets of F, and convergence curves.

matplotlib is an optional extra (``pip install relax[plot]``); it is imported inside the
functions, with the Agg backend when there is no display.  Every function returns the
matplotlib Figure and, given ``path``, also saves it as a PNG.

- :func:`levels`, :func:`field`, :func:`draw` — on one axis, the level sets of
  F(ξ) = E_ξ[f] in a chart, the field −∇F or −∇̃F as arrows (normalized: they show the
  direction, the colour the log speed) and flows (:class:`relax.flows.Trajectory`);
  :func:`flow_panel` puts the three together for a panel of a case.
- :func:`compare` — panels side by side (e.g. vanilla | natural) in one chart.
- :func:`case` — the slides' pictures by name (:mod:`relax.flows.cases`), optionally with
  the stochastic optimizer's path drawn over the exact flow.
- :func:`overlay` — the optimizer's path (:func:`relax.flows.montecarlo.monte_carlo`) on
  an axis.
- :func:`convergence` — best f and mean f against evaluations for several optimizer runs.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from relax.exact import exact
from relax.flows.cases import Case, Panel, Picture, get_case
from relax.flows.charts import get_chart, get_view
from relax.flows.montecarlo import monte_carlo
from relax.flows.trajectory import Trajectory
from relax.models.base import ExponentialFamily

#: Colour of a flow by how it ended.
STATUS_COLOURS = {"converged": "tab:blue", "boundary": "tab:red", "collapsed": "tab:brown",
                  "t_max": "tab:purple", "failed": "black"}
#: Line style of a flow by the chart it was integrated in (when several share an axis).
CHART_STYLES = {"theta": "-", "eta": "--", "mu": ":", "mu_sigma": ":"}
SYMBOLS = {"theta": "θ", "eta": "η", "mu": "μ", "mu_sigma": "(μ, σ)", "mean": "(μ1, μ2)"}
MATH = {"vanilla": r"vanilla $-\nabla F$", "natural": r"natural $-\widetilde{\nabla} F$"}


def pyplot():
    """matplotlib.pyplot, imported lazily (Agg backend when there is no display)."""
    try:
        import matplotlib
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("relax.plot needs matplotlib: pip install relax[plot]") from err
    headless = sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if headless and "MPLBACKEND" not in os.environ and "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, path: str | Path | None, dpi: int = 110):
    """Save ``fig`` as PNG at ``path`` (parents created) when a path is given; return fig."""
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return fig


# ------------------------------------------------------------------ flow pictures
def _grid(window, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    (a, b), (c, d) = window
    pad_x, pad_y = 1e-3 * (b - a), 1e-3 * (d - c)
    xs = np.linspace(a + pad_x, b - pad_x, resolution)
    ys = np.linspace(max(c, 0.0) + pad_y if c == 0 else c + pad_y, d - pad_y, resolution)
    return np.meshgrid(xs, ys)


def _models_on(template, view, X, Y):
    """The view's model at every grid point (None where there is none)."""
    out = np.empty(X.shape, dtype=object)
    for idx in np.ndindex(X.shape):
        try:
            out[idx] = view.model(template, np.array([X[idx], Y[idx]]))
        except ValueError:
            out[idx] = None
    return out


def level_grid(template: ExponentialFamily, f: Callable, view: str, window,
               resolution: int = 40, vectorized: bool = True):
    """(X, Y, F) with F = E[f] at the model of chart ``view`` at each grid point."""
    v = get_view(view, template)
    X, Y = _grid(window, resolution)
    models = _models_on(template, v, X, Y)
    F = np.array([np.nan if m is None else exact(m, f, vectorized=vectorized).F
                  for m in models.ravel()]).reshape(X.shape)
    return X, Y, F


def levels(ax, template: ExponentialFamily, f: Callable, view: str, window,
           resolution: int = 40, vectorized: bool = True, grid=None):
    """Filled level sets of F = E[f] over ``window`` of chart ``view`` (``grid``: a
    precomputed :func:`level_grid`)."""
    X, Y, F = grid or level_grid(template, f, view, window, resolution, vectorized)
    cs = ax.contourf(X, Y, F, levels=20, cmap="Greys_r", alpha=0.45)
    ax.contour(X, Y, F, levels=cs.levels, colors="0.45", linewidths=0.4)
    return cs


def field(ax, template: ExponentialFamily, f: Callable, gradient: str, param: str,
          view: str, window, resolution: int = 15, vectorized: bool = True):
    """Arrows of the flow's velocity dξ/dt = −(gradient in chart ``param``), mapped to
    chart ``view`` (η̇ = A ξ̇, then the view's ξ̇'), normalized; colour = log speed."""
    chart, v = get_chart(param, template), get_view(view, template)
    X, Y = _grid(window, resolution)
    U, V = np.full(X.shape, np.nan), np.full(X.shape, np.nan)
    for idx, m in np.ndenumerate(_models_on(template, v, X, Y)):
        if m is None:
            continue
        d = -chart.direction(gradient, m, exact(m, f, vectorized=vectorized))
        U[idx], V[idx] = v.velocity(m, chart.eta_velocity(m, d))[:2]
    speed = np.hypot(U, V)
    scale = np.where(speed > 0, speed, 1.0)
    return ax.quiver(X, Y, U / scale, V / scale, np.log10(speed + 1e-300), cmap="viridis",
                     alpha=0.55, angles="xy", pivot="mid", width=0.003, headwidth=3.5)


def draw(ax, trajectories: Sequence[Trajectory], view: str, *, linestyle: str = "-",
         label: str | None = None, colour: str | Callable | None = None):
    """Draw flows in chart ``view``: start ○, end ★ converged, ✕ left the domain,
    ▼ collapsed.

    ``colour``: one colour, a function of the trajectory, or None (by status).
    """
    for i, tr in enumerate(trajectories):
        P = tr.coords(view)
        c = colour(tr) if callable(colour) else colour
        c = c or STATUS_COLOURS.get(tr.status, "tab:gray")
        ax.plot(P[:, 0], P[:, 1], linestyle=linestyle, color=c, lw=1.4,
                label=label if i == 0 else None)
        ax.plot(*P[0, :2], "o", color=c, ms=3.5)
        marker = {"converged": "*", "boundary": "X", "collapsed": "v"}.get(tr.status)
        if marker:
            ax.plot(*P[-1, :2], marker, color=c, ms=8, mec="white", mew=0.6)


BASIN_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:cyan", "tab:olive")


def basin_colour(case: Case) -> Callable[[Trajectory], str]:
    """Colour of a flow: red if it left the domain, else that of the minimum of f nearest to
    where it went (blue: the global minimum)."""
    def colour(tr: Trajectory) -> str:
        if tr.status == "boundary":
            return STATUS_COLOURS["boundary"]
        return BASIN_COLOURS[case.basin(tr) % len(BASIN_COLOURS)]

    return colour


def overlay(ax, model: ExponentialFamily, f: Callable, gradient: str, param: str, view: str,
            *, rho: float, iterations: int, popsize: int, seed=0, t_max: float | None = None,
            vectorized: bool = True) -> tuple[Trajectory, Trajectory]:
    """The optimizer's path (fixed ρ, centered shaping, ``popsize`` samples) from ``model``
    drawn over the exact flow up to t = ρ·iterations (or the flow's end, if it stops
    before), in chart ``view``.

    Returns (Monte Carlo path, exact flow).
    """
    from relax.flows.gradient_flow import flow

    exact_flow = flow(model, f, gradient, param, t_max=t_max or rho * iterations,
                      vectorized=vectorized)
    iterations = min(iterations, int(exact_flow.t[-1] / rho + 1e-9))  # not past its end
    mc = monte_carlo(model, f, gradient, param, rho=rho, iterations=iterations,
                     popsize=popsize, seed=seed, vectorized=vectorized)
    P, Q = mc.coords(view), exact_flow.coords(view)
    ax.plot(Q[:, 0], Q[:, 1], color="gold", lw=4, alpha=0.9, label="exact flow", zorder=3)
    ax.plot(P[:, 0], P[:, 1], ".-", color="black", ms=2.5, lw=0.8, zorder=4,
            label=f"optimizer in {SYMBOLS[param]}: N={popsize}, ρ={rho:g}")
    return mc, exact_flow


def monte_carlo_chart(panel: Panel) -> str | None:
    """The optimizer chart to overlay on a panel: the panel's θ or η, or η for a natural
    panel in another chart (natural flows are the same in every chart)."""
    if panel.params[0] in ("theta", "eta"):
        return panel.params[0]
    return "eta" if panel.gradient == "natural" else None


def flow_panel(ax, case: Case, picture: Picture, panel: Panel, *, arrows: bool = True,
               resolution: int = 40, monte_carlo: bool = False,
               grid=None):
    """One panel of a case picture: levels of F, the first chart's field, every flow."""
    template = case.starts[0]
    levels(ax, template, case.f, picture.view, picture.window, resolution, grid=grid)
    if arrows:
        field(ax, template, case.f, panel.gradient, panel.params[0], picture.view,
              picture.window, resolution=max(8, resolution * 3 // 8))
    several = len(panel.params) > 1
    for param in panel.params:
        trs = case.flows(panel.gradient, param, panel.t_max)
        if several:
            draw(ax, trs, picture.view, linestyle=CHART_STYLES.get(param, "-"),
                 label=f"flow in {SYMBOLS[param]}", colour=_chart_colour(param))
        else:
            draw(ax, trs, picture.view, colour=basin_colour(case))
            _basin_legend(ax, case, trs)
    mc_param = monte_carlo_chart(panel)
    if monte_carlo and mc_param:
        mc = case.monte_carlo
        rho, t = mc.settings(panel.gradient, mc_param)
        overlay(ax, case.starts[mc.start], case.f, panel.gradient, mc_param, picture.view,
                rho=rho, iterations=int(round(t / rho)), popsize=mc.popsize)
    _decorate(ax, template, picture, panel)


def _basin_legend(ax, case: Case, trs: Sequence[Trajectory]) -> None:
    for i in sorted({case.basin(tr) for tr in trs if tr.status != "boundary"}):
        x = ", ".join(f"{v:+.3g}" for v in case.minima[i])
        value = float(np.asarray(case.f(np.array([case.minima[i]])))[0])
        kind = "global" if i == 0 else "local"
        ax.plot([], [], color=BASIN_COLOURS[i % len(BASIN_COLOURS)], lw=1.4,
                label=f"to the {kind} minimum ({x}), f = {value:.4g}")
    if any(tr.status == "boundary" for tr in trs):
        ax.plot([], [], color=STATUS_COLOURS["boundary"], lw=1.4, label="left the domain")


def _chart_colour(param: str) -> str:
    return {"theta": "tab:blue", "eta": "tab:red", "mu": "tab:green",
            "mu_sigma": "tab:green"}[param]


def _decorate(ax, template, picture: Picture, panel: Panel) -> None:
    (a, b), (c, d) = picture.window
    ax.set_xlim(a, b)
    ax.set_ylim(c, d)
    labels = get_view(picture.view, template).labels(template)
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    where = ", ".join(SYMBOLS[p] for p in panel.params)
    ax.set_title(f"{MATH[panel.gradient]} in {where}", fontsize=10)
    handles, names = ax.get_legend_handles_labels()
    if handles:  # below the axes, where it hides no flow
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=1,
                  frameon=False)


def compare(case: Case, picture: Picture, *, monte_carlo: bool = False,
            resolution: int = 40, path: str | Path | None = None):
    """The picture's panels side by side, with the case's title."""
    plt = pyplot()
    k = len(picture.panels)
    fig, axes = plt.subplots(1, k, figsize=(5.2 * k, 6.0), squeeze=False)
    grid = level_grid(case.starts[0], case.f, picture.view, picture.window, resolution)
    for ax, panel in zip(axes[0], picture.panels, strict=True):
        flow_panel(ax, case, picture, panel, resolution=resolution, monte_carlo=monte_carlo,
                   grid=grid)
    fig.suptitle(f"{case.title}\n{picture.title}  (○ start, ★ converged, ✕ left the domain, "
                 "▼ collapsed, no mark: still moving at t_max)", fontsize=10)
    fig.tight_layout()
    return save(fig, path)


def case(name: str, out: str | Path | None = None, *, monte_carlo: bool = False,
         resolution: int = 40, draft: bool = False) -> dict[str, object]:
    """Every picture of the case ``name``; saved as ``out/<picture>.png`` when ``out`` is
    given.  Returns {picture name: Figure}.

    ``monte_carlo`` overlays the optimizer's path on the exact flow (see :func:`overlay`);
    ``draft`` draws every fifth start on a coarser grid (quick looks and tests).
    """
    c = get_case(name)
    if draft:
        c.starts, resolution = c.starts[::5], min(resolution, 18)
    figures = {}
    for picture in c.pictures:
        path = None if out is None else Path(out) / f"{picture.name}.png"
        figures[picture.name] = compare(c, picture, monte_carlo=monte_carlo,
                                        resolution=resolution, path=path)
    return figures


# ------------------------------------------------------------- optimizer runs
def convergence(results: Mapping[str, object], ax=None, *, path: str | Path | None = None,
                yscale: str | None = None):
    """Best f (solid) and mean f of each iteration's sample (dashed) against the number of
    evaluations, one colour per method.

    Parameters
    ----------
    results : dict[str, OptimizeResult]
        Runs by label; each needs ``history`` arrays ``"nfev"``, ``"best_f"``, ``"mean_f"``.
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).
    yscale : str, optional
        "linear", "log" or "symlog"; default "log" when every value is positive.
    """
    plt = pyplot()
    fig, ax = (plt.subplots(figsize=(6.4, 4.2)) if ax is None else (ax.figure, ax))
    values = []
    for i, (label, res) in enumerate(results.items()):
        h = res.history
        colour = f"C{i % 10}"
        ax.plot(h["nfev"], h["best_f"], "-", color=colour, lw=1.6, label=f"{label}: best f")
        ax.plot(h["nfev"], h["mean_f"], "--", color=colour, lw=0.9, alpha=0.8,
                label=f"{label}: mean f")
        values.append(np.concatenate([h["best_f"], h["mean_f"]]))
    finite = np.concatenate(values) if values else np.array([1.0])
    finite = finite[np.isfinite(finite)]
    ax.set_yscale(yscale or ("log" if finite.size and np.all(finite > 0) else "linear"))
    ax.set_xlabel("function evaluations")
    ax.set_ylabel("f")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save(fig, path)
