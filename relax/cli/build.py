"""From command-line options to what a run needs: the problem, the method (model, step,
shaping, direction), its initial model, the target and the seed.

:func:`check_method` is where "every option honoured or rejected" is enforced: an option
that the chosen model or step rule would ignore is an error naming the option and the fix,
raised before anything runs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np

import relax.problems as rp
from relax.cli.errors import UserError
from relax.models import Bernoulli, DiagonalGaussian, ExponentialFamily, Gaussian
from relax.step import TrustRegion, as_rule

REAL_MODELS, BINARY_MODELS = ("gaussian", "diagonal"), ("bernoulli", "ising")
DOMAIN_WORDS = {"real": "continuous (R^n)", "binary": "binary ({-1,+1}^n)"}


@dataclass(frozen=True)
class Method:
    """The optimizer settings chosen on the command line (``None``: relax's default)."""

    model: str | None = None
    sigma0: float | None = None
    graph: str = "problem"
    popsize: int | None = None
    step: str | None = None
    epsilon: float | None = None
    shaping: str = "auto"
    gradient: str = "natural"
    param: str = "auto"
    restarts: int = 0
    restart: str = "ipop"

    def kind(self, domain: str) -> str:
        """The model used on ``domain``: the chosen one, else gaussian / bernoulli."""
        return self.model or ("gaussian" if domain == "real" else "bernoulli")

    def record(self, domain: str) -> dict:
        """The settings as recorded in a run's output (model resolved for ``domain``)."""
        out = asdict(self) | {"model": self.kind(domain)}
        if out["model"] != "ising":
            out.pop("graph")
        if domain != "real":
            out.pop("sigma0")
        if not self.restarts:
            out.pop("restart")
        return out

    def settings(self) -> dict:
        """The keyword arguments of :func:`relax.minimize` these settings choose."""
        return {"gradient": self.gradient, "param": self.param, "popsize": self.popsize,
                "step": self.step_rule(), "shaping": self.shaping,
                "restarts": self.restarts, "restart": self.restart}

    def step_rule(self):
        """``--step`` (a number: fixed ρ; or a rule name) and ``--epsilon`` (trust-region ε)."""
        if self.epsilon is not None:
            return TrustRegion(self.epsilon)
        if self.step is None:
            return None
        try:
            return as_rule(float(self.step))
        except ValueError:
            return as_rule(self.step)


def method_from(args: dict) -> Method:
    """The :class:`Method` of a command's keyword arguments (``model_kind`` is --model)."""
    fields = {k: args[k] for k in ("sigma0", "graph", "popsize", "step", "epsilon",
                                   "shaping", "gradient", "param", "restarts", "restart")
              if k in args}
    return Method(model=args.get("model_kind"), **fields)


def check_method(method: Method, domain: str, given: Iterable[str], where: str) -> None:
    """Reject options that ``method`` would ignore on ``domain`` (``where`` names the
    problems, e.g. "'onemax'" or "BBOB's problems"); ``given`` lists the options set
    explicitly on the command line."""
    given = set(given)
    kind = method.kind(domain)
    allowed = REAL_MODELS if domain == "real" else BINARY_MODELS
    if kind not in allowed:
        raise UserError(f"--model {kind} does not fit the {DOMAIN_WORDS[domain]} domain of "
                        f"{where}; use one of: {', '.join(allowed)}")
    if "sigma0" in given and kind not in REAL_MODELS:
        raise UserError(f"--sigma0 is the initial standard deviation of a Gaussian; the "
                        f"{kind} model of {where} has none: drop --sigma0")
    if "graph" in given and kind != "ising":
        raise UserError(f"--graph sets the interactions of --model ising; the {kind} model "
                        "has none: drop --graph or add --model ising")
    if "restart" in given and not method.restarts:
        raise UserError("--restart chooses the strategy of --restarts N; add --restarts or "
                        "drop --restart")
    if method.step is not None:
        try:
            rule = as_rule(_number_or_name(method.step))
        except ValueError as e:
            raise UserError(f"--step: {e}") from None
        if method.epsilon is not None and not isinstance(rule, TrustRegion):
            raise UserError(f"--epsilon is the KL per step of the trust region; --step "
                            f"{method.step} does not use it: drop one of them")


def _number_or_name(step: str) -> float | str:
    try:
        return float(step)
    except ValueError:
        return step


def parse_problem_options(items: tuple[str, ...]) -> dict:
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


def draw_seed() -> int:
    """A fresh seed in [0, 2³²) from OS entropy, for a run the user did not seed (it is
    printed and recorded so that the run can be repeated)."""
    return int(np.random.SeedSequence().entropy % 2**32)


def build_problem(name: str, dim: int | None, seed: int, options: dict) -> rp.Problem:
    """The registered problem, its random instance drawn from ``seed``."""
    return rp.get(name, dim, seed=seed, **options)


def build_model(problem: rp.Problem, method: Method) -> ExponentialFamily:
    """The initial model for ``problem``: Gaussian(x0, σ0²) (full or diagonal) on R^n with
    the problem's x0 and σ0 unless --sigma0; uniform Bernoulli or a zero-coupling Ising
    model on {−1,+1}^n."""
    kind = method.kind(problem.domain)
    if kind in REAL_MODELS:
        s0 = problem.sigma0 if method.sigma0 is None else method.sigma0
        return real_model(kind, problem.x0, s0)
    return binary_model(kind, problem.dim, ising_interactions(problem, method.graph))


def real_model(kind: str, x0, sigma0: float) -> ExponentialFamily:
    """Gaussian(x0, σ0² I) (``kind="gaussian"``) or its diagonal twin."""
    cls = Gaussian if kind == "gaussian" else DiagonalGaussian
    return cls(np.asarray(x0, dtype=float), sigma0**2)


def binary_model(kind: str, n: int, interactions=None) -> ExponentialFamily:
    """The uniform distribution on {−1,+1}^n as a Bernoulli or an Ising model."""
    if kind == "bernoulli":
        return Bernoulli(n)
    from relax.models.ising import Ising

    return Ising(n, interactions)


def ising_interactions(problem: rp.Problem | None, graph: str, n: int | None = None):
    """Interactions of the Ising model: the problem's own (``graph="problem"``, when its
    Walsh expansion is known and of order ≥ 2, else a chain) or a named graph."""
    from relax import graphs

    n = problem.dim if problem is not None else n
    if graph == "problem" and problem is not None and problem.interactions:
        return problem.interactions
    if graph in ("problem", "chain"):
        return graphs.chain(n) if n > 1 else []
    if graph == "complete":
        return graphs.complete(n)
    side = math.isqrt(n)
    if side * side != n or side < 3:
        raise UserError(f"--graph torus needs a square dimension L*L with L >= 3; got {n}")
    return graphs.torus(side)


def resolved(method: Method, model: ExponentialFamily) -> dict:
    """What the optimizer makes of ``method`` on ``model``: the chart of its steps
    (``param="auto"`` resolved) and its population size (``None``: relax's rule), asked
    of an :class:`~relax.optimizer.Optimizer` built with these settings, so that the
    answer follows the optimizer's own rules."""
    from relax.optimizer import Optimizer

    opt = Optimizer(model, gradient=method.gradient, param=method.param,
                    popsize=method.popsize, step=method.step_rule(), shaping=method.shaping,
                    seed=0)
    return {"chart": opt.param, "popsize": opt.popsize}


def chart(method: Method, model: ExponentialFamily) -> str:
    """The chart the steps are taken in: --param, or what ``param="auto"`` resolves to."""
    return method.param if method.param != "auto" else resolved(method, model)["chart"]


def default_target(problem: rp.Problem, target: float | None) -> float | None:
    """The user's target, else the known optimum (+1e-8 on R^n, exact on {−1,+1}^n)."""
    if target is not None:
        return target
    if problem.optimum is None:
        return None
    return problem.optimum + (1e-8 if problem.domain == "real" else 1e-9)
