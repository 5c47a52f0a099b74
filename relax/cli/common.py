"""What the optimization commands share: building the problem and the model, the
optimizer options, progress reporting and user errors."""

from __future__ import annotations

import functools
import math
import sys
import time
from collections.abc import Callable

import click
import numpy as np

import relax.problems as rp
from relax.models import Bernoulli, DiagonalGaussian, ExponentialFamily, Gaussian
from relax.step import TrustRegion, as_rule

MODELS = ("gaussian", "diagonal", "bernoulli", "ising")
REAL_MODELS, BINARY_MODELS = ("gaussian", "diagonal"), ("bernoulli", "ising")


class UserError(click.ClickException):
    """A mistake in the command line: printed as one line ``error: ...``, exit status 2."""

    exit_code = 2

    def show(self, file=None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


def user_errors(command: Callable) -> Callable:
    """Turn the library's ValueErrors (bad dimension, bad option, ...) into one-line errors."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (ValueError, FileNotFoundError, OSError) as e:
            raise UserError(str(e).strip('"')) from None

    return wrapper


def parse_options(items: tuple[str, ...]) -> dict:
    """``key=value`` pairs for the problem (values parsed as int, float, bool or str)."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UserError(f"--option expects key=value; got {item!r}")
        out[key.replace("-", "_")] = _parse_value(value)
    return out


def _parse_value(value: str):
    low = value.lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


def build_problem(name: str, dim: int | None, seed: int | None, options: dict) -> rp.Problem:
    """The registered problem (its instance seed defaults to the run seed, or 0)."""
    return rp.get(name, dim, seed=0 if seed is None else seed, **options)


def build_model(problem: rp.Problem, kind: str | None, sigma0: float | None,
                graph: str) -> ExponentialFamily:
    """The initial model for ``problem``: Gaussian(x0, σ0²) on R^n, uniform on {−1,+1}^n."""
    kind = kind or ("gaussian" if problem.domain == "real" else "bernoulli")
    allowed = REAL_MODELS if problem.domain == "real" else BINARY_MODELS
    if kind not in allowed:
        raise UserError(
            f"model {kind!r} does not fit the {problem.domain} domain of {problem.name!r}; "
            f"use one of: {', '.join(allowed)}"
        )
    n = problem.dim
    if kind in REAL_MODELS:
        s0 = problem.sigma0 if sigma0 is None else sigma0
        cls = Gaussian if kind == "gaussian" else DiagonalGaussian
        return cls(problem.x0, s0**2)
    if kind == "bernoulli":
        return Bernoulli(n)
    from relax.models.ising import Ising

    return Ising(n, ising_interactions(problem, graph))


def ising_interactions(problem: rp.Problem, graph: str):
    """Interactions of the Ising model: the problem's own (``graph="problem"``, when its
    Walsh expansion is known and of order ≥ 2) or a named graph."""
    from relax import graphs

    n = problem.dim
    if graph == "problem" and problem.interactions:
        return problem.interactions
    if graph in ("problem", "chain"):
        return graphs.chain(n) if n > 1 else []
    if graph == "complete":
        return graphs.complete(n)
    if graph == "torus":
        side = math.isqrt(n)
        if side * side != n:
            raise UserError(f"--graph torus needs a square dimension; got {n}")
        return graphs.torus(side)
    raise UserError(f"--graph must be problem, chain, complete or torus; got {graph!r}")


def default_target(problem: rp.Problem, target: float | None) -> float | None:
    """The user's target, else the known optimum (+1e-8 on R^n, exact on {−1,+1}^n)."""
    if target is not None:
        return target
    if problem.optimum is None:
        return None
    return problem.optimum + (1e-8 if problem.domain == "real" else 1e-9)


def step_rule(step: str | None, epsilon: float | None):
    """``--step`` (a number: fixed ρ; or a rule name) and ``--epsilon`` (trust region ε)."""
    if epsilon is not None:
        return TrustRegion(epsilon)
    if step is None:
        return None
    try:
        return as_rule(float(step))
    except ValueError:
        return as_rule(step)


def apply_options(options, f):
    for option in reversed(options):
        f = option(f)
    return f


def method_options(f):
    """Options that choose the model and the step (every optimizing command)."""
    return apply_options([
        click.option("--model", "model_kind", type=click.Choice(MODELS), default=None,
                     help="Search distribution [default: gaussian on R^n, "
                          "bernoulli on {-1,+1}^n]."),
        click.option("--popsize", type=click.IntRange(2), default=None,
                     help="Samples per iteration [default: relax's rule]."),
        click.option("--step", default=None,
                     help="Fixed step rho (a number), 'decay' or 'trust-region' "
                          "[default: KL trust region]."),
        click.option("--epsilon", type=click.FloatRange(0, min_open=True), default=None,
                     help="KL per step of the trust-region rule."),
        click.option("--shaping", type=click.Choice(["ranks", "raw", "centered", "standardized"]),
                     default="ranks", show_default=True, help="Fitness shaping."),
        click.option("--sigma0", type=click.FloatRange(0, min_open=True), default=None,
                     help="Initial standard deviation (continuous problems) "
                          "[default: the problem's]."),
    ], f)


def optimizer_options(f):
    """Method options plus the budget, target and problem options (run, compare)."""
    return method_options(apply_options([
        click.option("--graph", default="problem", show_default=True,
                     help="Ising interactions: problem, chain, complete or torus."),
        click.option("--maxfev", type=click.IntRange(1), default=None,
                     help="Evaluation budget [default: 10^4 * dim]."),
        click.option("--maxiter", type=click.IntRange(1), default=None, help="Iteration budget."),
        click.option("--target", type=float, default=None,
                     help="Stop at f <= target [default: the known optimum]."),
        click.option("--option", "-o", "problem_options", multiple=True, metavar="KEY=VALUE",
                     help="Problem option, e.g. -o shift=true -o path=file.cnf (repeatable)."),
    ], f))


class Progress:
    """A live progress line on a terminal (rich), plain lines every ``every`` seconds
    otherwise; nothing when ``quiet``."""

    def __init__(self, label: str, quiet: bool = False, every: float = 2.0):
        self.label, self.quiet, self.every = label, quiet, every
        self.live = None
        self.last = 0.0
        if not quiet and sys.stderr.isatty():
            from rich.console import Console
            from rich.live import Live

            self.live = Live(console=Console(stderr=True), refresh_per_second=8, transient=False)
            self.live.start()

    def line(self, res) -> str:
        h = res.history
        return (f"{self.label}  it {res.nit:>6}  fev {res.nfev:>8}  best {res.fun:.6g}  "
                f"mean {h['mean_f'][-1]:.4g}  spread {h['spread'][-1]:.3g}")

    def __call__(self, res) -> None:
        if self.quiet:
            return
        if self.live is not None:
            self.live.update(self.line(res))
            return
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            click.echo(self.line(res), err=True)

    def close(self, res) -> None:
        if self.live is not None:
            self.live.update(self.line(res))
            self.live.stop()
        elif not self.quiet:
            click.echo(self.line(res), err=True)


def as_json_value(v):
    """JSON-friendly scalars and lists (NaN/inf as None)."""
    if isinstance(v, np.ndarray):
        return [as_json_value(x) for x in v.tolist()]
    if isinstance(v, float | np.floating):
        return float(v) if np.isfinite(v) else None
    if isinstance(v, np.integer | np.bool_):
        return v.item()
    return v
