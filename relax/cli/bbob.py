"""``relax bbob``: relax on COCO's BBOB suite (package coco-experiment), logged by COCO's
own observer so that ``python -m cocopp`` post-processes the results.

Ids are the suite's: functions 1–24, dimensions 2, 3, 5, 10, 20, 40, and instance ids as
COCO numbers them (``bbob_f001_i06_d02`` for ``--instances 6``), passed to COCO as the
``instances:`` of the suite, not as indices into its default instance list.
"""

from __future__ import annotations

import contextlib
import tempfile
from dataclasses import replace
from pathlib import Path

import click
import numpy as np

from relax.cli.build import chart, check_method, draw_seed, method_from, real_model
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

FUNCTIONS = range(1, 25)
DIMENSIONS = (2, 3, 5, 10, 20, 40)
SIGMA0 = 2.0  # a fifth of the width of BBOB's domain of interest [-5, 5]^n


@click.command()
@suite_options(functions="1-24", dims="2,3,5,10,20", instances="1-15", budget=1000)
@model_options(("gaussian", "diagonal"))
@user_errors
def bbob(functions, dims, instances, budget, seed, out, **method_args):
    """Run relax on COCO's BBOB suite with COCO's observer (needs relax[suites]).

    Every (function, dimension, instance) gets budget·n evaluations or stops at
    f − f_opt < 1e-8; progress shows f − f_opt.  The default is COCO's full experiment
    (24 functions, 15 instances, n up to 20), which takes hours: narrow it first.

    \b
    relax bbob --functions 1,8 --dims 2,5 --instances 1-15 --out results
    python -m cocopp results/exdata/relax-gaussian-natural-theta
    """
    cocoex = require("cocoex", "suites", "relax bbob")
    fids = parse_ids(functions, "--functions", FUNCTIONS, "BBOB's functions 1-24")
    dims_ = parse_ids(dims, "--dims", DIMENSIONS, "BBOB's dimensions 2, 3, 5, 10, 20, 40")
    iids = parse_ids(instances, "--instances")
    method = method_from(method_args)
    check_method(method, "real", [k for k in ("sigma0", "restart") if explicit(k)],
                 "BBOB's problems")
    method = replace(method, sigma0=method.sigma0 or SIGMA0)
    folder = check_folder(out, "--out")
    seed = draw_seed() if seed is None else seed
    step_chart = chart(method, real_model(method.kind("real"), np.zeros(2), 1.0))
    name = algorithm_name(method, "real", step_chart)
    record = settings(method, "real", step_chart, budget, seed)
    options = (f"instances: {','.join(map(str, iids))}",
               f"function_indices: {','.join(map(str, fids))} "
               f"dimensions: {','.join(map(str, dims_))}")
    suite, twins = cocoex.Suite("bbob", *options), cocoex.Suite("bbob", *options)
    expected = len(fids) * len(dims_) * len(iids)
    if len(suite.ids()) != expected:
        raise UserError(f"COCO built {len(suite.ids())} problems instead of {expected}; "
                        "check --functions, --dims and --instances")
    click.echo(f"{expected} problems, seed {seed}")
    with contextlib.chdir(folder):  # COCO writes under ./exdata/<result_folder>
        observer = cocoex.Observer("bbob", f"result_folder: {name} algorithm_name: {name} "
                                   f'algorithm_info: "{settings_text(record)}"')
        result = folder / observer.result_folder
        for problem in suite:
            run_one(problem, twins, observer, method, budget, seed)
    click.echo(f"{expected} problems; COCO data in {result}")


def run_one(problem, twins, observer, method, budget: int, seed: int) -> None:
    """One BBOB problem, observed; prints f − f_opt reached and the evaluations used."""
    fopt = f_opt(twins, problem)
    problem.observe_with(observer)
    model = real_model(method.kind("real"), problem.initial_solution, method.sigma0)
    res = solve(problem, model, method, budget, seed, stop=lambda: problem.final_target_hit)
    hit = " (final target hit)" if problem.final_target_hit else ""
    gap = "f - f_opt unknown" if fopt is None else f"f - f_opt = {res.fun - fopt:.3g}"
    click.echo(f"{problem.id}: {gap} after {problem.evaluations} evaluations{hit}")
    problem.free()


def f_opt(twins, problem) -> float | None:
    """f_opt of a BBOB problem: f at its optimum, on an unobserved twin.

    COCO's Python interface does not expose f_opt; ``Problem._best_parameter("print")``
    writes x_opt to ``._bbob_problem_best_parameter.txt`` in the working folder (a
    temporary one here), and f(x_opt) = f_opt.  Evaluating the twin leaves the logged
    problem's counters untouched.  ``None`` when that interface is missing.
    """
    twin = twins.get_problem_by_function_dimension_instance(
        problem.id_function, problem.dimension, problem.id_instance)
    try:
        with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp):
            twin._best_parameter("print")
            x_opt = np.loadtxt(Path(tmp) / "._bbob_problem_best_parameter.txt", ndmin=1)
        return float(twin(x_opt))
    except (AttributeError, OSError, ValueError):
        return None
    finally:
        twin.free()
