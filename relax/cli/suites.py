"""``relax bbob`` and ``relax pbo``: run relax on the suites people already use, with the
suites' own loggers so that their post-processing tools read the results.

- BBOB (continuous) through ``cocoex`` (package coco-experiment); results in COCO's format
  under ``--out`` (post-process with ``python -m cocopp``).
- PBO (pseudo-Boolean, maximized by the suite) through ``ioh``; relax minimizes −f on
  x ∈ {−1,+1}^n, the suite sees z = (1 + x)/2 ∈ {0,1}^n; results in IOHanalyzer's format.

Both are optional: ``pip install "relax[suites]"``.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import click
import numpy as np

from relax.cli.common import UserError, apply_options, method_options, step_rule, user_errors
from relax.minimize import minimize
from relax.models import Bernoulli, DiagonalGaussian, Gaussian


def parse_indices(text: str, name: str) -> list[int]:
    """``1,8,10`` and ranges ``1-5`` → a sorted list of ints."""
    out: set[int] = set()
    for part in (p.strip() for p in text.split(",") if p.strip()):
        lo, sep, hi = part.partition("-")
        try:
            out.update(range(int(lo), int(hi) + 1) if sep else [int(lo)])
        except ValueError:
            raise UserError(
                f"--{name} expects numbers and ranges like 1,3,5-8; got {text!r}"
            ) from None
    if not out or min(out) < 1:
        raise UserError(f"--{name} needs positive indices; got {text!r}")
    return sorted(out)


def _import(module: str, package: str):
    try:
        return __import__(module)
    except ImportError:
        raise UserError(f"this command needs {package}: pip install 'relax[suites]'") from None


def suite_options(f):
    return apply_options([
        click.option("--functions", default="1", show_default=True,
                     help="Function ids, e.g. 1,8,10 or 1-24."),
        click.option("--dims", default="5", show_default=True, help="Dimensions, e.g. 5,10."),
        click.option("--instances", default="1-5", show_default=True,
                     help="Instance ids, e.g. 1-5."),
        click.option("--gradient", type=click.Choice(["natural", "vanilla"]), default="natural",
                     show_default=True),
        click.option("--param", type=click.Choice(["auto", "eta", "theta"]), default="auto",
                     show_default=True),
        click.option("--budget", type=click.IntRange(1), default=1000, show_default=True,
                     help="Evaluations per problem, times the dimension."),
        click.option("--seed", type=int, default=0, show_default=True),
        click.option("--out", type=click.Path(file_okay=False), default="relax-results",
                     show_default=True, help="Folder the suite's logger writes to."),
    ], f)


def _solve(f, model, args, target=None, stop=None) -> object:
    """One relax run on one suite problem (per-point evaluation, as the suites expect)."""
    def callback(res):
        return stop is not None and stop()

    return minimize(f, model, gradient=args["gradient"], param=args["param"],
                    popsize=args["popsize"], step=step_rule(args["step"], args["epsilon"]),
                    shaping=args["shaping"], maxfev=args["budget"] * model.n, target=target,
                    seed=args["seed"], callback=callback)


@click.command()
@suite_options
@method_options
@user_errors
def bbob(functions, dims, instances, out, **args):
    """Run relax on COCO's BBOB suite (needs coco-experiment) with COCO's observer."""
    cocoex = _import("cocoex", "coco-experiment")
    fids, ds, iids = (parse_indices(functions, "functions"), parse_indices(dims, "dims"),
                      parse_indices(instances, "instances"))
    suite = cocoex.Suite("bbob", "", f"function_indices:{_join(fids)} "
                         f"dimensions:{_join(ds)} instance_indices:{_join(iids)}")
    name = f"relax-{args['gradient']}-{args['param']}"
    Path(out).mkdir(parents=True, exist_ok=True)
    with contextlib.chdir(out):  # COCO writes under ./exdata/<result_folder>
        count = _run_bbob(cocoex, suite, name, args)
    click.echo(f"{count} problems; COCO data in {Path(out) / 'exdata' / name}")


def _run_bbob(cocoex, suite, name: str, args: dict) -> int:
    observer = cocoex.Observer("bbob", f"result_folder: {name} algorithm_name: {name}")
    count = 0
    for problem in suite:
        problem.observe_with(observer)
        cls = DiagonalGaussian if args["model_kind"] == "diagonal" else Gaussian
        sigma0 = args["sigma0"] or 0.2 * float(np.max(problem.upper_bounds - problem.lower_bounds))
        model = cls(np.asarray(problem.initial_solution, dtype=float), sigma0**2)
        res = _solve(problem, model, args, stop=lambda p=problem: p.final_target_hit)
        click.echo(f"{problem.id}: best f = {res.fun:.6g} after {problem.evaluations} evaluations"
                   f"{' (final target hit)' if problem.final_target_hit else ''}")
        problem.free()
        count += 1
    return count


@click.command()
@suite_options
@method_options
@user_errors
def pbo(functions, dims, instances, out, **args):
    """Run relax on IOHprofiler's PBO suite (needs ioh) with IOH's Analyzer logger."""
    ioh = _import("ioh", "ioh")
    name = f"relax-{args['gradient']}-{args['param']}"
    log = ioh.logger.Analyzer(root=str(Path(out)), folder_name=name, algorithm_name=name,
                              algorithm_info="relax stochastic relaxation")
    count = 0
    for fid in parse_indices(functions, "functions"):
        for dim in parse_indices(dims, "dims"):
            for iid in parse_indices(instances, "instances"):
                problem = ioh.get_problem(fid, instance=iid, dimension=dim,
                                          problem_class=ioh.ProblemClass.PBO)
                problem.attach_logger(log)
                best = problem.optimum.y

                def f(x, p=problem):
                    return -p(((x + 1) // 2).astype(int).tolist())

                res = _solve(f, Bernoulli(dim), args, target=-best)
                click.echo(f"{problem.meta_data.name} n={dim} i={iid}: best {-res.fun:g} "
                           f"(optimum {best:g}) after {problem.state.evaluations} evaluations")
                problem.reset()
                count += 1
    log.close()
    click.echo(f"{count} problems; IOH data in {Path(out) / name}")


def _join(ids: list[int]) -> str:
    return ",".join(map(str, ids))
