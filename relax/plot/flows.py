"""Figures of exact gradient flows over the level sets of F(ξ) = E_ξ[f].

- :func:`levels`, :func:`field`, :func:`draw` — on one axis: the filled level sets of F in a
  chart, the field −∇F or −∇̃F as arrows (unit length: they show the direction; their
  colour is log₁₀ of the speed) and flows (:class:`relax.flows.Trajectory`);
  :func:`flow_panel` puts the three together for a panel of a case.
- :func:`overlay` — the stochastic optimizer's path (:func:`relax.flows.monte_carlo`)
  drawn over the exact flow.
- :func:`compare` — the panels of one picture side by side (e.g. vanilla | natural), with
  a colourbar for F, one for the arrow speed under each panel, and one legend whose keys
  are the marks and lines drawn.
- :func:`case` — every picture of a case of :mod:`relax.flows.cases`.

Marks: ○ start; at the end ★ converged, ✖ left the domain, ▼ collapsed, none: still
moving at t_max.  End marks are drawn unclipped, so a flow that ends on the edge of the
window (σ = 0, μ_i ∈ {0, 1}) keeps its mark.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from relax.exact import exact
from relax.flows.cases import Case, Panel, Picture, get_case
from relax.flows.charts import get_chart, get_view
from relax.flows.montecarlo import monte_carlo
from relax.flows.trajectory import Trajectory
from relax.models.base import ExponentialFamily
from relax.plot.figure import OKABE_ITO, save, style

#: Colour of a flow by how it ended (when not coloured by basin).
STATUS_COLOURS = {"converged": OKABE_ITO["blue"], "boundary": OKABE_ITO["vermillion"],
                  "collapsed": OKABE_ITO["purple"], "t_max": OKABE_ITO["black"],
                  "failed": OKABE_ITO["black"]}
#: Colour of a flow by the minimum of f it goes to (global first).
BASIN_COLOURS = tuple(OKABE_ITO[k] for k in ("blue", "green", "sky", "purple", "yellow"))
#: End marks by status, with their legend text.
END_MARKS = {"converged": ("*", "end: converged"), "boundary": ("X", "end: left the domain"),
             "collapsed": ("v", "end: collapsed")}
#: How the flows of several charts sharing an axis are drawn: wide and pale underneath,
#: dashed on top of it, thin dotted on top, so that coinciding flows stay visible.
CHART_LINES = {
    "theta": {"color": OKABE_ITO["blue"], "lw": 4.5, "alpha": 0.45, "ls": "-", "zorder": 2},
    "eta": {"color": OKABE_ITO["orange"], "lw": 2.0, "alpha": 1.0, "ls": "--", "zorder": 3},
    "mu": {"color": OKABE_ITO["black"], "lw": 1.2, "alpha": 1.0, "ls": ":", "zorder": 4},
    "mu_sigma": {"color": OKABE_ITO["black"], "lw": 1.2, "alpha": 1.0, "ls": ":",
                 "zorder": 4},
}
SYMBOLS = {"theta": "θ", "eta": "η", "mu": "μ", "mu_sigma": "(μ, σ)", "mean": "(μ1, μ2)"}
MATH = {"vanilla": r"vanilla $-\nabla F$", "natural": r"natural $-\widetilde{\nabla} F$"}


# ------------------------------------------------------------------ grids
def _grid(window, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    (a, b), (c, d) = window
    pad_x, pad_y = 1e-3 * (b - a), 1e-3 * (d - c)
    xs = np.linspace(a + pad_x, b - pad_x, resolution)
    ys = np.linspace(c + pad_y, d - pad_y, resolution)
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


# ------------------------------------------------------------- one axis
def levels(ax, template: ExponentialFamily, f: Callable, view: str, window,
           resolution: int = 40, vectorized: bool = True, grid=None):
    """Filled level sets of F = E[f] over ``window`` of chart ``view`` (``grid``: a
    precomputed :func:`level_grid`), light = high F; returns the filled contour set (for a
    colourbar)."""
    X, Y, F = grid or level_grid(template, f, view, window, resolution, vectorized)
    cs = ax.contourf(X, Y, F, levels=20, cmap="Greys_r", alpha=0.5, zorder=0)
    ax.contour(X, Y, F, levels=cs.levels, colors="0.45", linewidths=0.4, zorder=0)
    return cs


def field(ax, template: ExponentialFamily, f: Callable, gradient: str, param: str,
          view: str, window, resolution: int = 15, vectorized: bool = True):
    """Arrows of the flow's velocity dξ/dt = −(gradient in chart ``param``), mapped to
    chart ``view`` (η̇ = A ξ̇, then the view's ξ̇'), of unit length; colour = log₁₀ speed
    in the view's coordinates.  Returns the quiver (for a colourbar)."""
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
    log_speed = np.log10(speed + 1e-300)
    quiver = ax.quiver(X, Y, U / scale, V / scale, log_speed, cmap="viridis", alpha=0.8,
                       angles="xy", pivot="mid", width=0.0035, headwidth=3.5, zorder=1)
    lo, hi = np.nanmin(log_speed), np.nanmax(log_speed)
    if hi - lo < 1e-3:  # a uniform speed: a colour scale one decade wide around it
        quiver.set_clim(lo - 0.5, hi + 0.5)
    return quiver


def draw(ax, trajectories: Sequence[Trajectory], view: str, *, line: dict | None = None,
         label: str | None = None, colour: str | Callable | None = None):
    """Draw flows in chart ``view``: the path, ○ at its start and its end mark
    (:data:`END_MARKS`; unclipped when the end lies on the axis limits or inside, so that
    marks on the edge of the window stay whole).

    ``line``: matplotlib line properties (default: solid, 1.6 pt); ``colour``: one colour,
    a function of the trajectory, or None (by status, :data:`STATUS_COLOURS`).
    """
    props = {"lw": 1.6, "ls": "-", "zorder": 2} | dict(line or {})
    for i, tr in enumerate(trajectories):
        P = tr.coords(view)
        c = colour(tr) if callable(colour) else colour
        c = c or props.get("color") or STATUS_COLOURS.get(tr.status, "0.5")
        ax.plot(P[:, 0], P[:, 1], **(props | {"color": c}), label=label if i == 0 else None)
        ax.plot(*P[0, :2], "o", color=c, ms=4, mec="white", mew=0.5, zorder=5)
        mark = END_MARKS.get(tr.status)
        if mark:
            ax.plot(*P[-1, :2], mark[0], color=c, ms=9, mec="white", mew=0.7, zorder=6,
                    clip_on=not _inside(ax, P[-1, :2]))


def _inside(ax, point) -> bool:
    """``point`` lies within the axis limits (up to a thousandth of their span)."""
    return all(min(lim) - 1e-3 * abs(lim[1] - lim[0]) <= v
               <= max(lim) + 1e-3 * abs(lim[1] - lim[0])
               for v, lim in zip(point, (ax.get_xlim(), ax.get_ylim()), strict=True))


def basin_colour(case: Case) -> Callable[[Trajectory], str]:
    """Colour of a flow: vermillion if it left the domain, else that of the minimum of f
    nearest to where it went (blue: the global minimum)."""
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
    ax.plot(Q[:, 0], Q[:, 1], color=OKABE_ITO["yellow"], lw=5, alpha=0.9,
            label="exact flow under the optimizer", zorder=7)
    ax.plot(P[:, 0], P[:, 1], ".-", color=OKABE_ITO["black"], ms=3, lw=0.8, zorder=8,
            label=f"optimizer in {SYMBOLS[param]}: N={popsize}, ρ={rho:g}")
    return mc, exact_flow


def monte_carlo_chart(panel: Panel) -> str | None:
    """The optimizer chart to overlay on a panel: the panel's θ or η, or η for a natural
    panel in another chart (natural flows are the same in every chart)."""
    if panel.params[0] in ("theta", "eta"):
        return panel.params[0]
    return "eta" if panel.gradient == "natural" else None


def flow_panel(ax, case: Case, picture: Picture, panel: Panel, *, arrows: bool = True,
               resolution: int = 40, monte_carlo: bool = False, grid=None):
    """One panel of a case picture: levels of F, the first chart's field, every flow.

    Returns (level contour set, arrow quiver or None) for the colourbars.
    """
    template = case.starts[0]
    _decorate(ax, template, picture, panel)  # limits first: end marks are clipped by them
    cs = levels(ax, template, case.f, picture.view, picture.window, resolution, grid=grid)
    quiver = None
    if arrows:
        quiver = field(ax, template, case.f, panel.gradient, panel.params[0], picture.view,
                       picture.window, resolution=max(8, resolution * 3 // 8))
    several = len(panel.params) > 1
    for param in panel.params:
        trs = case.flows(panel.gradient, param, panel.t_max)
        if several:
            draw(ax, trs, picture.view, line=CHART_LINES[param],
                 label=f"flow in {SYMBOLS[param]}")
        else:
            draw(ax, trs, picture.view, colour=basin_colour(case))
            _basin_keys(ax, case, trs)
    mc_param = monte_carlo_chart(panel)
    if monte_carlo and mc_param:
        mc = case.monte_carlo
        rho, t = mc.settings(panel.gradient, mc_param)
        overlay(ax, case.starts[mc.start], case.f, panel.gradient, mc_param, picture.view,
                rho=rho, iterations=int(round(t / rho)), popsize=mc.popsize)
    return cs, quiver


def _basin_keys(ax, case: Case, trs: Sequence[Trajectory]) -> None:
    """Legend keys (empty lines) for the basins the flows of this panel reach."""
    for i in sorted({case.basin(tr) for tr in trs if tr.status != "boundary"}):
        x = ", ".join(f"{v:+.3g}" for v in case.minima[i])
        value = float(np.asarray(case.f(np.array([case.minima[i]])))[0])
        kind = "global" if i == 0 else "local"
        ax.plot([], [], color=BASIN_COLOURS[i % len(BASIN_COLOURS)], lw=1.6,
                label=f"flow to the {kind} minimum x = ({x}), f = {value:.4g}")
    if any(tr.status == "boundary" for tr in trs):
        ax.plot([], [], color=STATUS_COLOURS["boundary"], lw=1.6,
                label="flow that left the domain")


def _decorate(ax, template, picture: Picture, panel: Panel) -> None:
    (a, b), (c, d) = picture.window
    ax.set_xlim(a, b)
    ax.set_ylim(c, d)
    labels = get_view(picture.view, template).labels(template)
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    where = ", ".join(SYMBOLS[p] for p in panel.params)
    ax.set_title(f"{MATH[panel.gradient]}, flow{'s' if len(panel.params) > 1 else ''} "
                 f"in {where}")


# ------------------------------------------------------------ whole figures
def _mark_keys(axes) -> list:
    """Legend handles for the marks that appear on ``axes``: ○ start and the end marks."""
    from matplotlib.lines import Line2D

    used = {line.get_marker() for ax in axes for line in ax.lines}
    keys = [Line2D([], [], marker="o", ls="none", color="0.35", ms=5, label="start")]
    for marker, text in END_MARKS.values():
        if marker in used:
            keys.append(Line2D([], [], marker=marker, ls="none", color="0.35", ms=9,
                               label=text))
    keys.append(Line2D([], [], ls="none", label="no end mark: still moving at t_max"))
    return keys


def _legend(fig, axes) -> None:
    """One legend below the panels: every labelled line of every panel once, then the
    marks."""
    seen, handles = set(), []
    for ax in axes:
        for h, label in zip(*ax.get_legend_handles_labels(), strict=True):
            if label not in seen:
                seen.add(label)
                handles.append(h)
    handles += _mark_keys(axes)
    fig.legend(handles=handles, loc="outside lower center", ncol=2, frameon=False)


def compare(case: Case, picture: Picture, *, monte_carlo: bool = False,
            resolution: int = 40, path: str | Path | None = None, fmt: str | None = None,
            dpi: int = 200):
    """The picture's panels side by side, titled with the case and the picture, with a
    colourbar for F (right), one for the arrows' speed under each panel, and a legend of
    every line and mark (below)."""
    with style() as plt:
        k = len(picture.panels)
        fig, axes = plt.subplots(1, k, figsize=(4.6 * k + 1.4, 6.6), squeeze=False,
                                 layout="constrained")
        axes = list(axes[0])
        grid = level_grid(case.starts[0], case.f, picture.view, picture.window, resolution)
        for ax, panel in zip(axes, picture.panels, strict=True):
            cs, quiver = flow_panel(ax, case, picture, panel, resolution=resolution,
                                    monte_carlo=monte_carlo, grid=grid)
            if quiver is not None:
                fig.colorbar(quiver, ax=ax, location="bottom", shrink=0.8, aspect=30,
                             label="arrow colour: log$_{10}$ speed of the flow")
        fig.colorbar(cs, ax=axes, location="right", shrink=0.9, label="F = E[f]")
        _legend(fig, axes)
        fig.suptitle(f"{case.title}\n{picture.title}")
    return save(fig, path, fmt, dpi)


def case(name: str, out: str | Path | None = None, *, monte_carlo: bool = False,
         resolution: int = 40, draft: bool = False, fmt: str = "png",
         dpi: int = 200) -> dict[str, object]:
    """Every picture of the case ``name``; saved as ``out/<picture>.<fmt>`` when ``out``
    is given.  Returns {picture name: Figure}.

    ``monte_carlo`` overlays the optimizer's path on the exact flow (see :func:`overlay`);
    ``draft`` draws every fifth start (and the optimizer's) on a coarser grid (quick looks
    and tests).
    """
    c = get_case(name)
    if draft:
        keep = sorted(set(range(0, len(c.starts), 5)) | {c.monte_carlo.start})
        c.starts, resolution = tuple(c.starts[i] for i in keep), min(resolution, 18)
        c.monte_carlo = replace(c.monte_carlo, start=keep.index(c.monte_carlo.start))
    figures = {}
    for picture in c.pictures:
        path = None if out is None else Path(out) / f"{picture.name}.{fmt}"
        figures[picture.name] = compare(c, picture, monte_carlo=monte_carlo,
                                        resolution=resolution, path=path, fmt=fmt, dpi=dpi)
    return figures
