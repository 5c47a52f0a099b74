"""``relax compare``: the four gradient × param combinations (or a chosen set) over seeds."""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ProcessPoolExecutor

import click
import numpy as np

from relax.cli.common import (
    as_json_value,
    build_model,
    build_problem,
    default_target,
    optimizer_options,
    parse_options,
    step_rule,
    user_errors,
)
from relax.direction import DUALITY
from relax.minimize import minimize

METHODS = tuple(f"{g}-{p}" for g, p in DUALITY)


def parse_methods(text: str) -> list[tuple[str, str]]:
    """``natural-eta,vanilla-theta`` → [("natural", "eta"), ("vanilla", "theta")]."""
    out = []
    for item in (s.strip() for s in text.split(",") if s.strip()):
        if item not in METHODS:
            raise ValueError(f"unknown method {item!r}; choose from {', '.join(METHODS)}")
        g, p = item.split("-")
        out.append((g, p))
    return out


def one_run(job: dict) -> dict:
    """One (method, seed) run; top-level so that worker processes can run it."""
    prob = build_problem(job["problem"], job["dim"], job["instance_seed"], job["options"])
    model = build_model(prob, job["model"], job["sigma0"], job["graph"])
    target = default_target(prob, job["target"])
    start = time.perf_counter()
    res = minimize(prob.f, model, gradient=job["gradient"], param=job["param"],
                   popsize=job["popsize"], step=step_rule(job["step"], job["epsilon"]),
                   shaping=job["shaping"], maxfev=job["maxfev"], maxiter=job["maxiter"],
                   target=target, seed=job["seed"], vectorized=True)
    reached = target is not None and res.fun <= target
    return {"method": f"{job['gradient']}-{job['param']}", "seed": job["seed"],
            "fun": float(res.fun), "nfev": int(res.nfev), "reached": bool(reached),
            "seconds": time.perf_counter() - start, "history": res.history}


def summarize(runs: list[dict], methods: list[str]) -> list[dict]:
    """Per method: success rate, median evaluations to target (successful runs), median
    final f, median seconds."""
    rows = []
    for m in methods:
        rs = [r for r in runs if r["method"] == m]
        ok = [r["nfev"] for r in rs if r["reached"]]
        rows.append({
            "method": m, "runs": len(rs), "success": len(ok) / len(rs),
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
    Console(width=100).print(table)


@click.command()
@click.argument("problem")
@click.option("--dim", "-n", type=click.IntRange(1), default=None, help="Dimension n.")
@click.option("--methods", default=",".join(METHODS), show_default=True,
              help="Comma-separated gradient-param combinations.")
@click.option("--seeds", type=click.IntRange(1), default=3, show_default=True,
              help="Runs per method (seeds 0..seeds-1).")
@click.option("--instance-seed", type=int, default=0, show_default=True,
              help="Seed of the problem instance (shared by all runs).")
@optimizer_options
@click.option("--jobs", "-j", type=click.IntRange(1), default=None,
              help="Worker processes [default: the number of CPUs].")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
@click.option("--plot", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Save convergence curves (seed 0 of each method) as PNG.")
@user_errors
def compare(problem, dim, methods, seeds, instance_seed, model_kind, popsize, step, epsilon,
            shaping, sigma0, graph, maxfev, maxiter, target, problem_options, jobs, as_json,
            plot):
    """Compare vanilla and natural gradients in θ and η on PROBLEM over several seeds.

    Each run gets 5000·dim evaluations unless --maxfev/--maxiter say otherwise.
    """
    chosen = parse_methods(methods)
    options = parse_options(problem_options)
    prob = build_problem(problem, dim, instance_seed, options)
    build_model(prob, model_kind, sigma0, graph)  # fail early on a model that does not fit
    base = {"problem": problem, "dim": dim, "instance_seed": instance_seed, "options": options,
            "model": model_kind, "sigma0": sigma0, "graph": graph, "popsize": popsize,
            "step": step, "epsilon": epsilon, "shaping": shaping,
            "maxfev": maxfev if maxfev or maxiter else 5000 * prob.dim, "maxiter": maxiter,
            "target": target}
    jobs_list = [{**base, "gradient": g, "param": p, "seed": s} for g, p in chosen
                 for s in range(seeds)]
    jobs = jobs or os.cpu_count() or 1
    if jobs > 1 and len(jobs_list) > 1:
        with ProcessPoolExecutor(jobs) as pool:
            runs = list(pool.map(one_run, jobs_list))
    else:
        runs = [one_run(j) for j in jobs_list]
    names = [f"{g}-{p}" for g, p in chosen]
    rows = summarize(runs, names)
    if plot:
        from relax.plot import convergence

        first = {r["method"]: r for r in runs if r["seed"] == 0}
        convergence({m: _AsResult(first[m]["history"]) for m in names}, path=plot)
    if as_json:
        click.echo(json.dumps([{k: as_json_value(v) for k, v in r.items()} for r in rows],
                              indent=2))
    else:
        print_table(f"{prob.name} n={prob.dim}, {seeds} seeds, target "
                    f"{default_target(prob, target)}", rows)


class _AsResult:
    """The part of an OptimizeResult that plotting reads."""

    def __init__(self, history):
        self.history = history
