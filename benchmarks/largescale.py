"""Large scale: relax.DiagonalGaussian vs pycma's separable CMA-ES on sphere and ellipsoid.

Problems (``relax.problems``, vectorized): the sphere Σ x_i² (BBOB f1's shape) and the
separable ellipsoid Σ 10^{6 i/(n−1)} x_i² (condition 10⁶, BBOB f2's shape), both with
minimum 0 at 0, at d = 10³ and 10⁴.  Every run starts at x0 ~ U[−4, 4]^d (seeded by
seed, function, d and run, the same for both methods) with σ0 = 2 and has
``--budget``·d evaluations; success is f ≤ ``--target`` (default 1e-8).

- relax: ``minimize(f, DiagonalGaussian(x0, σ0²), vectorized=True)``;
- pycma: ``CMAEvolutionStrategy(x0, σ0, {"CMA_diagonal": True})`` (sep-CMA for the whole
  run), ask/tell on the batch.

The harness counts evaluations and wall-clock seconds (f included: it is the same numpy
code for both) and notes when f first fell below each threshold 10⁴, 10³, …, target.
The table compares the methods at the target when every run of both reached it;
otherwise at the smallest threshold every run reached, marked as looser, with the
success counts at the target beside it.  Runs are sequential, methods interleaved.

Usage::

    python benchmarks/largescale.py                 # d = 1000, 10000; writes RESULTS.md
    python benchmarks/largescale.py --quick         # d = 20, 50; print only
"""

from __future__ import annotations

import argparse
import importlib
import math
import statistics
import sys
import time
import warnings
from dataclasses import asdict, dataclass

import numpy as np
from _common import (
    BatchObjective,
    blas_info,
    fill_defaults,
    fmt_int,
    fmt_ratio,
    fmt_sci,
    id_list,
    limit_threads,
    name_list,
    provenance,
    publish,
    results_path,
)

SECTION = "## Large scale (DiagonalGaussian vs separable CMA)"
METHODS = ("relax", "pycma")
FUNCTIONS = ("sphere", "ellipsoid")
SIGMA0 = 2.0
DEFAULTS = {"dims": "1000,10000", "runs": 3, "budget": 300}
QUICK = {"dims": "20,50", "runs": 1, "budget": 300}


@dataclass(frozen=True)
class Task:
    """One run of a method on one function and dimension."""

    method: str
    function: str
    dim: int
    run: int
    budget: int
    target: float
    seed: int


def problem(name: str, dim: int):
    """The relax.problems instance (ellipsoid with condition 10⁶)."""
    import relax.problems as rp

    return rp.sphere(dim) if name == "sphere" else rp.ellipsoid(dim, cond=1e6)


def start(task: Task) -> tuple[np.ndarray, int]:
    """x0 ~ U[−4, 4]^d and a 31-bit optimizer seed, from (seed, function, d, run) only."""
    key = [task.seed, FUNCTIONS.index(task.function), task.dim, task.run]
    x0 = np.random.default_rng(key).uniform(-4.0, 4.0, task.dim)
    return x0, int(np.random.SeedSequence([*key, 1]).generate_state(1)[0] >> 1)


def ladder(target: float) -> list[float]:
    """Thresholds 10⁴, 10³, … down to (and including) the target."""
    return [10.0**k for k in range(4, -20, -1) if 10.0**k > target] + [target]


def run_relax(obj: BatchObjective, x0: np.ndarray, seed: int) -> None:
    """relax.minimize on DiagonalGaussian(x0, σ0²), vectorized f."""
    import relax

    relax.minimize(obj.batch, relax.DiagonalGaussian(x0, SIGMA0**2), maxfev=obj.budget,
                   target=obj.ftarget, seed=seed, vectorized=True)


def run_pycma(obj: BatchObjective, x0: np.ndarray, seed: int) -> None:
    """pycma with ``CMA_diagonal: True``; pycma draws a random seed for 0, so seed + 1."""
    import cma

    es = cma.CMAEvolutionStrategy(x0, SIGMA0, {
        "CMA_diagonal": True, "seed": seed + 1, "verbose": -9, "verb_disp": 0,
        "verb_log": 0, "ftarget": obj.ftarget, "maxfevals": obj.budget})
    while not es.stop():
        X = es.ask()
        es.tell(X, list(obj.batch(np.asarray(X))))


RUNNERS = {"relax": run_relax, "pycma": run_pycma}


def run_task(task: Task) -> dict:
    """One run: evaluations, seconds, stop reason and the ladder of first hits."""
    p = problem(task.function, task.dim)
    x0, seed = start(task)
    obj = BatchObjective(p.f, p.optimum, task.budget, task.target, ladder(task.target))
    error = None
    try:
        stop = obj.run(lambda: RUNNERS[task.method](obj, x0, seed))
    except Exception as e:  # noqa: BLE001 - a crashing optimizer is a failed run, reported
        stop, error = "error", f"{type(e).__name__}: {e}"[:300]
    seconds = time.perf_counter() - obj.t0
    return {**asdict(task), "run_seed": seed, "evals": obj.count, "hit": obj.hit,
            "best": obj.best if math.isfinite(obj.best) else None, "stop": stop,
            "error": error, "seconds": seconds,
            "ladder": {f"{t:g}": list(v) for t, v in obj.ladder_hits.items()}}


def common_threshold(records: list[dict], target: float) -> float | None:
    """The smallest threshold of the ladder that every run reached (None if none)."""
    reached = [t for t in ladder(target) if all(f"{t:g}" in r["ladder"] for r in records)]
    return min(reached) if reached else None


def cell_row(function: str, dim: int, by: dict[str, list[dict]], methods: list[str],
             target: float) -> str:
    """One markdown row: threshold, median evaluations and seconds, ratios, successes."""
    t = common_threshold([r for m in methods for r in by[m]], target)
    key = None if t is None else f"{t:g}"

    def median(m: str, i: int) -> float | None:
        return None if key is None else statistics.median(r["ladder"][key][i] for r in by[m])

    label = "—" if t is None else fmt_sci(t) + ("" if t == target else " (looser)")
    row = [function, f"{dim:,}", label]
    row += [fmt_int(median(m, 0)) for m in methods]
    row += [f"{median(m, 1):.3g}" if key else "—" for m in methods]
    if len(methods) == 2 and key:
        row += [fmt_ratio(median(methods[0], i) / median(methods[1], i)) for i in (0, 1)]
    elif len(methods) == 2:
        row += ["—", "—"]
    row.append(" · ".join(f"{sum(r['hit'] is not None for r in by[m])}/{len(by[m])}"
                          for m in methods))
    return "| " + " | ".join(row) + " |"


def table(records: list[dict], methods: list[str], target: float) -> str:
    """Markdown table, one row per (function, d)."""
    cells: dict[tuple[str, int], dict[str, list[dict]]] = {}
    for r in records:
        cells.setdefault((r["function"], r["dim"]), {}).setdefault(r["method"], []).append(r)
    pair = "/".join(methods) if len(methods) == 2 else None
    head = ["f", "d", "threshold", *(f"{m} evals" for m in methods),
            *(f"{m} s" for m in methods),
            *((f"evals {pair}", f"s {pair}") if pair else ()),
            f"solved at {fmt_sci(target)} ({' · '.join(methods)})"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for (f, d), by in sorted(cells.items(), key=lambda c: (FUNCTIONS.index(c[0][0]), c[0][1])):
        lines.append(cell_row(f, d, by, methods, target))
    return "\n".join(lines) + "\n"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="\n".join(__doc__.splitlines()[2:]))
    p.add_argument("--functions", type=name_list("functions", FUNCTIONS),
                   default=list(FUNCTIONS))
    p.add_argument("--dims", type=id_list("dims"), help=f"default {DEFAULTS['dims']}")
    p.add_argument("--methods", type=name_list("methods", METHODS), default=list(METHODS))
    p.add_argument("--runs", type=int, help=f"runs per cell (default {DEFAULTS['runs']})")
    p.add_argument("--budget", type=int,
                   help=f"evaluations per dimension (default {DEFAULTS['budget']})")
    p.add_argument("--target", type=float, default=1e-8, help="success: f <= target")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--blas-threads", type=int,
                   help="pin BLAS/OpenMP pools to this many threads (default: as installed)")
    p.add_argument("--results", help="markdown file whose section is written "
                   "(default benchmarks/RESULTS.md, none with --quick)")
    p.add_argument("--no-write", action="store_true", help="print only")
    p.add_argument("--raw", help="write the per-run records to this JSON file")
    p.add_argument("--quick", action="store_true", help="d = 20, 50, one run: a smoke test")
    return p


def resolve(args: argparse.Namespace, p: argparse.ArgumentParser) -> argparse.Namespace:
    """Fill unset sizes from the defaults (or the quick ones) and check them."""
    fill_defaults(args, QUICK if args.quick else DEFAULTS)
    if min(args.dims) < 2:
        p.error(f"--dims must be at least 2 (the ellipsoid needs it); got {args.dims}")
    for key in ("runs", "budget"):
        if getattr(args, key) < 1:
            p.error(f"--{key} must be at least 1; got {getattr(args, key)}")
    if not 0 < args.target < 1e4:
        p.error(f"--target must be in (0, 1e4); got {args.target}")
    if args.blas_threads is not None and args.blas_threads < 1:
        p.error(f"--blas-threads must be at least 1; got {args.blas_threads}")
    return args


def report(records: list[dict], args: argparse.Namespace, argv: list[str]) -> str:
    """The RESULTS.md section."""
    errors = [r for r in records if r["stop"] == "error"]
    notes = f"- runs that raised: {len(errors)} (first: {errors[0]['error']})\n" if errors else ""
    return (f"{SECTION}\n\n"
            f"x0 ~ U[−4, 4]^d, σ0 = {SIGMA0:g}, budget {args.budget:,}·d evaluations, "
            f"{args.runs} run(s) per cell; medians of evaluations and of seconds (wall clock, "
            "f included) to the threshold: the target when every run reached it, else the "
            "smallest power of ten every run reached (looser).\n\n"
            + table(records, args.methods, args.target) + "\n" + notes
            + f"- BLAS: {blas_info()}\n"
            + provenance("largescale.py", argv, ["relax", "cma", "numpy"]))


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    p = parser()
    args = resolve(p.parse_args(argv), p)
    out = results_path(args.results, args.quick, args.no_write)
    if args.blas_threads is not None:
        limit_threads(args.blas_threads)
    for module in ("relax", "relax.problems", "cma"):  # imported here, not inside a timed run
        importlib.import_module(module)
    tasks = [Task(m, f, d, k, args.budget * d, args.target, args.seed)
             for d in args.dims for f in args.functions for k in range(args.runs)
             for m in args.methods]
    records = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, task in enumerate(tasks, 1):
            records.append(run_task(task))
            print(f"{i}/{len(tasks)} runs", file=sys.stderr, flush=True)
    text = report(records, args, argv)
    publish(text, SECTION, out, args.raw, {"command": argv, "records": records})


if __name__ == "__main__":
    main()
