"""``relax pbo``: relax on IOHprofiler's PBO suite (package ioh), logged by IOH's
Analyzer so that IOHanalyzer and iohinspector read the results.

PBO maximizes f(z) on z ∈ {0,1}^n; relax minimizes −f(z) with z = (1 + x)/2 on
x ∈ {−1,+1}^n.  Ids are the suite's: functions 1–25 and instances 1–100 (1: the
function as defined; 2–50: z ⊕ r and an affine change of f; 51–100: a permutation of z and
an affine change of f).  Each (function, dimension, instance) is built before anything
runs, so that a dimension a function does not accept (NQueens needs a square) is an error
up front, not after the runs before it.
"""

from __future__ import annotations

import math
from pathlib import Path

import click

from relax.cli.build import (
    binary_model,
    chart,
    check_method,
    draw_seed,
    ising_interactions,
    method_from,
)
from relax.cli.errors import UserError, require, user_errors
from relax.cli.options import explicit, model_options
from relax.cli.outputs import check_folder
from relax.cli.suites import (
    algorithm_name,
    parse_ids,
    settings,
    settings_text,
    solve,
    suite_options,
)

FUNCTIONS = range(1, 26)
INSTANCES = range(1, 101)


@click.command()
@suite_options(functions="1-25", dims="16,64,100", instances="1-5", budget=1000)
@model_options(("bernoulli", "ising"), sigma0=False, graphs=("chain", "complete", "torus"),
               default_graph="chain")
@user_errors
def pbo(functions, dims, instances, budget, seed, out, **method_args):
    """Run relax on IOHprofiler's PBO suite with IOH's Analyzer logger (needs relax[suites]).

    \b
    relax pbo --functions 1-3 --dims 100 --instances 1 --out results
    relax pbo --functions 19 --dims 64 --model ising --graph torus
    """
    ioh = require("ioh", "suites", "relax pbo")
    fids = parse_ids(functions, "--functions", FUNCTIONS, "PBO's functions 1-25")
    dims_ = parse_ids(dims, "--dims")
    iids = parse_ids(instances, "--instances", INSTANCES, "PBO's instances 1-100")
    method = method_from(method_args)
    check_method(method, "binary", [k for k in ("graph", "restart") if explicit(k)],
                 "PBO's problems")
    problems = build_all(ioh, fids, dims_, iids)
    models = {n: binary_model(method.kind("binary"), n,
                              ising_interactions(None, method.graph, n)) for n in dims_}
    folder = check_folder(out, "--out")
    seed = draw_seed() if seed is None else seed
    step_chart = chart(method, models[dims_[0]])
    name = algorithm_name(method, "binary", step_chart)
    record = settings(method, "binary", step_chart, budget, seed)
    log = ioh.logger.Analyzer(root=str(folder), folder_name=name, algorithm_name=name,
                              algorithm_info=settings_text(record))
    for key, value in record.items():
        log.add_experiment_attribute(key, value)
    click.echo(f"{len(problems)} problems, seed {seed}")
    for (dim, iid), problem in problems:
        run_one(problem, models[dim], log, method, budget, seed, iid)
    log.close()
    click.echo(f"{len(problems)} problems; IOH data in {Path(log.output_directory)}")


def build_all(ioh, fids, dims, iids) -> list:
    """Every PBO problem, ((dim, instance), problem) in the order run; a combination the
    suite rejects is a one-line error naming it."""
    out = []
    for fid in fids:
        for dim in dims:
            for iid in iids:
                try:
                    p = ioh.get_problem(fid, instance=iid, dimension=dim,
                                        problem_class=ioh.ProblemClass.PBO)
                except (ValueError, RuntimeError) as e:
                    raise UserError(f"PBO function {fid} ({ioh.problem.PBO.problems[fid]}) "
                                    f"does not accept --dims {dim}: {e}") from None
                out.append(((dim, iid), p))
    return out


def run_one(problem, model, log, method, budget: int, seed: int, iid: int) -> None:
    """One PBO problem, logged; prints the best f reached against the optimum."""
    problem.attach_logger(log)
    best = problem.optimum.y
    target = -best if math.isfinite(best) else None

    def f(x):
        return -problem(((x + 1) // 2).astype(int).tolist())

    res = solve(f, model, method, budget, seed, target=target)
    optimum = f"optimum {best:g}" if math.isfinite(best) else "optimum unknown"
    click.echo(f"{problem.meta_data.name} n={model.n} i={iid}: best {-res.fun:g} ({optimum}) "
               f"after {problem.state.evaluations} evaluations")
    problem.reset()
