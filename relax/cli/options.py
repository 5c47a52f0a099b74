"""The options the commands share, as click decorators, and :func:`explicit` (was an
option given on the command line?).

Every option here is either honoured by each command that offers it or rejected there
with a one-line error (see :mod:`relax.cli.build`): an option never changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import click
from click.core import ParameterSource

MODELS = ("gaussian", "diagonal", "bernoulli", "ising")
GRAPHS = ("problem", "chain", "complete", "torus")
FORMATS = ("png", "pdf", "svg")
SHAPINGS = ("auto", "ranks", "raw", "centered", "standardized")


def explicit(name: str) -> bool:
    """True when option ``name`` (its parameter name) was given on the command line or
    through the environment, not left at its default."""
    source = click.get_current_context().get_parameter_source(name)
    return source in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)


def apply_options(options: Sequence[Callable], f: Callable) -> Callable:
    """Decorate ``f`` with ``options`` so that they appear in the given order in --help."""
    for option in reversed(options):
        f = option(f)
    return f


def direction_options(f: Callable) -> Callable:
    """--gradient and --param: which of the four directions of the duality table."""
    return apply_options([
        click.option("--gradient", type=click.Choice(["natural", "vanilla"]), default="natural",
                     show_default=True),
        click.option("--param", type=click.Choice(["auto", "eta", "theta"]), default="auto",
                     show_default=True,
                     help="Chart the step is taken in (auto: eta, except theta for plain "
                          "Gaussian steps, i.e. with --step or --shaping other than ranks)."),
    ], f)


def model_options(models: Sequence[str] = MODELS, *, sigma0: bool = True,
                  graphs: Sequence[str] = GRAPHS, default_graph: str = "problem"):
    """--model (among ``models``), --sigma0 (when a Gaussian is possible) and --graph
    (when an Ising model is possible)."""
    options = [click.option(
        "--model", "model_kind", type=click.Choice(MODELS), default=None,
        help=f"Search distribution, one of {', '.join(models)} [default: gaussian on R^n, "
             "bernoulli on {-1,+1}^n].")]
    if sigma0:
        options.append(click.option(
            "--sigma0", type=click.FloatRange(0, min_open=True), default=None,
            help="Initial standard deviation of a Gaussian model [default: the problem's]."))
    if "ising" in models:
        options.append(click.option(
            "--graph", type=click.Choice(graphs), default=default_graph, show_default=True,
            help="Interactions of --model ising ('problem': those of f, when known)."))

    def decorate(f: Callable) -> Callable:
        return apply_options(options, f)

    return decorate


def step_options(f: Callable) -> Callable:
    """--popsize, --step, --epsilon, --shaping, --restarts and --restart."""
    return apply_options([
        click.option("--popsize", type=click.IntRange(2), default=None,
                     help="Samples per iteration [default: relax's rule]."),
        click.option("--step", default=None,
                     help="Fixed step rho (a number), 'fixed', 'decay' or 'trust-region' "
                          "[default: the adaptive search on Gaussians, a KL trust region "
                          "otherwise]."),
        click.option("--epsilon", type=click.FloatRange(0, min_open=True), default=None,
                     help="KL per step of the trust-region rule (only with the trust region)."),
        click.option("--shaping", type=click.Choice(SHAPINGS), default="auto",
                     show_default=True,
                     help="Fitness shaping (auto: centred f for Ising models, ranks "
                          "otherwise)."),
        click.option("--restarts", type=click.IntRange(0), default=0, show_default=True,
                     help="Restarts after a run stops by itself, within the one budget."),
        click.option("--restart", type=click.Choice(["ipop", "bipop"]), default="ipop",
                     show_default=True,
                     help="Restart strategy: ipop doubles the population each time; bipop "
                          "interleaves small local runs."),
    ], f)


def budget_options(default_budget: str):
    """--maxfev (``default_budget`` is its documented default), --maxiter and --target."""
    def decorate(f: Callable) -> Callable:
        return apply_options([
            click.option("--maxfev", type=click.IntRange(1), default=None,
                         help=f"Evaluation budget [default: {default_budget}]."),
            click.option("--maxiter", type=click.IntRange(1), default=None,
                         help="Iteration budget."),
            click.option("--target", type=float, default=None,
                         help="Stop at f <= target [default: the known optimum "
                              "(+1e-8 on R^n)]."),
        ], f)

    return decorate


def problem_options(f: Callable) -> Callable:
    """-o KEY=VALUE, the options of the registered problem."""
    return click.option(
        "--option", "-o", "problem_options", multiple=True, metavar="KEY=VALUE",
        help="Problem option, e.g. -o shift=true -o path=file.cnf (repeatable; "
             "`relax list` shows each problem's).")(f)


def figure_options(what: str):
    """--plot PATH, --format and --dpi for the figure of ``what``."""
    def decorate(f: Callable) -> Callable:
        return apply_options([
            click.option("--plot", type=click.Path(dir_okay=False), default=None,
                         help=f"Save {what} here; the suffix (.png, .pdf, .svg) or --format "
                              "sets the format (needs relax[plot])."),
            format_option,
            dpi_option,
        ], f)

    return decorate


format_option = click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default=None,
    help="Figure format [default: the file's suffix, else png].")
dpi_option = click.option(
    "--dpi", type=click.IntRange(50, 1200), default=200, show_default=True,
    help="Resolution of PNG figures (and of the raster parts of PDF/SVG).")


def execution_options(f: Callable) -> Callable:
    """--workers, --scheduler, --timeout and --invalid: where f runs and what a failed
    evaluation does (see relax.evaluate)."""
    return apply_options([
        click.option("--workers", type=click.IntRange(1), default=None,
                     help="Evaluate f on a pool of this many processes (results identical "
                          "to a serial run)."),
        click.option("--scheduler", default=None, metavar="ADDRESS",
                     help="Evaluate f on a Dask cluster, e.g. tcp://10.0.0.5:8786 (needs "
                          "relax[distributed])."),
        click.option("--timeout", type=click.FloatRange(0, min_open=True), default=None,
                     help="Seconds one evaluation may take (with --workers or --scheduler)."),
        click.option("--invalid", type=click.Choice(["raise", "worst", "resample"]),
                     default="raise", show_default=True,
                     help="A failed evaluation (an error, NaN, a lost worker, a timeout): "
                          "stop with the best so far, rank it last, or draw a new point."),
    ], f)


def checkpoint_options(f: Callable) -> Callable:
    """--checkpoint, --checkpoint-every and --resume."""
    return apply_options([
        click.option("--checkpoint", type=click.Path(dir_okay=False), default=None,
                     help="Write a checkpoint here (atomically) every --checkpoint-every "
                          "iterations, at the end and on Ctrl-C/SIGTERM."),
        click.option("--checkpoint-every", type=click.IntRange(1), default=None,
                     help="Iterations between checkpoints [default: at most one a minute]."),
        click.option("--resume", type=click.Path(dir_okay=False), default=None,
                     help="Continue the run checkpointed in this file (same result as "
                          "without the interruption); checkpoints go on to it."),
    ], f)
