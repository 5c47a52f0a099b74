"""Pictures: every case renders headlessly to a non-trivial PNG, from the library and (the
toy problem) from the ``relax flows`` command run as a separate process; convergence curves
of optimizer runs."""

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

import relax  # noqa: E402
from relax import plot  # noqa: E402
from relax.cli import main  # noqa: E402
from relax.flows.cases import CASES, get_case, toy  # noqa: E402


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


@pytest.mark.parametrize("name", [c for c in CASES if c != "toy"])  # toy: through the CLI
def test_every_case_renders(name, tmp_path):
    figures = plot.case(name, tmp_path, draft=True)
    assert set(figures) == {p.name for p in get_case(name).pictures}
    for picture, fig in figures.items():
        assert isinstance(fig, matplotlib.figure.Figure)
        assert_nontrivial_png(tmp_path / f"{picture}.png")
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


def test_convergence_curves_for_several_methods(tmp_path):
    results = {
        f"{g}-{p}": relax.minimize(
            lambda X: np.sum((X - 1.0) ** 2, axis=1), relax.Gaussian(np.zeros(2), 1.0),
            gradient=g, param=p, maxiter=30, seed=0, vectorized=True)
        for g, p in (("natural", "theta"), ("natural", "eta"), ("vanilla", "theta"))}
    fig = plot.convergence(results, path=tmp_path / "conv.png")
    ax = fig.axes[0]
    assert len(ax.lines) == 2 * len(results)  # best f and mean f per method
    assert ax.get_yscale() == "log"
    assert_nontrivial_png(tmp_path / "conv.png", min_kb=10)
    plt.close(fig)
    fig, ax = plt.subplots()
    assert plot.convergence(results, ax=ax, yscale="linear") is fig
    assert ax.get_yscale() == "linear"
    plt.close(fig)


def test_missing_matplotlib_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pip install relax\[plot\]"):
        plot.pyplot()


def _relax(*args, tmp_path):
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run(
        [sys.executable, "-c", "from relax.cli import main; main()", *args],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)


def test_cli_flows_writes_the_pictures(tmp_path):
    out = tmp_path / "figs"
    run = _relax("flows", "toy", "--out", str(out), "--draft", tmp_path=tmp_path)
    assert run.returncode == 0, run.stderr
    names = {p.name for p in get_case("toy").pictures}
    assert {line.rsplit("/", 1)[-1] for line in run.stdout.split()} == {
        f"{n}.png" for n in names}
    for n in names:
        assert_nontrivial_png(out / f"{n}.png")


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
