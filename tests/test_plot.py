"""Figures: each renders headlessly with a title, the axes it promises (log scale for
f − f_opt), colourbars and a legend that matches the marks; runs with and without the
optional history (σ, principal axes, mean, restarts); PNG, PDF and SVG at a chosen dpi."""

import os
import subprocess
import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from click.testing import CliRunner  # noqa: E402
from scipy.optimize import OptimizeResult  # noqa: E402

import relax  # noqa: E402
from relax import plot  # noqa: E402
from relax.cli import main  # noqa: E402
from relax.flows.cases import CASES, get_case, toy  # noqa: E402
from relax.plot.runs import restart_starts  # noqa: E402


def assert_nontrivial_png(path, min_kb: float = 20.0):
    """The file exists, decodes, weighs more than ``min_kb`` and is a real picture: its
    pixels vary and it has many distinct colours."""
    assert path.is_file(), path
    assert path.stat().st_size > min_kb * 1024, (path, path.stat().st_size)
    img = mpimg.imread(path)
    assert img.ndim == 3 and img.shape[0] > 200 and img.shape[1] > 300
    rgb = img[..., :3].reshape(-1, 3)
    assert rgb.std() > 0.05
    assert len(np.unique(np.round(rgb * 255).astype(np.uint8), axis=0)) > 200


def fake_run(nit=120, n=4, full=True, restarts=None, seed=0):
    """An OptimizeResult-like run: the history every optimizer records, plus σ, the
    principal axes and the mean when ``full``."""
    rng = np.random.default_rng(seed)
    nfev = np.arange(1, nit + 1) * 10
    best = 5.0 + np.minimum.accumulate(100 * np.exp(-nfev / 300) * (1 + rng.random(nit)))
    h = {"nfev": nfev, "best_f": best, "mean_f": best + np.exp(-nfev / 500),
         "rho": np.full(nit, 0.2), "kl": np.full(nit, 0.01), "spread": np.exp(-nfev / 600)}
    if full:
        h |= {"sigma": np.exp(-nfev / 700),
              "axes": np.sort(np.exp(rng.normal(size=(nit, n)).cumsum(0) * 0.1), axis=1),
              "mean": rng.normal(size=(nit, n)).cumsum(0) * 0.1}
    res = OptimizeResult(history=h, nfev=int(nfev[-1]), fun=float(best[-1]), nit=nit)
    if restarts is not None:
        res.restarts = restarts
    return res


def visible(fig):
    return [ax for ax in fig.axes if ax.get_visible()]


# ------------------------------------------------------------------ run figure
def test_run_figure_has_title_log_axis_and_every_panel(tmp_path):
    restarts = [{"popsize": 8, "nfev": 500, "best_f": 9.0, "stop": "tolx"},
                {"popsize": 16, "nfev": 700, "best_f": 5.1, "stop": "maxfev"}]
    fig = plot.run_figure(fake_run(restarts=restarts), title="sphere, n = 4, seed 7",
                          optimum=5.0, path=tmp_path / "run.png")
    assert fig._suptitle.get_text() == "sphere, n = 4, seed 7"
    f_ax, step_ax, axes_ax, mean_ax = visible(fig)
    assert f_ax.get_yscale() == "log" and "f − f_opt" in f_ax.get_title()
    assert step_ax.get_yscale() == "log" and axes_ax.get_yscale() == "log"
    assert "σ" in " ".join(step_ax.get_legend_handles_labels()[1])
    assert "axis ratios" in axes_ax.get_title() and len(axes_ax.lines) >= 4
    assert "mean" in mean_ax.get_title() and len(mean_ax.lines) >= 4
    for ax in visible(fig):  # the restart is marked on every panel, at evaluation 500
        assert any(np.allclose(line.get_xdata(), 500) for line in ax.lines)
    assert_nontrivial_png(tmp_path / "run.png")
    plt.close(fig)


def test_run_figure_without_optional_history_and_optimum():
    fig = plot.run_figure(fake_run(full=False))
    axes = visible(fig)
    assert len(axes) == 2
    assert axes[0].get_yscale() == "log" and "f − best f seen" in axes[0].get_title()
    assert fig._suptitle.get_text() == "optimizer run"
    plt.close(fig)


def test_run_figure_marks_the_optimum_reached_instead_of_dropping_to_a_linear_axis():
    res = relax.minimize(lambda x: float(np.sum(x < 0)), relax.Bernoulli(10), seed=0,
                         target=0)
    assert res.fun == 0
    fig = plot.run_figure(res, optimum=0.0)
    ax = visible(fig)[0]
    assert ax.get_yscale() == "log"
    labels = ax.get_legend_handles_labels()[1]
    assert "f_opt reached" in labels
    plt.close(fig)


def test_run_figure_of_a_real_gaussian_run(tmp_path):
    res = relax.minimize(lambda X: np.sum((X - 1.0) ** 2, axis=1),
                         relax.Gaussian(np.zeros(3), 1.0), maxiter=40, seed=0, vectorized=True)
    fig = plot.run_figure(res, title="shifted sphere", optimum=0.0, path=tmp_path / "r.svg")
    assert visible(fig)[0].get_yscale() == "log"
    assert b"<svg" in (tmp_path / "r.svg").read_bytes()[:400]
    plt.close(fig)


@pytest.mark.parametrize("counts,total,expected", [
    ([300, 500], 800, [300.0]),           # evaluations per restart
    ([300, 800, 1500], 1500, [300.0, 800.0]),  # running count
    ([800], 800, []),
    (None, 800, []),
])
def test_restart_starts(counts, total, expected):
    restarts = None if counts is None else [{"nfev": c} for c in counts]
    assert restart_starts(restarts, total) == expected


# -------------------------------------------------------------- compare figure
def test_compare_figure_draws_every_seed_with_median_and_range(tmp_path):
    runs = {"natural-theta": [fake_run(full=False, seed=s).history for s in range(3)],
            "natural-eta": [fake_run(full=False, seed=10 + s).history for s in range(3)]}
    fig = plot.compare_figure(runs, optimum=5.0, title="sphere n=4", path=tmp_path / "c.pdf")
    (ax,) = fig.axes
    assert ax.get_yscale() == "log" and fig._suptitle.get_text() == "sphere n=4"
    assert len(ax.lines) == 2 * (3 + 1)  # every seed and the median, per method
    assert len(ax.collections) == 2  # the range bands
    assert (tmp_path / "c.pdf").read_bytes()[:4] == b"%PDF"
    plt.close(fig)


# ---------------------------------------------------------------- flow figures
def check_flow_figure(fig, case):
    """Title from the case, no reference to the slides, a colourbar for F and for each
    panel's arrows, one legend whose marker keys are the marks drawn, fonts ≥ 9 pt."""
    title = fig._suptitle.get_text()
    assert case.title in title and "slides" not in title
    labels = [ax.get_label() for ax in fig.axes]
    colourbars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(colourbars) == len(panels) + 1, labels
    assert any(cb.get_ylabel() == "F = E[f]" for cb in colourbars)
    (legend,) = fig.legends
    texts = [t.get_text() for t in legend.get_texts()]
    assert "start" in texts and min(t.get_fontsize() for t in legend.get_texts()) >= 9
    drawn = {line.get_marker() for ax in panels for line in ax.lines}
    for marker, text in (("*", "end: converged"), ("X", "end: left the domain"),
                         ("v", "end: collapsed")):
        assert (text in texts) == (marker in drawn)


@pytest.mark.slow
@pytest.mark.parametrize("name", [c for c in CASES if c != "toy"])  # toy: through the CLI
def test_every_case_renders(name, tmp_path):
    figures = plot.case(name, tmp_path, draft=True)
    assert set(figures) == {p.name for p in get_case(name).pictures}
    for picture, fig in figures.items():
        assert isinstance(fig, matplotlib.figure.Figure)
        check_flow_figure(fig, get_case(name))
        assert_nontrivial_png(tmp_path / f"{picture}.png")
        plt.close(fig)


def test_toy_figure_in_each_format_and_dpi(tmp_path):
    case = get_case("toy")
    case.starts = case.starts[::5]
    picture = case.pictures[0]
    small = plot.compare(case, picture, resolution=12, path=tmp_path / "a.png", dpi=60)
    check_flow_figure(small, case)
    plot.save(small, tmp_path / "b.png", dpi=120)
    plot.save(small, tmp_path / "c.pdf")
    plot.save(small, tmp_path / "d.svg")
    a, b = mpimg.imread(tmp_path / "a.png"), mpimg.imread(tmp_path / "b.png")
    assert b.shape[1] == pytest.approx(2 * a.shape[1], rel=0.05)
    assert (tmp_path / "c.pdf").read_bytes()[:4] == b"%PDF"
    assert b"<svg" in (tmp_path / "d.svg").read_bytes()[:400]
    with pytest.raises(ValueError, match="png, pdf, svg"):
        plot.save(small, tmp_path / "e.jpg")
    plt.close(small)


def test_end_marks_on_the_edge_of_the_window_are_not_clipped():
    case = get_case("cubic")
    case.starts = case.starts[:1]
    fig = plot.compare(case, case.pictures[0], resolution=10)
    ends = [line for ax in fig.axes for line in ax.lines if line.get_marker() in "*Xv"]
    assert ends and all(not line.get_clip_on() for line in ends
                        if abs(line.get_ydata()[0]) < 1e-2)  # at σ ≈ 0
    plt.close(fig)


def test_monte_carlo_overlay_draws_the_optimizer_on_the_flow(tmp_path):
    fig, ax = plt.subplots()
    mc, exact = plot.overlay(ax, relax.Bernoulli(p=(0.4, 0.6)), toy, "natural", "eta", "mu",
                             rho=0.02, iterations=50, popsize=2000, seed=3)
    assert mc.status == "monte-carlo" and len(mc) == 51
    assert mc.t[-1] == pytest.approx(1.0) and exact.t[-1] == pytest.approx(1.0)
    assert np.max(np.abs(mc.mu[-1] - exact.mu[-1])) < 0.05
    assert len(ax.lines) == 2
    plot.save(fig, tmp_path / "overlay.png")
    assert_nontrivial_png(tmp_path / "overlay.png", min_kb=5)
    plt.close(fig)


def test_missing_matplotlib_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r'pip install "relax\[plot\]"'):
        plot.pyplot()


# ------------------------------------------------------------------ relax flows
def _relax(*args, tmp_path):
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run([sys.executable, "-m", "relax", *args], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=600)


def test_cli_flows_writes_the_pictures(tmp_path):
    out = tmp_path / "figs"
    run = _relax("flows", "toy", "--out", str(out), "--draft", "--format", "svg",
                 tmp_path=tmp_path)
    assert run.returncode == 0, run.stderr
    names = {p.name for p in get_case("toy").pictures}
    assert {line.rsplit("/", 1)[-1] for line in run.stdout.split()} == {
        f"{n}.svg" for n in names}
    for n in names:
        assert b"<svg" in (out / f"{n}.svg").read_bytes()[:400]


def test_cli_flows_lists_the_cases_and_rejects_unknown_ones():
    runner = CliRunner()
    listed = runner.invoke(main, ["flows", "--list"])
    assert listed.exit_code == 0
    for name in CASES:
        assert name in listed.output
    bad = runner.invoke(main, ["flows", "sextic"])
    assert bad.exit_code == 2 and "unknown case" in bad.output
    none = runner.invoke(main, ["flows"])
    assert none.exit_code == 2 and "--list" in none.output
