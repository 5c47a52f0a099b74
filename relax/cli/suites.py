"""What ``relax bbob`` and ``relax pbo`` share: id lists checked against the suite, the
common options, one relax run on one suite problem, and the record of the settings.

Both suites are optional (``pip install "relax[suites]"``) and run with their own
loggers, so that their post-processing tools (cocopp, IOHanalyzer/iohinspector) read the
results.  Every id is checked against what the suite defines before anything runs: a
suite given an id it does not know silently drops the whole filter.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from importlib.metadata import PackageNotFoundError, version

import click

from relax.cli.build import Method
from relax.cli.errors import UserError
from relax.cli.options import apply_options, direction_options, step_options

MAX_IDS = 10_000


def parse_ids(text: str, option: str, allowed: Collection[int] | None = None,
              what: str = "") -> list[int]:
    """``1,8,10`` and ranges ``1-5`` → a sorted list of distinct positive ints, each in
    ``allowed`` (described as ``what`` in the error) when given."""
    out: set[int] = set()
    for part in (p.strip() for p in text.split(",") if p.strip()):
        lo, sep, hi = part.partition("-")
        try:
            a, b = int(lo), int(hi if sep else lo)
        except ValueError:
            raise UserError(f"{option} expects numbers and ranges like 1,3,5-8; "
                            f"got {text!r}") from None
        if b < a:
            raise UserError(f"{option}: empty range {part!r}; write it low-high")
        if b - a >= MAX_IDS:
            raise UserError(f"{option}: range {part!r} has more than {MAX_IDS} ids")
        out.update(range(a, b + 1))
    if not out:
        raise UserError(f"{option} needs at least one id; got {text!r}")
    if min(out) < 1:
        raise UserError(f"{option} needs positive ids; got {text!r}")
    bad = sorted(out - set(allowed)) if allowed is not None else []
    if bad:
        raise UserError(f"{option}: {', '.join(map(str, bad[:5]))} "
                        f"{'is' if len(bad) == 1 else 'are'} not in {what}")
    return sorted(out)


def suite_options(functions: str, dims: str, instances: str, budget: int):
    """--functions, --dims, --instances (with the suite's defaults), --budget, --seed and
    --out, then --gradient/--param and the step options."""
    def decorate(f: Callable) -> Callable:
        return apply_options([
            click.option("--functions", default=functions, show_default=True,
                         help="Function ids, e.g. 1,8,10 or 1-24."),
            click.option("--dims", default=dims, show_default=True,
                         help="Dimensions, e.g. 5,10."),
            click.option("--instances", default=instances, show_default=True,
                         help="Instance ids as the suite defines them, e.g. 1-15."),
            click.option("--budget", type=click.IntRange(1), default=budget,
                         show_default=True, help="Evaluations per problem, times the dimension."),
            click.option("--seed", type=click.IntRange(0), default=None,
                         help="Seed of every run [default: drawn, printed and recorded]."),
            click.option("--out", type=click.Path(file_okay=False), default="relax-results",
                         show_default=True, help="Folder the suite's logger writes to."),
            direction_options,
            step_options,
        ], f)

    return decorate


def algorithm_name(method: Method, domain: str, chart: str) -> str:
    """``relax-<model>-<gradient>-<chart>``: the name the suites' tools show."""
    return f"relax-{method.kind(domain)}-{method.gradient}-{chart}"


def settings(method: Method, domain: str, chart: str, budget: int,
             seed: int) -> dict[str, str]:
    """Everything that defines the runs, as strings, for the suites' logs."""
    record = {"relax": _relax_version(), **method.record(domain), "chart": chart,
              "budget": f"{budget}*dim", "seed": seed}
    return {k: "default" if v is None else str(v) for k, v in record.items()}


def settings_text(record: dict[str, str]) -> str:
    """``key=value`` pairs separated by spaces (no quotes: they end COCO's option)."""
    return " ".join(f"{k}={v}".replace('"', "").replace("'", "") for k, v in record.items())


def _relax_version() -> str:
    try:
        return version("relax")
    except PackageNotFoundError:
        return "unknown"


def solve(f: Callable, model, method: Method, budget: int, seed: int,
          target: float | None = None, stop: Callable[[], bool] | None = None):
    """One relax run on one suite problem: per-point evaluation (as the suites count
    evaluations), ``budget · n`` evaluations, ``stop()`` checked after every iteration."""
    from relax.minimize import minimize

    def callback(res) -> bool:
        return stop is not None and bool(stop())

    return minimize(f, model, **method.settings(), maxfev=budget * model.n, target=target,
                    seed=seed, callback=callback)
