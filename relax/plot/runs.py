"""Figures of optimizer runs, after pycma's four-panel plot.

:func:`run_figure` — one run, panels against the number of evaluations:

1. f − f_opt (f − best f of the run when f_opt is unknown) on a log axis: the best f so far
   and the mean f of each iteration's sample;
2. the step size σ (when recorded), the model's spread and the step ρ, on a log axis;
3. the principal axis ratios √λ_i/√λ_min of the covariance (when recorded);
4. the coordinates of the mean (when recorded).

Panels 2–4 show what ``res.history`` holds (``sigma``, ``axes``: principal standard
deviations per iteration, sorted; ``mean``), so binary models and large n give fewer
panels.  Restarts (``res.restarts``, a list of dicts with ``nfev``) are marked by dotted
vertical lines at the evaluation where each new run began.

:func:`compare_figure` — several methods over seeds: every seed's best f − f_opt, thin,
with the median over seeds (bold) and the range (shaded) per method; where the best seed
has reached f_opt, the range is drawn down to a tenth of the smallest positive gap.

Values ≤ 0 cannot be drawn on a log axis: the evaluation at which f − f_opt first reaches
0 (the optimum found, e.g. on {−1,+1}^n) is marked by a ▼ on the bottom edge instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from relax.plot.figure import CYCLE, OKABE_ITO, save, style


def _positive(values) -> np.ndarray:
    """Values as floats with those ≤ 0 or not finite replaced by NaN (not drawable on a log
    axis)."""
    v = np.asarray(values, dtype=float)
    return np.where(np.isfinite(v) & (v > 0), v, np.nan)


def reference(histories: Sequence[Mapping], optimum: float | None) -> tuple[float, str]:
    """(f_ref, label): the known optimum, else the best f of all the runs."""
    if optimum is not None:
        return float(optimum), "f − f_opt"
    best = min((float(np.min(h["best_f"])) for h in histories if len(h["best_f"])),
               default=0.0)
    return best, "f − best f seen"


def _mark_reached(ax, nfev, gap, colour, label: str | None = None) -> None:
    """▼ on the bottom edge at the first evaluation where ``gap`` ≤ 0."""
    hit = np.flatnonzero(np.asarray(gap) <= 0)
    if hit.size:
        ax.plot(nfev[hit[0]], 0.0, "v", color=colour, ms=8, clip_on=False, zorder=5,
                transform=ax.get_xaxis_transform(), ls="none", label=label)


def restart_starts(restarts: Sequence[Mapping] | None, total: int) -> list[float]:
    """The evaluations at which restarts 2, 3, … began.

    ``nfev`` of each restart is read as the evaluations of that run when they sum to
    ``total``, else as the running count when the last one equals ``total``.
    """
    if not restarts or len(restarts) < 2:
        return []
    counts = np.array([float(r["nfev"]) for r in restarts])
    if np.isclose(counts[-1], total) and np.all(np.diff(counts) >= 0) and not np.isclose(
            counts.sum(), total):
        return list(counts[:-1])
    return list(np.cumsum(counts)[:-1])


def _restarts(axes, res) -> None:
    starts = restart_starts(getattr(res, "restarts", None), int(res.nfev))
    for ax in axes:
        for i, x in enumerate(starts):
            ax.axvline(x, color="0.3", ls=":", lw=1.0,
                       label="restart" if i == 0 and ax is axes[0] else None)
    if starts:
        for x, r in zip(starts, res.restarts[1:], strict=False):
            if "popsize" in r:
                axes[0].annotate(f"λ={r['popsize']}", (x, 1.0), xycoords=("data", "axes fraction"),
                                 xytext=(2, -10), textcoords="offset points", fontsize=8)


def _f_panel(ax, h, f_ref: float, label: str) -> None:
    nfev = np.asarray(h["nfev"], dtype=float)
    best, mean = np.asarray(h["best_f"], float) - f_ref, np.asarray(h["mean_f"], float) - f_ref
    ax.plot(nfev, _positive(best), color=OKABE_ITO["blue"], lw=1.8, label="best f so far")
    ax.plot(nfev, _positive(mean), color=OKABE_ITO["orange"], lw=1.0, ls="--",
            label="mean f of each sample")
    reached = "f_opt reached" if label == "f − f_opt" else "best f found"
    _mark_reached(ax, nfev, best, OKABE_ITO["blue"], reached)
    ax.set_yscale("log")
    ax.set_ylabel(label)
    ax.set_title(f"{label} (log scale)")


def _step_panel(ax, h) -> None:
    nfev = np.asarray(h["nfev"], dtype=float)
    if "sigma" in h:
        ax.plot(nfev, _positive(h["sigma"]), color=OKABE_ITO["green"], lw=1.8,
                label="step size σ")
    ax.plot(nfev, _positive(h["spread"]), color=OKABE_ITO["purple"], lw=1.4,
            label="spread of the model")
    rho = _positive(h["rho"])
    if np.any(np.isfinite(rho)):  # adaptive runs step without a ρ
        ax.plot(nfev, rho, color=OKABE_ITO["black"], lw=0.8, ls=":", label="step ρ")
    ax.set_yscale("log")
    ax.set_title("step size and spread")


def _axes_panel(ax, h) -> None:
    nfev = np.asarray(h["nfev"], dtype=float)
    axes = np.asarray(h["axes"], dtype=float)
    ratios = axes / axes.min(axis=1, keepdims=True)
    n = ratios.shape[1]
    for i in range(n):
        ax.plot(nfev, ratios[:, i], color=_coordinate_colour(i, n), lw=1.0)
    ax.set_yscale("log")
    ax.set_title(f"principal axis ratios √λ_i/√λ_min (last: {ratios[-1].max():.3g})")


def _mean_panel(ax, h) -> None:
    nfev = np.asarray(h["nfev"], dtype=float)
    mean = np.asarray(h["mean"], dtype=float)
    n = mean.shape[1]
    for i in range(n):
        ax.plot(nfev, mean[:, i], color=_coordinate_colour(i, n), lw=1.0,
                label=f"x{i + 1}" if n <= len(CYCLE) else None)
    ax.set_title(f"coordinates of the mean (n = {n})")


def _coordinate_colour(i: int, n: int):
    if n <= len(CYCLE):
        return CYCLE[i]
    from matplotlib import colormaps

    return colormaps["viridis"](i / max(n - 1, 1))


def run_figure(res, *, title: str | None = None, optimum: float | None = None,
               path: str | Path | None = None, fmt: str | None = None, dpi: int = 200):
    """The figure of one optimizer run (see the module docstring for the panels).

    Parameters
    ----------
    res : OptimizeResult
        Needs ``history`` with ``nfev``, ``best_f``, ``mean_f``, ``rho``, ``spread``;
        ``sigma``, ``axes`` (nit, n) and ``mean`` (nit, n) add panels; ``restarts`` marks.
    title : str, optional
        Figure title (the CLI gives problem, dimension, model, direction and seed).
    optimum : float, optional
        f_opt; without it the first panel shows f − (best f of the run).
    path, fmt, dpi
        Where and how to save (see :func:`relax.plot.save`).
    """
    h = res.history
    f_ref, label = reference([h], optimum)
    panels = [_step_panel] + [p for key, p in (("axes", _axes_panel), ("mean", _mean_panel))
                              if key in h and np.ndim(h[key]) == 2]
    with style() as plt:
        rows = 1 if not panels[1:] else 2
        fig, axes = plt.subplots(rows, 2, figsize=(11, 3.8 * rows), squeeze=False,
                                 sharex=True, layout="constrained")
        axes = list(axes.ravel())
        _f_panel(axes[0], h, f_ref, label)
        for ax, panel in zip(axes[1:], panels, strict=False):
            panel(ax, h)
        for ax in axes[1 + len(panels):]:
            ax.set_visible(False)
        used = axes[:1 + len(panels)]
        _restarts(used, res)
        for ax in used:
            ax.grid(alpha=0.3, lw=0.5)
            if ax.get_legend_handles_labels()[0]:
                ax.legend(loc="best", ncol=2 if len(ax.get_legend_handles_labels()[0]) > 4
                          else 1)
        for ax in used[-2:]:
            ax.set_xlabel("function evaluations")
        fig.suptitle(title or "optimizer run")
    return save(fig, path, fmt, dpi)


def _on_grid(nfev, values, grid) -> np.ndarray:
    """The running best at each evaluation count of ``grid``: the value of the last
    iteration with nfev ≤ g (NaN before the first; the last value after the run ended)."""
    idx = np.searchsorted(nfev, grid, side="right") - 1
    out = np.asarray(values, dtype=float)[np.clip(idx, 0, None)]
    return np.where(idx >= 0, out, np.nan)


def compare_figure(runs: Mapping[str, Sequence[Mapping]], *, optimum: float | None = None,
                   title: str | None = None, path: str | Path | None = None,
                   fmt: str | None = None, dpi: int = 200):
    """Every seed of every method: best f − f_opt against evaluations on a log axis.

    Parameters
    ----------
    runs : dict[str, list[dict]]
        Histories (each with ``nfev`` and ``best_f``) of each method's seeds.
    optimum : float, optional
        f_opt; without it f − (best f of all runs).

    Each seed is a thin line; per method the median over seeds at each evaluation count
    is bold and the range (min to max over seeds) shaded.  A run that stopped keeps its
    last best f in the median and range.
    """
    f_ref, label = reference([h for hs in runs.values() for h in hs], optimum)
    with style() as plt:
        fig, ax = plt.subplots(figsize=(8, 5), layout="constrained")
        for i, (method, histories) in enumerate(runs.items()):
            colour = CYCLE[i % len(CYCLE)]
            _method_band(ax, histories, f_ref, colour, method)
        if any(line.get_marker() == "v" for line in ax.lines):
            what = "f_opt" if label == "f − f_opt" else "the best f of all runs"
            ax.plot([], [], "v", color="0.35", ls="none", label=f"a seed reaches {what}")
        ax.set_yscale("log")
        ax.set_xlabel("function evaluations")
        ax.set_ylabel(f"best {label}")
        ax.grid(alpha=0.3, lw=0.5)
        ax.legend(loc="best", title="median (line), range over seeds (band)")
        fig.suptitle(title or "methods over seeds")
    return save(fig, path, fmt, dpi)


def _method_band(ax, histories: Sequence[Mapping], f_ref: float, colour, method: str) -> None:
    top = max(float(h["nfev"][-1]) for h in histories)
    grid = np.linspace(min(float(h["nfev"][0]) for h in histories), top, 400)
    gaps = []
    for h in histories:
        nfev = np.asarray(h["nfev"], dtype=float)
        gap = np.asarray(h["best_f"], dtype=float) - f_ref
        ax.plot(nfev, _positive(gap), color=colour, lw=0.6, alpha=0.45)
        _mark_reached(ax, nfev, gap, colour)
        gaps.append(_on_grid(nfev, gap, grid))
    G = np.array(gaps)
    ok = ~np.all(np.isnan(G), axis=0)
    lo, mid, hi = (np.full(grid.shape, np.nan) for _ in range(3))
    lo[ok], mid[ok], hi[ok] = (np.nanquantile(G[:, ok], q, axis=0) for q in (0.0, 0.5, 1.0))
    positive = G[np.isfinite(G) & (G > 0)]
    floor = positive.min() / 10 if positive.size else 1.0
    ax.fill_between(grid, np.where(lo > 0, lo, floor), _positive(hi), color=colour,
                    alpha=0.18, lw=0)
    ax.plot(grid, _positive(mid), color=colour, lw=2.2,
            label=f"{method} ({len(histories)} seeds)")
