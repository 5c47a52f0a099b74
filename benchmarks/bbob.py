"""COCO BBOB: relax, pycma and cmaes in one run, under one protocol.

Protocol, the same for every method:

- problems from ``cocoex`` (coco-experiment): suite ``bbob`` with suite options
  ``instances: <ids>``, so ``--instances 1-15`` are the instance *ids* 1..15;
  f_opt from ``cocoex.BareProblem("bbob", f, d, i).best_value()``;
- x0 ~ U[−4, 4]^d from a generator seeded by (seed, function, dim, instance), σ0 = 2,
  budget ``--budget``·d evaluations, success when f − f_opt ≤ 1e-8;
- the harness counts evaluations itself (:class:`_common.Objective`) and ends a run, by
  raising from inside f, at the first evaluation that reaches the target or when the
  budget is spent; optimizers also get f_opt + 1e-8 as their own target;
- restarts for every method where ``--restarts-on`` applies (default: the multimodal
  functions f3, f4, f15–f24), at most ``--max-restarts`` of them, policy ``--restart``,
  within the one budget; every method restarts from the next x0 ~ U[−4, 4]^d of the
  same stream (relax through a callable initial model).  pycma: ``cma.fmin2`` with
  ``restarts=R, bipop=...``; relax: ``minimize(..., restarts=R, restart=policy)``;
  cmaes has no restarts, :class:`RestartSchedule` implements IPOP and BIPOP around
  ``cmaes.CMA``.

Per cell (f, d): solved/runs, median evaluations to target over the solved runs, and

    ERT = (evaluations of all runs, failed ones at what they spent) / successes,

with the ratios of median and ERT to pycma's.  Runs go to a process pool (``--jobs``,
BLAS pinned to one thread per process), methods interleaved.

Usage::

    python benchmarks/bbob.py                                   # f1-24, d=2,5,10,20, i=1-15
    python benchmarks/bbob.py --functions 1,2 --dims 2,5 --instances 1-3 --no-write
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import os
import sys
import warnings
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from _common import (
    Objective,
    fmt_int,
    fmt_ratio,
    id_list,
    limit_threads,
    name_list,
    provenance,
    publish,
    results_path,
)

SECTION = "## BBOB (relax vs pycma vs cmaes)"
METHODS = ("relax", "pycma", "cmaes")
DIMS = (2, 3, 5, 10, 20, 40)  # the dimensions the bbob suite defines
MULTIMODAL = frozenset({3, 4, *range(15, 25)})
CORE = (1, 2, 8, 10, 12)  # functions of the median-ratio summary
SIGMA0 = 2.0
DELTA = 1e-8
DEFAULTS = {"functions": "1-24", "dims": "2,5,10,20", "instances": "1-15", "budget": 10_000}
RESTARTS_ON = {"multimodal": "f3, f4, f15–f24", "all": "every function", "none": "no function"}
QUICK = {"functions": "1,2", "dims": "2", "instances": "1-2", "budget": 500}


@dataclass(frozen=True)
class Task:
    """One run: a method on one (function, dimension, instance)."""

    method: str
    function: int
    dim: int
    instance: int
    budget: int
    restarts: int
    policy: str
    seed: int


# ------------------------------------------------------------------ seeds and problems
def start_points(seed: int, function: int, dim: int, instance: int) -> Callable[[], np.ndarray]:
    """x0 ~ U[−4, 4]^d, then one fresh point per restart, from a generator seeded by
    (seed, function, dim, instance) only: every method gets the same sequence."""
    rng = np.random.default_rng([seed, function, dim, instance])
    return lambda: rng.uniform(-4.0, 4.0, dim)


def run_seed(seed: int, function: int, dim: int, instance: int) -> int:
    """A 31-bit seed for the optimizer's own generator, shared by all methods."""
    state = np.random.SeedSequence([seed, function, dim, instance, 1]).generate_state(1)
    return int(state[0] >> 1)


def bbob_problem(function: int, dim: int, instance: int) -> tuple[Callable, float]:
    """The cocoex problem (a callable on one point) and its optimal value f_opt."""
    import cocoex

    suite = cocoex.Suite("bbob", f"instances: {instance}",
                         f"function_indices: {function} dimensions: {dim}")
    problem = suite.get_problem(0)
    if (problem.id_function, problem.id_instance, problem.dimension) != (function, instance, dim):
        raise RuntimeError(f"cocoex returned {problem.id} for f{function} i{instance} d{dim}")
    return problem, float(cocoex.BareProblem("bbob", function, dim, instance).best_value())


# ------------------------------------------------------------------ the three methods
def run_relax(obj: Objective, starts: Callable[[], np.ndarray], seed: int, restarts: int,
              policy: str) -> None:
    """relax.minimize on a full Gaussian N(x0, σ0² I), vectorized f; with restarts the
    model is a callable, so that every run starts from the next x0 of the shared stream."""
    import relax

    def model(rng):
        return relax.Gaussian(starts(), SIGMA0**2)

    extra = {"restarts": restarts, "restart": policy} if restarts else {}
    relax.minimize(obj.batch, model if restarts else model(None), maxfev=obj.budget,
                   target=obj.ftarget, seed=seed, vectorized=True, **extra)


def run_pycma(obj: Objective, starts: Callable[[], np.ndarray], seed: int, restarts: int,
              policy: str) -> None:
    """cma.fmin2; x0 is the callable ``starts`` so that every restart starts afresh.
    pycma draws a random seed for seed 0, so it gets seed + 1."""
    import cma

    options = {"seed": seed + 1, "verbose": -9, "verb_disp": 0, "verb_log": 0,
               "ftarget": obj.ftarget, "maxfevals": obj.budget}
    cma.fmin2(obj, starts, SIGMA0, options, restarts=restarts,
              bipop=bool(restarts) and policy == "bipop")


@dataclass
class RestartSchedule:
    """Population size, σ0 and evaluation cap of each run of a restart strategy.

    With λ_def = 4 + ⌊3 ln d⌋ the default population size:

    - IPOP (Auger and Hansen 2005): run k = 0, 1, … uses λ = 2^k λ_def and σ0; at most
      ``restarts`` restarts.
    - BIPOP (Hansen 2009, as in pycma's ``fmin``): the first run uses λ_def and σ0 and its
      evaluations count to the small regime.  Then, while fewer than ``restarts``
      large-regime restarts were made: if the small regime has spent fewer evaluations
      than the large one, a *small* run with λ = ⌊λ_def (2^{n_L})^{U²}⌋,
      σ = σ0 · 10^{−2V} (U, V ~ U[0, 1], n_L large runs so far) and at most half the
      large regime's evaluations; otherwise a *large* run with λ = 2^{n_L + 1} λ_def and
      σ0.  Small runs do not count as restarts.
    """

    lam0: int
    sigma0: float
    restarts: int
    policy: str
    rng: np.random.Generator
    runs: int = 0
    n_large: int = 0
    small_evals: int = 0
    large_evals: int = 0

    def next(self) -> tuple[int, float, float, str] | None:
        """(λ, σ0, evaluation cap, regime) of the next run, or None when done."""
        if self.runs == 0:
            return self.lam0, self.sigma0, math.inf, "first"
        if self.policy == "ipop":
            if self.runs > self.restarts:
                return None
            return self.lam0 * 2**self.runs, self.sigma0, math.inf, "large"
        if self.n_large >= self.restarts:
            return None
        if self.small_evals < max(1, self.large_evals):
            u, v = self.rng.random(2)
            lam = int(self.lam0 * (2**self.n_large) ** (u * u))
            return lam, self.sigma0 * 0.01**v, 0.5 * self.large_evals, "small"
        return self.lam0 * 2 ** (self.n_large + 1), self.sigma0, math.inf, "large"

    def record(self, regime: str, evals: int) -> None:
        """Account a finished run's evaluations to its regime."""
        self.runs += 1
        if regime == "large":
            self.n_large += 1
            self.large_evals += evals
        else:
            self.small_evals += evals


def cmaes_run(obj: Objective, x0: np.ndarray, sigma: float, lam: int, seed: int,
              cap: float) -> int:
    """One cmaes.CMA run until its own stopping rules or ``cap`` evaluations; returns
    the evaluations it spent."""
    import cmaes

    es = cmaes.CMA(mean=x0, sigma=sigma, population_size=lam, seed=seed)
    start = obj.count
    while not es.should_stop() and obj.count - start < cap:
        es.tell([(x, obj(x)) for x in (es.ask() for _ in range(es.population_size))])
    return obj.count - start


def run_cmaes(obj: Objective, starts: Callable[[], np.ndarray], seed: int, restarts: int,
              policy: str) -> None:
    """cmaes.CMA, restarted by :class:`RestartSchedule` from fresh start points."""
    rng = np.random.default_rng(seed)
    x0 = starts()
    schedule = RestartSchedule(4 + int(3 * np.log(x0.size)), SIGMA0, restarts, policy, rng)
    while (run := schedule.next()) is not None:
        lam, sigma, cap, regime = run
        x = x0 if schedule.runs == 0 else starts()
        schedule.record(regime, cmaes_run(obj, x, sigma, lam, int(rng.integers(2**31)), cap))


RUNNERS = {"relax": run_relax, "pycma": run_pycma, "cmaes": run_cmaes}


def run_task(task: Task) -> dict:
    """Run one task; the record holds evaluations spent, the hit (evaluations to target,
    or None), best f − f_opt, and why it stopped (target, budget, optimizer, error)."""
    f, fopt = bbob_problem(task.function, task.dim, task.instance)
    obj = Objective(f, fopt, task.budget, DELTA)
    starts = start_points(task.seed, task.function, task.dim, task.instance)
    seed = run_seed(task.seed, task.function, task.dim, task.instance)
    error = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            stop = obj.run(lambda: RUNNERS[task.method](obj, starts, seed, task.restarts,
                                                        task.policy))
        except Exception as e:  # noqa: BLE001 - a crashing optimizer is a failed run, reported
            stop, error = "error", f"{type(e).__name__}: {e}"[:300]
    return {**asdict(task), "run_seed": seed, "evals": obj.count, "hit": obj.hit,
            "best": obj.best if math.isfinite(obj.best) else None, "stop": stop, "error": error}


def run_all(tasks: list[Task], jobs: int) -> list[dict]:
    """Run the tasks on ``jobs`` processes (in this one when jobs = 1), with progress on
    stderr; records come back in task order."""
    limit_threads()
    if jobs == 1:
        results = map(run_task, tasks)
        pool = None
    else:
        pool = ProcessPoolExecutor(max_workers=jobs, initializer=limit_threads)
        results = pool.map(run_task, tasks)
    records = []
    step = max(1, len(tasks) // 20)
    try:
        for k, record in enumerate(results, 1):
            records.append(record)
            if k % step == 0 or k == len(tasks):
                print(f"{k}/{len(tasks)} runs", file=sys.stderr, flush=True)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return records


# ------------------------------------------------------------------ statistics
@dataclass(frozen=True)
class CellStats:
    """Success count, median evaluations of the solved runs and ERT of one cell."""

    runs: int
    solved: int
    median: float | None
    ert: float

    def text(self) -> str:
        return f"{self.solved}/{self.runs} · {fmt_int(self.median)} · {fmt_int(self.ert)}"


def cell_stats(records: Iterable[dict]) -> CellStats:
    """ERT = Σ evaluations (failed runs: all they spent) / successes (∞ without one)."""
    records = list(records)
    hits = [r["hit"] for r in records if r["hit"] is not None]
    spent = sum(r["evals"] for r in records)
    return CellStats(len(records), len(hits), float(np.median(hits)) if hits else None,
                     spent / len(hits) if hits else math.inf)


def ratio(a: float | None, b: float | None) -> float:
    """a / b; ∞ when only b is finite, nan when b is missing or infinite."""
    if b is None or not math.isfinite(b):
        return math.nan
    if a is None or not math.isfinite(a):
        return math.inf
    return a / b


def stats_by_cell(records: list[dict]) -> dict[tuple[int, int], dict[str, CellStats]]:
    """{(function, dim): {method: CellStats}}."""
    groups: dict[tuple[int, int], dict[str, list[dict]]] = {}
    for r in records:
        groups.setdefault((r["function"], r["dim"]), {}).setdefault(r["method"], []).append(r)
    return {cell: {m: cell_stats(rs) for m, rs in by.items()}
            for cell, by in sorted(groups.items())}


def table(cells: dict, methods: list[str]) -> str:
    """Markdown: per cell and method 'solved · median · ERT', then ratios to pycma."""
    others = [m for m in methods if m != "pycma"] if "pycma" in methods else []
    head = ["f", "d", *methods, *(f"{m}/pycma median · ERT" for m in others)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for (f, d), by in cells.items():
        row = [f"f{f}", str(d), *(by[m].text() for m in methods)]
        for m in others:
            row.append(f"{fmt_ratio(ratio(by[m].median, by['pycma'].median))} · "
                       f"{fmt_ratio(ratio(by[m].ert, by['pycma'].ert))}")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def core_summary(cells: dict, method: str) -> str:
    """Geometric mean and largest of method/pycma median ratios on f1, f2, f8, f10, f12."""
    picked = {c: by for c, by in cells.items() if c[0] in CORE}
    if not picked:
        return f"{method}/pycma median ratio on f1, f2, f8, f10, f12: no such cell in this run"
    ratios = {c: ratio(by[method].median, by["pycma"].median) for c, by in picked.items()}
    finite = {c: r for c, r in ratios.items() if math.isfinite(r)}
    runs = sum(by[method].runs for by in picked.values())
    unsolved = runs - sum(by[method].solved for by in picked.values())
    text = (f"{method}/pycma median ratio on f1, f2, f8, f10, f12 at d = "
            f"{', '.join(map(str, sorted({d for _, d in picked})))}: ")
    if finite:
        gmean = math.exp(np.mean(np.log(list(finite.values()))))
        worst = max(finite, key=finite.get)
        text += (f"geometric mean {gmean:.2f} over {len(finite)} of {len(ratios)} cells, "
                 f"largest {finite[worst]:.2f} (f{worst[0]}, d = {worst[1]})")
    else:
        text += "no cell where both solved a run"
    return text + f"; {method} runs unsolved: {unsolved} of {runs}"


#: Why relax needs more than twice pycma's ERT on a function, where it does (measured).
WHY_SLOWER = {
    7: "f7 (step ellipsoid) is piecewise constant: relax's `flat` rule ends a run when the "
       "best quarter of a population ties with the best in a third of the last n "
       "iterations, and BIPOP restarts it; a single run never solves it. Measured at "
       "d = 10 (15 instances, restarts): pycma's stricter flat rule (best = 75th "
       "percentile) took 18,140 median evaluations, relax without mirrored sampling "
       "14,475, the default 5,270; pycma's CMA-ES crosses the plateaus within one run.",
}


def ert_outliers(cells: dict, method: str, factor: float = 2.0) -> str:
    """The cells where method's ERT exceeds ``factor`` × pycma's (∞ when unsolved), with
    the measured reason where relax's is known (:data:`WHY_SLOWER`)."""
    bad = [(c, ratio(by[method].ert, by["pycma"].ert)) for c, by in cells.items()]
    bad = [(c, r) for c, r in bad if r > factor]
    if not bad:
        return f"cells where {method}'s ERT exceeds {factor:g}× pycma's: none"
    listed = ", ".join(f"f{f} d = {d} ({fmt_ratio(r)}×)" for (f, d), r in bad)
    why = [WHY_SLOWER[f] for f in sorted({f for (f, _), _ in bad})
           if method == "relax" and f in WHY_SLOWER]
    return (f"cells where {method}'s ERT exceeds {factor:g}× pycma's ({len(bad)}): {listed}"
            + "".join(f". {w}" for w in why))


def f15_summary(cells: dict, methods: list[str]) -> list[str]:
    """Solved counts on f15 per dimension, every method."""
    return [f"f15, d = {d}: " + ", ".join(f"{m} {by[m].solved}/{by[m].runs}" for m in methods)
            for (f, d), by in cells.items() if f == 15]


def summary(records: list[dict], cells: dict, methods: list[str]) -> list[str]:
    """The bullet lines under the table."""
    lines = []
    if "pycma" in methods:
        for m in (m for m in methods if m != "pycma"):
            lines += [core_summary(cells, m), ert_outliers(cells, m)]
    lines += f15_summary(cells, methods)
    errors = [r for r in records if r["stop"] == "error"]
    if errors:
        first = errors[0]
        lines.append(f"runs that raised: {len(errors)} (first: {first['method']} f"
                     f"{first['function']} d = {first['dim']} i{first['instance']}: "
                     f"{first['error']})")
    return lines


# ------------------------------------------------------------------ command line
def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="\n".join(__doc__.splitlines()[2:]))
    p.add_argument("--functions", type=id_list("functions"),
                   help=f"function ids, e.g. 1,8,10 or 1-24 (default {DEFAULTS['functions']})")
    p.add_argument("--dims", type=id_list("dims"),
                   help=f"dimensions among {DIMS} (default {DEFAULTS['dims']})")
    p.add_argument("--instances", type=id_list("instances"),
                   help=f"instance ids (default {DEFAULTS['instances']})")
    p.add_argument("--methods", type=name_list("methods", METHODS), default=list(METHODS),
                   help="comma-separated subset of relax,pycma,cmaes (default: all)")
    p.add_argument("--budget", type=int,
                   help=f"evaluations per dimension (default {DEFAULTS['budget']})")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--restarts-on", choices=("multimodal", "all", "none"), default="multimodal",
                   help="functions on which every method restarts (multimodal: f3, f4, f15-f24)")
    p.add_argument("--restart", choices=("bipop", "ipop"), default="bipop",
                   help="restart policy of every method")
    p.add_argument("--max-restarts", type=int, default=9,
                   help="restarts per run where restarts apply (BIPOP: large-regime ones)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                   help="worker processes (default: all CPUs)")
    p.add_argument("--results", help="markdown file whose BBOB section is written "
                   "(default benchmarks/RESULTS.md, none with --quick)")
    p.add_argument("--no-write", action="store_true", help="print only")
    p.add_argument("--raw", help="write the per-run records to this JSON file")
    p.add_argument("--from-raw", nargs="+", metavar="RAW",
                   help="run nothing: build the table from the records of earlier --raw files "
                        "(e.g. a grid run in parts); their commands are listed")
    p.add_argument("--quick", action="store_true",
                   help="tiny default grid for a smoke test: " + " ".join(
                       f"--{k} {v}" for k, v in QUICK.items()))
    return p


def resolve(args: argparse.Namespace, p: argparse.ArgumentParser) -> argparse.Namespace:
    """Fill the grid from the defaults (or the quick ones) and check it."""
    base = QUICK if args.quick else DEFAULTS
    for key in ("functions", "dims", "instances"):
        if getattr(args, key) is None:
            setattr(args, key, id_list(key)(base[key]))
    args.budget = base["budget"] if args.budget is None else args.budget
    if max(args.functions) > 24:
        p.error(f"--functions: bbob has functions 1-24; got {args.functions}")
    if set(args.dims) - set(DIMS):
        p.error(f"--dims: bbob defines d in {DIMS}; got {args.dims}")
    for key in ("budget", "jobs"):
        if getattr(args, key) < 1:
            p.error(f"--{key} must be at least 1; got {getattr(args, key)}")
    if args.max_restarts < 0:
        p.error(f"--max-restarts must be >= 0; got {args.max_restarts}")
    return args


def restarts_for(function: int, args: argparse.Namespace) -> int:
    """Restarts granted on ``function`` by ``--restarts-on``."""
    on = {"all": True, "none": False, "multimodal": function in MULTIMODAL}[args.restarts_on]
    return args.max_restarts if on else 0


def tasks_for(args: argparse.Namespace) -> list[Task]:
    """All runs, largest dimension first, methods interleaved within each problem."""
    return [Task(m, f, d, i, args.budget * d, restarts_for(f, args), args.restart, args.seed)
            for d in sorted(args.dims, reverse=True) for f in args.functions
            for i in args.instances for m in args.methods]


def check_relax_restarts(tasks: list[Task], p: argparse.ArgumentParser) -> None:
    """Fail early if relax must restart and this relax has no ``restarts`` option."""
    import relax

    if any(t.method == "relax" and t.restarts for t in tasks) and (
            "restarts" not in inspect.signature(relax.minimize).parameters):
        p.error("--restarts-on: relax.minimize in this checkout has no 'restarts' parameter; "
                "pass --restarts-on none, drop relax from --methods, or pick functions "
                "without restarts")


def report(records: list[dict], args: argparse.Namespace, argv: list[str]) -> str:
    """The RESULTS.md section: protocol, table, summary, provenance."""
    cells = stats_by_cell(records)
    lines = "".join(f"- {s}\n" for s in summary(records, cells, args.methods))
    return (f"{SECTION}\n\n"
            f"COCO bbob, instances {fmt_ids(args.instances)}, x0 ~ U[−4, 4]^d, σ0 = {SIGMA0:g}, "
            f"budget {args.budget:,}·d evaluations, target f − f_opt ≤ 1e-8; restarts "
            f"({args.restart.upper()}, at most {args.max_restarts}) on "
            f"{RESTARTS_ON[args.restarts_on]}. "
            "Each cell: solved/runs · median evaluations to target (solved runs) · ERT "
            "(evaluations of all runs / successes); evaluations counted by the harness.\n\n"
            + table(cells, args.methods) + "\n" + lines
            + provenance("bbob.py", argv, ["relax", "cma", "cmaes", "cocoex", "numpy"]))


def load_raw(paths: list[str]) -> tuple[list[dict], list[str]]:
    """The records of several ``--raw`` files and the command of each (as a string)."""
    records, commands = [], []
    for path in paths:
        data = json.loads(Path(path).read_text())
        records += data["records"]
        commands.append("python benchmarks/bbob.py " + " ".join(data["command"]))
    return records, commands


def fmt_ids(ids: list[int]) -> str:
    """[1, 2, 3, 7] → "1-3, 7"."""
    runs: list[list[int]] = []
    for i in ids:
        if runs and i == runs[-1][-1] + 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    p = parser()
    args = resolve(p.parse_args(argv), p)
    out = results_path(args.results, args.quick, args.no_write)
    if args.from_raw:
        records, commands = load_raw(args.from_raw)
        args.functions = sorted({r["function"] for r in records})
        args.instances = sorted({r["instance"] for r in records})
        argv = argv + [f"(records of: {'; '.join(commands)})"]
    else:
        tasks = tasks_for(args)
        check_relax_restarts(tasks, p)
        records = run_all(tasks, args.jobs)
    records = sorted(records, key=lambda r: (r["function"], r["dim"], r["instance"],
                                             r["method"]))
    text = report(records, args, argv)
    publish(text, SECTION, out, args.raw, {"command": argv, "records": records})


if __name__ == "__main__":
    main()
