"""``relax compare``: the four gradient × param combinations (or a chosen set) over seeds.

Runs go to a pool of worker processes (``--jobs``).  A run that raises is reported as
failed and the others go on; a run lost with its worker (killed, out of memory) is run once
more on a new pool.  Ctrl-C (or SIGTERM) prints the table of the runs finished so far and
exits with status 130.
"""

from __future__ import annotations

import json
import math
import os
import signal
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, wait
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


def failed_run(job: dict, error: BaseException) -> dict:
    """The record of a run that raised (or was lost twice with its worker)."""
    method: Method = job["method"]
    return {"method": f"{method.gradient}-{method.param}", "seed": job["seed"],
            "fun": math.nan, "nfev": 0, "reached": False, "seconds": 0.0, "history": None,
            "error": f"{type(error).__name__}: {error}"}


def run_all(jobs: list[dict], workers: int, counter: Counter,
            work: Callable[[dict], dict] = one_run) -> tuple[list[dict | None], bool]:
    """Every job, on ``workers`` processes, in the order of ``jobs`` whatever the order of
    completion; ``counter`` advances as each one finishes.  Returns the records (None for
    runs not finished) and whether Ctrl-C/SIGTERM stopped it early."""
    results: list[dict | None] = [None] * len(jobs)

    def done(i: int, record: dict) -> None:
        results[i] = record
        end = (f"failed: {record['error']}" if "error" in record
               else f"f = {record['fun']:.4g} after {record['nfev']} evaluations")
        counter.advance(f"{record['method']} seed {record['seed']}: {end}")

    try:
        if workers == 1 or len(jobs) == 1:
            for i, job in enumerate(jobs):
                try:
                    done(i, work(job))
                except Exception as e:  # noqa: BLE001 - one failed run spoils no other
                    done(i, failed_run(job, e))
        else:
            run_pool(jobs, workers, work, done)
    except KeyboardInterrupt:
        return results, True
    return results, False


def run_pool(jobs: list[dict], workers: int, work: Callable, done: Callable) -> None:
    """The jobs on relax's own process pool; a job that raises is a failed run.  A dead
    worker takes every job in flight with it: those are run again afterwards one at a time
    (on a new pool), so that only a job that kills its worker itself ends as a failed run.
    Ctrl-C kills the workers."""
    from relax.executors import OwnPool

    pool = OwnPool(workers)
    try:
        lost = settle(pool, {i: pool.executor().submit(work, job) for i, job in enumerate(jobs)},
                      jobs, done)
        for i in lost:
            for j in settle(pool, {i: pool.executor().submit(work, jobs[i])}, jobs, done):
                done(j, failed_run(jobs[j], WorkerKilled()))
    except BaseException:
        pool.kill()
        raise
    pool.close()


class WorkerKilled(RuntimeError):
    """The run killed its worker process (it died even when it ran alone)."""

    def __str__(self) -> str:
        return "the run killed its worker process (a crash, os._exit or out of memory)"


def settle(pool, pending: dict, jobs: list[dict], done: Callable) -> list[int]:
    """Wait for the futures ``{job index: future}``: report finished and failed runs,
    return the indices of the jobs lost with a worker (in order)."""
    from relax.executors import is_lost

    lost = []
    while pending:
        wait(list(pending.values()), return_when=FIRST_COMPLETED)
        for i, future in list(pending.items()):
            if not future.done():
                continue
            del pending[i]
            error = future.exception()
            if error is None:
                done(i, future.result())
            elif is_lost(error):
                lost.append(i)
            else:
                done(i, failed_run(jobs[i], error))
    if lost:
        pool.kill()  # broken: the next submit builds a new pool
    return sorted(lost)


def summarize(runs: list[dict | None], methods: list[str]) -> list[dict]:
    """Per method with a finished run: success rate (failed runs count as unsuccessful),
    median evaluations to target (successful runs), median final f and seconds (runs that
    did not fail), the seeds and the number of failed runs."""
    rows = []
    for m in methods:
        rs = [r for r in runs if r is not None and r["method"] == m]
        if not rs:
            continue
        fine = [r for r in rs if "error" not in r]
        ok = [r["nfev"] for r in fine if r["reached"]]
        rows.append({
            "method": m, "runs": len(rs), "failed": len(rs) - len(fine),
            "seeds": [r["seed"] for r in rs], "success": len(ok) / len(rs),
            "median_nfev_to_target": float(np.median(ok)) if ok else None,
            "median_final_f": float(np.median([r["fun"] for r in fine])) if fine else None,
            "median_seconds": float(np.median([r["seconds"] for r in fine])) if fine else None,
        })
    return rows


def print_table(title: str, rows: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    failures = any(r["failed"] for r in rows)
    table = Table(title=title)
    for col in ("method", "success", "median evals to target", "median final f",
                "median s", *(["failed runs"] if failures else [])):
        table.add_column(col, justify="left" if col == "method" else "right")
    for r in rows:
        nfev, f, sec = r["median_nfev_to_target"], r["median_final_f"], r["median_seconds"]
        table.add_row(r["method"], f"{r['success']:.0%}", "-" if nfev is None else f"{nfev:.0f}",
                      "-" if f is None else f"{f:.4g}", "-" if sec is None else f"{sec:.2f}",
                      *([str(r["failed"])] if failures else []))
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
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop as Ctrl-C
    try:
        runs, interrupted = run_all(jobs_list, jobs or os.cpu_count() or 1, counter)
    finally:
        signal.signal(signal.SIGTERM, previous)
    counter.close()
    names = [f"{g}-{p}" for g, p in chosen]
    rows = summarize(runs, names)
    if figure is not None and not interrupted:
        from relax.plot import compare_figure

        compare_figure({m: [r["history"] for r in runs if r is not None and r["method"] == m
                            and r["history"] is not None] for m in names},
                       optimum=prob.optimum, path=figure, dpi=dpi,
                       title=f"{prob.name}, n = {prob.dim}: {base.kind(prob.domain)} model, "
                             f"seeds 0-{seeds - 1}")
    if as_json:
        click.echo(json.dumps(as_json_value(rows), indent=2))
    else:
        print_table(f"{prob.name} n={prob.dim}, {seeds} seeds, target "
                    f"{default_target(prob, target)}", rows)
    report_failures(runs, interrupted)


def report_failures(runs: list[dict | None], interrupted: bool) -> None:
    """Failed runs on stderr; after Ctrl-C/SIGTERM, how many runs finished, and exit 130."""
    for r in runs:
        if r is not None and "error" in r:
            click.echo(f"{r['method']} seed {r['seed']} failed: {r['error']}", err=True)
    if interrupted:
        finished = sum(r is not None for r in runs)
        click.echo(f"interrupted: the table has the {finished} of {len(runs)} runs that "
                   "finished", err=True)
        raise click.exceptions.Exit(130)
