"""``relax run``: one optimization of a registered problem."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import click

from relax.cli.common import (
    Progress,
    as_json_value,
    build_model,
    build_problem,
    default_target,
    optimizer_options,
    parse_options,
    step_rule,
    user_errors,
)
from relax.minimize import minimize


@click.command()
@click.argument("problem")
@click.option("--dim", "-n", type=click.IntRange(1), default=None,
              help="Dimension n (required unless the problem reads it from a file).")
@click.option("--gradient", type=click.Choice(["natural", "vanilla"]), default="natural",
              show_default=True)
@click.option("--param", type=click.Choice(["auto", "eta", "theta"]), default="auto",
              show_default=True,
              help="Chart the step is taken in (auto: eta on {-1,+1}^n, theta on R^n).")
@click.option("--seed", type=int, default=None, help="Seed of the run (and of the instance).")
@optimizer_options
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
@click.option("--history", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the per-iteration history to this CSV file.")
@click.option("--plot", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Save a convergence plot (PNG) here (needs relax[plot]).")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@user_errors
def run(problem, dim, gradient, param, seed, model_kind, popsize, step, epsilon, shaping,
        sigma0, graph, maxfev, maxiter, target, problem_options, as_json, history, plot,
        quiet):
    """Minimize PROBLEM (see `relax list`) and report the best point found."""
    prob = build_problem(problem, dim, seed, parse_options(problem_options))
    model = build_model(prob, model_kind, sigma0, graph)
    progress = Progress(f"{prob.name}[{prob.dim}]", quiet=quiet or as_json)
    start = time.perf_counter()
    res = minimize(prob.f, model, gradient=gradient, param=param, popsize=popsize,
                   step=step_rule(step, epsilon), shaping=shaping, maxfev=maxfev,
                   maxiter=maxiter, target=default_target(prob, target), seed=seed,
                   vectorized=True, callback=progress)
    seconds = time.perf_counter() - start
    progress.close(res)
    if history:
        write_history(res, history)
    if plot:
        from relax.plot import convergence

        convergence({f"{gradient}-{param}": res}, path=plot)
    summary = run_summary(prob, res, model_kind or type(model).__name__.lower(), gradient,
                          param, seed, seconds)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        click.echo(f"{summary['message']}\nbest f = {res.fun:.10g} after {res.nfev} evaluations "
                   f"({res.nit} iterations, {seconds:.2f} s)"
                   + ("" if prob.optimum is None else f"; known optimum {prob.optimum:.10g}"))


def run_summary(prob, res, model, gradient, param, seed, seconds) -> dict:
    """The JSON record of one run."""
    return {k: as_json_value(v) for k, v in {
        "problem": prob.name, "dim": prob.dim, "model": model, "gradient": gradient,
        "param": param, "seed": seed, "fun": res.fun, "x": res.x, "nfev": res.nfev,
        "nit": res.nit, "success": res.success, "message": res.message,
        "optimum": prob.optimum, "seconds": seconds,
    }.items()}


def write_history(res, path: str) -> None:
    """CSV with one row per iteration: iteration, nfev, best_f, mean_f, rho, kl, spread."""
    h = res.history
    keys = list(h)
    with Path(path).open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["iteration", *keys])
        for i in range(len(h[keys[0]])):
            w.writerow([i + 1, *(repr(float(h[k][i])) if k != "nfev" else int(h[k][i])
                                 for k in keys)])
