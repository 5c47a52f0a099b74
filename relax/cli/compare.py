"""``relax compare``: the four gradient × param combinations (or a chosen set) over seeds."""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import replace

import click
import numpy as np

from relax.cli.build import (
    Method,
    build_model,
    build_problem,
    check_method,
    default_target,
    method_from,
    parse_problem_options,
)
from relax.cli.errors import UserError, user_errors
from relax.cli.options import (
    budget_options,
    explicit,
    figure_options,
    model_options,
    problem_options,
    step_options,
)
from relax.cli.outputs import as_json_value, figure_path
from relax.cli.progress import Counter
from relax.direction import DUALITY

METHODS = tuple(f"{g}-{p}" for g, p in DUALITY)
BUDGET_PER_DIM = 5000


def parse_methods(text: str) -> list[tuple[str, str]]:
    """``natural-eta,vanilla-theta`` → [("natural", "eta"), ("vanilla", "theta")]."""
    out = []
    for item in (s.strip() for s in text.split(",") if s.strip()):
        if item not in METHODS:
            raise UserError(f"--methods: unknown method {item!r}; choose from "
                            f"{', '.join(METHODS)}")
        g, p = item.split("-")
        out.append((g, p))
    if not out:
        raise UserError(f"--methods needs at least one of {', '.join(METHODS)}")
    return out


def one_run(job: dict) -> dict:
    """One (method, seed) run; top-level so that worker processes can run it."""
    from relax.minimize import minimize

    prob = build_problem(job["problem"], job["dim"], job["instance_seed"], job["options"])
    method: Method = job["method"]
    model = build_model(prob, method)
    target = default_target(prob, job["target"])
    start = time.perf_counter()
    res = minimize(prob.f, model, **method.settings(), maxfev=job["maxfev"],
                   maxiter=job["maxiter"], target=target, seed=job["seed"], vectorized=True)
    reached = target is not None and res.fun <= target
    return {"method": f"{method.gradient}-{method.param}", "seed": job["seed"],
            "fun": float(res.fun), "nfev": int(res.nfev), "reached": bool(reached),
            "seconds": time.perf_counter() - start, "history": res.history}


def run_all(jobs: list[dict], workers: int, counter: Counter) -> list[dict]:
    """Every job, on ``workers`` processes, in the order of ``jobs`` whatever the order of
    completion; ``counter`` advances as each one finishes."""
    def done(r: dict) -> None:
        counter.advance(f"{r['method']} seed {r['seed']}: f = {r['fun']:.4g} after "
                        f"{r['nfev']} evaluations")

    if workers == 1 or len(jobs) == 1:
        out = []
        for job in jobs:
            out.append(one_run(job))
            done(out[-1])
        return out
    results: list[dict | None] = [None] * len(jobs)
    with ProcessPoolExecutor(workers) as pool:
        futures = {pool.submit(one_run, job): i for i, job in enumerate(jobs)}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            done(results[futures[future]])
    return results


def summarize(runs: list[dict], methods: list[str]) -> list[dict]:
    """Per method: success rate, median evaluations to target (successful runs), median
    final f, median seconds, and the seeds."""
    rows = []
    for m in methods:
        rs = [r for r in runs if r["method"] == m]
        ok = [r["nfev"] for r in rs if r["reached"]]
        rows.append({
            "method": m, "runs": len(rs), "seeds": [r["seed"] for r in rs],
            "success": len(ok) / len(rs),
            "median_nfev_to_target": float(np.median(ok)) if ok else None,
            "median_final_f": float(np.median([r["fun"] for r in rs])),
            "median_seconds": float(np.median([r["seconds"] for r in rs])),
        })
    return rows


def print_table(title: str, rows: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for col in ("method", "success", "median evals to target", "median final f",
                "median s"):
        table.add_column(col, justify="left" if col == "method" else "right")
    for r in rows:
        nfev = r["median_nfev_to_target"]
        table.add_row(r["method"], f"{r['success']:.0%}", "-" if nfev is None else f"{nfev:.0f}",
                      f"{r['median_final_f']:.4g}", f"{r['median_seconds']:.2f}")
    Console().print(table)


@click.command()
@click.argument("problem")
@click.option("--dim", "-n", type=click.IntRange(1), default=None, help="Dimension n.")
@click.option("--methods", default=",".join(METHODS), show_default=True,
              help="Comma-separated gradient-param combinations.")
@click.option("--seeds", type=click.IntRange(1), default=3, show_default=True,
              help="Runs per method (seeds 0..seeds-1).")
@click.option("--instance-seed", type=click.IntRange(0), default=0, show_default=True,
              help="Seed of the problem instance (shared by all runs).")
@model_options()
@step_options
@budget_options(f"{BUDGET_PER_DIM} * dim per run")
@problem_options
@click.option("--jobs", "-j", type=click.IntRange(1), default=None,
              help="Worker processes [default: the number of CPUs].")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
@figure_options("the figure of every run (median and range over seeds per method)")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@user_errors
def compare(problem, dim, methods, seeds, instance_seed, problem_options, maxfev, maxiter,
            target, jobs, as_json, plot, fmt, dpi, quiet, **method_args):
    """Compare vanilla and natural gradients in θ and η on PROBLEM over several seeds.

    Each run gets 5000·dim evaluations unless --maxfev/--maxiter say otherwise.

    \b
    relax compare onemax --dim 100
    relax compare rosenbrock -n 10 --methods natural-theta,natural-eta --plot cmp.pdf
    """
    figure = figure_path(plot, fmt)
    chosen = parse_methods(methods)
    options = parse_problem_options(problem_options)
    prob = build_problem(problem, dim, instance_seed, options)
    base = method_from(method_args)
    check_method(base, prob.domain,
                 [k for k in ("sigma0", "graph", "restart") if explicit(k)], repr(prob.name))
    build_model(prob, base)  # fail early on a model that cannot be built
    shared = {"problem": problem, "dim": dim, "instance_seed": instance_seed,
              "options": options, "target": target, "maxiter": maxiter,
              "maxfev": maxfev if maxfev or maxiter else BUDGET_PER_DIM * prob.dim}
    jobs_list = [{**shared, "seed": s, "method": replace(base, gradient=g, param=p)}
                 for g, p in chosen for s in range(seeds)]
    counter = Counter(f"{prob.name}[{prob.dim}]", len(jobs_list), quiet=quiet)
    runs = run_all(jobs_list, jobs or os.cpu_count() or 1, counter)
    counter.close()
    names = [f"{g}-{p}" for g, p in chosen]
    rows = summarize(runs, names)
    if figure is not None:
        from relax.plot import compare_figure

        compare_figure({m: [r["history"] for r in runs if r["method"] == m] for m in names},
                       optimum=prob.optimum, path=figure, dpi=dpi,
                       title=f"{prob.name}, n = {prob.dim}: {base.kind(prob.domain)} model, "
                             f"seeds 0-{seeds - 1}")
    if as_json:
        click.echo(json.dumps(as_json_value(rows), indent=2))
    else:
        print_table(f"{prob.name} n={prob.dim}, {seeds} seeds, target "
                    f"{default_target(prob, target)}", rows)
