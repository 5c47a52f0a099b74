"""``relax run``: one optimization of a registered problem."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import click

from relax.cli.build import (
    build_model,
    build_problem,
    check_method,
    default_target,
    draw_seed,
    method_from,
    parse_problem_options,
    resolved,
)
from relax.cli.errors import user_errors
from relax.cli.options import (
    budget_options,
    direction_options,
    explicit,
    figure_options,
    model_options,
    problem_options,
    step_options,
)
from relax.cli.outputs import as_json_value, check_file, figure_path, format_x, write_history
from relax.cli.progress import Progress, gap_text


@click.command()
@click.argument("problem")
@click.option("--dim", "-n", type=click.IntRange(1), default=None,
              help="Dimension n (required unless the problem reads it from a file).")
@direction_options
@click.option("--seed", type=click.IntRange(0), default=None,
              help="Seed of the run and of the problem instance [default: drawn from the OS, "
                   "printed and recorded].")
@model_options()
@step_options
@budget_options("10^4 * dim")
@problem_options
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
@click.option("--history", type=click.Path(dir_okay=False), default=None,
              help="Write the per-iteration history to this CSV file.")
@figure_options("the run's figure (f - f_opt, step size, axis ratios, mean)")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@user_errors
def run(problem, dim, seed, problem_options, maxfev, maxiter, target, as_json, history, plot,
        fmt, dpi, quiet, **method_args):
    """Minimize PROBLEM (see `relax list`) and report the best point found.

    \b
    relax run rosenbrock --dim 10 --seed 1
    relax run onemax -n 100 --model ising --graph chain --json
    relax run sphere -n 20 --history h.csv --plot run.pdf
    """
    history_path = check_file(history, "--history")
    figure = figure_path(plot, fmt)
    drawn = seed is None
    seed = draw_seed() if drawn else seed
    options = parse_problem_options(problem_options)
    prob = build_problem(problem, dim, seed, options)
    method = method_from(method_args)
    check_method(method, prob.domain,
                 [k for k in ("sigma0", "graph", "restart") if explicit(k)], repr(prob.name))
    if prob.domain == "real":
        method = replace(method, sigma0=prob.sigma0 if method.sigma0 is None else method.sigma0)
    model = build_model(prob, method)
    target = default_target(prob, target)
    progress = Progress(f"{prob.name}[{prob.dim}]", prob.optimum, quiet=quiet or as_json)
    from relax.minimize import minimize

    start = time.perf_counter()
    res = minimize(prob.f, model, **method.settings(), maxfev=maxfev, maxiter=maxiter,
                   target=target, seed=seed, vectorized=True, callback=progress)
    seconds = time.perf_counter() - start
    progress.close(res)
    record = {
        "problem": prob.name, "dim": prob.dim, "options": options, "seed": seed,
        "seed_drawn": drawn, **method.record(prob.domain), **resolved(method, model),
        "maxfev": maxfev, "maxiter": maxiter, "target": target, "fun": res.fun, "x": res.x,
        "nfev": res.nfev, "nit": res.nit, "success": res.success, "message": res.message,
        "optimum": prob.optimum, "seconds": seconds,
        **({"restarts_run": res.restarts} if "restarts" in res else {}),
    }
    if history_path is not None:
        write_history(res.history, history_path)
    if figure is not None:
        from relax.plot import run_figure

        run_figure(res, title=run_title(record), optimum=prob.optimum, path=figure, dpi=dpi)
    if as_json:
        click.echo(json.dumps(as_json_value(record), indent=2))
    else:
        click.echo(run_text(record))


def run_title(record: dict) -> str:
    """Figure title: problem, dimension, model, direction and seed."""
    return (f"{record['problem']}, n = {record['dim']}: {record['model']} model, "
            f"{record['gradient']} gradient in {record['chart']}, seed {record['seed']}")


def run_text(record: dict) -> str:
    """The text report: stopping message, best f, evaluations, x and the seed."""
    seed = f"seed {record['seed']}" + (
        f" (drawn; repeat with --seed {record['seed']})" if record["seed_drawn"] else "")
    known = ("" if record["optimum"] is None
             else f"; known optimum {record['optimum']:.10g}")
    return "\n".join([
        record["message"],
        f"{gap_text(record['fun'], record['optimum'])} after {record['nfev']} evaluations "
        f"({record['nit']} iterations, {record['seconds']:.2f} s){known}",
        f"x = {format_x(record['x'])}",
        f"{record['model']} model, {record['gradient']} gradient in {record['chart']}, {seed}",
    ])
