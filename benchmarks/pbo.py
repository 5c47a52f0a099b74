"""relax against textbook EAs/EDAs and nevergrad on IOH PBO and on ±J spin glasses.

Problems
    IOH PBO F1–F25 (``ioh``, instance 1: no transformation) at n = 64, 100, 256; relax
    minimizes −f on x ∈ {−1,+1}^n, the suite sees z = (1 + x)/2 ∈ {0,1}^n; the target is
    ioh's ``optimum.y``.  Cells a problem does not define are skipped and listed: F18
    (LABS) and F25 (NK landscapes) have no known optimum in ioh; F20, F21 and F23 need
    n = L²; F24 (concatenated trap) states a wrong optimum when 5 ∤ n (its remainder block
    is read from index m(k − 1), so the all-ones string it reports is not the maximum).
    ±J spin glasses on L × L tori (L = 10, 16, 20) with ground states proved by a MILP
    (:mod:`spinglass`, cached in ``benchmarks/data``); the target is the ground energy.
Methods
    relax Bernoulli; relax Ising on the problem's own interaction graph where there is one
    (F19 IsingRing: the cycle; F20 IsingTorus: the torus; F21 IsingTriangular: the torus
    with the (r, c)–(r+1, c+1) diagonals, as ioh's code defines them; spin glasses: the
    torus), all at relax's default settings; the textbook (1+1)-EA, UMDA, PBIL and cGA of
    :mod:`peers_binary`; nevergrad's DiscreteOnePlusOne, PortfolioDiscreteOnePlusOne and
    NGOpt on ``ng.p.TransitionChoice([0, 1], repetitions=n, ordered=False)`` (nevergrad's
    documentation recommends TransitionChoice for discrete variables; its softmax
    ``Choice`` draws a random bit string per candidate, with which the three optimizers
    solved OneMax at n = 64 in 0/3 runs of 20,000 evaluations, measured); the initial
    bit string is drawn uniformly, as every other method starts.
Measure
    Every method sees the same counted f (:class:`_common.BatchObjective`): a run ends at the
    first evaluation that reaches the target or when the budget is spent, and that
    evaluation's index is its runtime.  Per cell: solved/runs, ERT = (evaluations of all
    runs, a failed run counting its full budget) / successes, the median runtime (failures
    count as ∞), the best peer (least ERT among the textbook and nevergrad methods) and
    relax's ERT divided by it.

Usage::

    python benchmarks/pbo.py                                  # the full grid, all CPUs
    python benchmarks/pbo.py --functions 1,2,20 --dims 64 --seeds 3 --spinglass ''
    python benchmarks/pbo.py --quick                          # a few seconds per method
"""

from __future__ import annotations

import argparse
import importlib.metadata
import inspect
import json
import math
import os
import re
import shlex
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

import _common  # noqa: E402
import peers_binary  # noqa: E402
import spinglass  # noqa: E402

SECTION = "## PBO and spin glasses (relax vs textbook EAs vs nevergrad)"
NEVERGRAD = {"ng-dopo": "DiscreteOnePlusOne", "ng-portfolio": "PortfolioDiscreteOnePlusOne",
             "ng-ngopt": "NGOpt"}
TEXTBOOK = {"ea": "(1+1)-EA", "ea0": "(1+1)-EA>0", "umda": "UMDA", "pbil": "PBIL",
            "cga": "cGA"}
#: The issue's textbook anchors; the (1+1)-EA>0 (no evaluation spent on unmutated copies,
#: Carvalho Pinto & Doerr 2018, as the IOHprofiler baselines run it) is a stronger peer.
ANCHORS = ("ea", "umda", "pbil", "cga")
RELAX = {"relax-bernoulli": "relax Bernoulli", "relax-ising": "relax Ising"}
LABELS = {**RELAX, **TEXTBOOK, **{k: f"ng {v}" for k, v in NEVERGRAD.items()}}
METHODS = tuple(LABELS)
PEERS = tuple(k for k in METHODS if k not in RELAX)
QUICK = {"functions": "1,20", "dims": "36", "seeds": 2, "budget": 500, "spinglass": "6"}


# --------------------------------------------------------------------------- problems
@dataclass(frozen=True)
class Spec:
    """A problem, described so that a worker process can build it: ``kind`` is "pbo"
    (``key`` = function id) or "spinglass" (``key`` = L, ``instance`` = coupling seed)."""

    kind: str
    key: int
    n: int
    instance: int = 1


@dataclass(frozen=True)
class Problem:
    """f to minimize on {−1,+1}^n (vectorized), its target and interaction graph."""

    name: str
    n: int
    f: Callable[[np.ndarray], np.ndarray]
    optimum: float                          # in the problem's own sense (PBO: maximum)
    target: float                           # f ≤ target counts as solved
    interactions: list | None


def ising_graph(fid: int, n: int) -> list[tuple[int, int]] | None:
    """The interaction graph of ioh's F19–F21 on {0,1}^n (None for the other functions).

    IsingRing sums over the pairs (i − 1, i) mod n; IsingTorus, on the L × L lattice with
    vertex (r, c) = rL + c, over (r, c)–(r+1, c) and (r, c)–(r, c+1) mod L; IsingTriangular
    adds (r, c)–(r+1, c+1) mod L.  Each term counts agreeing neighbours,
    z_i z_j + (1 − z_i)(1 − z_j) = (1 + x_i x_j)/2, so −f is in the span of these x_i x_j.
    """
    from relax import graphs

    if fid == 19:
        return graphs.cycle(n).edges
    if fid not in (20, 21):
        return None
    L = math.isqrt(n)
    edges = set(graphs.torus(L).edges)
    if fid == 21:
        for r in range(L):
            for c in range(L):
                a, b = r * L + c, ((r + 1) % L) * L + (c + 1) % L
                edges.add((min(a, b), max(a, b)))
    return sorted(edges)


def undefined(fid: int, n: int) -> str | None:
    """Why PBO function ``fid`` has no benchmark cell at dimension n (None if it has one)."""
    if not 1 <= fid <= 25:
        raise ValueError(f"--functions takes PBO ids 1..25; got {fid}")
    if fid in (18, 25):
        return "ioh gives no optimum (optimum.y = inf)"
    L = math.isqrt(n)
    if fid in (20, 21, 23) and (L * L != n or L < 3):
        return "needs n = L*L with L >= 3"
    if fid == 24 and n % 5:
        return "ioh's optimum is not the maximum when 5 does not divide n"
    return None


def pbo_problem(fid: int, n: int) -> Problem:
    """IOH PBO function ``fid``, instance 1, as minimization of −f on {−1,+1}^n."""
    import ioh

    problem = ioh.get_problem(fid, instance=1, dimension=n, problem_class=ioh.ProblemClass.PBO)
    y = float(problem.optimum.y)

    def f(X: np.ndarray) -> np.ndarray:
        return -np.asarray(problem(((X + 1.0) / 2.0).astype(np.int64)), dtype=np.float64)

    return Problem(problem.meta_data.name, n, f, y, -y + 1e-9 * max(1.0, abs(y)),
                   ising_graph(fid, n))


def spinglass_problem(L: int, seed: int) -> Problem:
    """The cached ±J instance on the L × L torus (solved and cached first if missing)."""
    if not spinglass.path(L, seed).exists():
        proof = spinglass.solve_and_store(L, seed)
        if not proof.proved:
            raise RuntimeError(f"HiGHS did not prove the L={L} ground state: {proof.message}")
    inst = spinglass.load_instance(L, seed)
    return Problem(f"±J spin glass {L}×{L}", inst.n, inst, inst.energy,
                   inst.energy + 1e-9 * max(1.0, abs(inst.energy)), inst.interactions)


def build(spec: Spec) -> Problem:
    if spec.kind == "pbo":
        return pbo_problem(spec.key, spec.n)
    return spinglass_problem(spec.key, spec.instance)


# ---------------------------------------------------------------------------- methods
def relax_options(restarts: int, restart: str) -> dict:
    """``restarts``/``restart`` for relax.minimize, only if this relax accepts them."""
    import relax

    params = inspect.signature(relax.minimize).parameters
    return {k: v for k, v in (("restarts", restarts), ("restart", restart)) if k in params}


def run_relax(method: str, prob: Problem, budget: int, seed: int,
              options: dict) -> tuple[peers_binary.Outcome, str]:
    """relax.minimize at its defaults on Bernoulli(n) or Ising(n, graph)."""
    import relax

    model = (relax.Bernoulli(prob.n) if method == "relax-bernoulli"
             else relax.Ising(prob.n, prob.interactions))
    obj = _common.BatchObjective(prob.f, fopt=prob.target, budget=budget, delta=0.0)
    try:
        res = relax.minimize(obj.batch, model, maxfev=budget, target=prob.target, seed=seed,
                             vectorized=True, **options)
    except _common.Stop:
        return peers_binary.outcome(obj), ""
    return peers_binary.outcome(obj), "" if obj.count >= budget else str(res.message)


def run_nevergrad(method: str, prob: Problem, budget: int, seed: int) -> peers_binary.Outcome:
    """One nevergrad optimizer, ask/tell, one candidate at a time, from a uniformly drawn
    initial bit string (nevergrad otherwise starts at the all-zeros string, an optimum of
    the Ising problems)."""
    import nevergrad as ng

    param = ng.p.TransitionChoice([0, 1], repetitions=prob.n, ordered=False)
    param.random_state = np.random.RandomState(seed)
    param.value = tuple(param.random_state.randint(0, 2, prob.n).tolist())
    opt = ng.optimizers.registry[NEVERGRAD[method]](parametrization=param, budget=budget,
                                                     num_workers=1)

    def loop(ev: peers_binary.Objective) -> None:
        while True:
            cand = opt.ask()
            x = 2.0 * np.asarray(cand.value, dtype=np.float64) - 1.0
            opt.tell(cand, float(ev(x)[0]))

    return peers_binary.run(loop, prob.f, budget, prob.target)


def run_one(spec: Spec, method: str, seed: int, budget: int, options: dict) -> dict:
    """One run of one method on one problem; a JSON-ready record."""
    prob = build(spec)
    note = ""
    if method in RELAX:
        out, note = run_relax(method, prob, budget, seed, options)
    elif method in NEVERGRAD:
        out = run_nevergrad(method, prob, budget, seed)
    else:
        algorithm = peers_binary.TEXTBOOK[TEXTBOOK[method]]
        out = algorithm(prob.f, prob.n, budget, prob.target, np.random.default_rng(seed))
    end = "target" if out.hit else "budget" if out.nfev >= budget else f"stopped: {note}"
    return {"problem": prob.name, "n": prob.n, "optimum": prob.optimum, "method": method,
            "seed": seed, "hit": out.hit, "nfev": out.nfev, "best": out.best, "end": end,
            "spec": asdict(spec)}


def _init_worker() -> None:
    """One thread per worker (numba), no library chatter."""
    warnings.filterwarnings("ignore")
    import numba

    numba.set_num_threads(1)


# ------------------------------------------------------------------------------- grid
def ids_or_none(name: str) -> Callable[[str], list[int]]:
    """An argparse ``type=``: ``1,3,5-8`` as :func:`_common.parse_ids`, or '' for none."""
    return lambda text: _common.parse_ids(text, name) if text.strip() else []


def grid(fids: Iterable[int], dims: Iterable[int], sides: Iterable[int],
         instance: int) -> tuple[list[Spec], list[dict]]:
    """The problems to run and the cells skipped (with the reason)."""
    specs, skipped = [], []
    for fid in fids:
        for n in dims:
            reason = undefined(fid, n)
            if reason:
                skipped.append({"function": fid, "n": n, "reason": reason})
            else:
                specs.append(Spec("pbo", fid, n))
    for L in sides:
        specs.append(Spec("spinglass", spinglass.check_side(L), L * L, instance))
    return specs, skipped


def applicable(spec: Spec, method: str) -> bool:
    """relax Ising only where the problem has its own interaction graph."""
    return method != "relax-ising" or spec.kind == "spinglass" or spec.key in (19, 20, 21)


def run_grid(specs: list[Spec], methods: list[str], seeds: int, budget: int, jobs: int,
             options: dict) -> list[dict]:
    """Every (problem, method, seed), on a process pool of ``jobs`` workers."""
    tasks = [(s, m, seed) for s in sorted(specs, key=lambda s: -s.n) for m in methods
             for seed in range(1, seeds + 1) if applicable(s, m)]
    records = []

    def report(rec: dict) -> None:
        records.append(rec)
        print(f"[{len(records)}/{len(tasks)}] {rec['problem']} n={rec['n']} {rec['method']} "
              f"seed {rec['seed']}: {rec['end']} after {rec['nfev']}", file=sys.stderr)

    if jobs == 1:
        _init_worker()
        for s, m, seed in tasks:
            report(run_one(s, m, seed, budget, options))
        return records
    with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker) as pool:
        futures = [pool.submit(run_one, s, m, seed, budget, options) for s, m, seed in tasks]
        for fut in as_completed(futures):
            report(fut.result())
    return records


# ------------------------------------------------------------------------------ table
@dataclass(frozen=True)
class Cell:
    """Solved/runs, ERT and median runtime of one method on one problem."""

    solved: int
    runs: int
    ert: float
    median: float

    @classmethod
    def of(cls, hits: list[int | None], budget: int) -> Cell:
        ok = [h for h in hits if h is not None]
        spent = sum(ok) + (len(hits) - len(ok)) * budget
        runtimes = sorted(h if h is not None else math.inf for h in hits)
        m = len(runtimes)
        median = (runtimes[m // 2] if m % 2 else (runtimes[m // 2 - 1] + runtimes[m // 2]) / 2)
        return cls(len(ok), len(hits), spent / len(ok) if ok else math.inf, median)

    def text(self) -> str:
        return f"{self.solved}/{self.runs} · {_num(self.ert)} · {_num(self.median)}"


def _num(v: float) -> str:
    return "∞" if math.isinf(v) else _common.fmt_int(v)


def _ratio(a: float, b: float) -> str:
    if math.isinf(a) and math.isinf(b):
        return "—"
    if math.isinf(b):
        return "0 (peers fail)"
    return "∞" if math.isinf(a) else f"{a / b:.2f}×"


def best_peer(cells: dict[str, Cell], among: tuple[str, ...] = PEERS) -> str | None:
    """The method of ``among`` with the least ERT (more successes break ties); None if all
    failed."""
    peers = [(c.ert, -c.solved, m) for m, c in cells.items() if m in among]
    return min(peers)[2] if peers and not math.isinf(min(peers)[0]) else None


def table(records: list[dict], methods: list[str], budget: int) -> list[str]:
    """Markdown rows: one per problem and n, one column per method, then the ratios."""
    keys = sorted({(r["spec"]["kind"], r["spec"]["key"], r["n"], r["problem"], r["optimum"])
                   for r in records}, key=lambda k: (k[0] != "pbo", k[1], k[2]))
    relax_cols = [m for m in methods if m in RELAX]
    head = (["problem", "n", "optimum"] + [LABELS[m] for m in methods]
            + ["best textbook anchor", "best peer"]
            + [f"{LABELS[m]} ÷ {which}" for m in relax_cols for which in ("anchor", "peer")])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for kind, key, n, name, optimum in keys:
        runs = [r for r in records if (r["spec"]["kind"], r["spec"]["key"], r["n"]) ==
                (kind, key, n)]
        cells = {m: Cell.of([r["hit"] for r in runs if r["method"] == m], budget)
                 for m in methods if any(r["method"] == m for r in runs)}
        anchor, peer = best_peer(cells, ANCHORS), best_peer(cells)
        label = f"F{key} {name}" if kind == "pbo" else name
        row = [label, str(n), f"{optimum:g}"]
        row += [cells[m].text() if m in cells else "—" for m in methods]
        row += [LABELS[anchor] if anchor else "none solved", LABELS[peer] if peer else
                "none solved"]
        for m in relax_cols:
            for best in (anchor, peer):
                row.append("—" if m not in cells else
                           _ratio(cells[m].ert, cells[best].ert if best else math.inf))
        lines.append("| " + " | ".join(row) + " |")
    return lines


def self_stops(records: list[dict]) -> list[str]:
    """Notes on relax runs that ended by their own rules with budget left."""
    notes = []
    for m in RELAX:
        stopped = [r for r in records if r["method"] == m and r["end"].startswith("stopped")]
        failed = [r for r in records if r["method"] == m and r["hit"] is None]
        if failed:
            reasons = sorted({re.sub(r"[-\d.e+]+", "#", r["end"][9:]) for r in stopped})
            notes.append(f"{LABELS[m]}: {len(stopped)} of {len(failed)} failed runs ended by "
                         f"relax's own stopping rules before the budget"
                         + (f" ({'; '.join(reasons)})" if reasons else ""))
    return notes


# ---------------------------------------------------------------------------- output
MODULES = ("relax", "numpy", "scipy", "nevergrad", "numba")


def source_state() -> str:
    """The git commit of the checkout and whether relax/ differs from it, read before the
    runs start (the workers run the relax that was imported then)."""
    root = Path(__file__).resolve().parent.parent

    def git(*cmd: str) -> str:
        return subprocess.run(["git", *cmd], cwd=root, capture_output=True, text=True,
                              check=True).stdout.strip()

    try:
        commit, changed = git("rev-parse", "--short", "HEAD"), git("status", "--porcelain",
                                                                   "--", "relax")
    except (OSError, subprocess.CalledProcessError):
        return "git commit unknown"
    return f"git {commit}" + (" with uncommitted changes in relax/" if changed else "")


def provenance(argv: list[str], source: str) -> str:
    """Command, machine, versions (ioh has no ``__version__``: read from its metadata),
    date, and the source state of relax."""
    try:
        ioh = f"ioh {importlib.metadata.version('ioh')}"
    except importlib.metadata.PackageNotFoundError:
        ioh = "ioh not installed"
    lines = _common.provenance("pbo.py", [shlex.quote(a) for a in argv], MODULES)
    return lines.replace("- versions: ", f"- versions: {source}, {ioh}, ")


def section(records: list[dict], skipped: list[dict], methods: list[str],
            args: argparse.Namespace, options: dict) -> str:
    """The markdown section: legend, table, provenance and notes."""
    out = [SECTION, "",
           f"Evaluations to reach the optimum, {args.seeds} seeds per cell, budget "
           f"{args.budget:,} evaluations per run. Each cell: solved/runs · ERT · median "
           "runtime (ERT = evaluations of all runs, a failed run counting its full budget, "
           "divided by the successes; the median counts failures as ∞). Best peer: least "
           "ERT among the textbook and nevergrad methods; a ratio below 1 means relax "
           "needed fewer evaluations.", ""]
    out += table(records, methods, args.budget)
    relax_setting = (f"plus {', '.join(f'{k}={v!r}' for k, v in options.items())}"
                     if options else "(this relax.minimize takes no restarts)")
    out += ["", provenance(args.argv, args.source).rstrip("\n"),
            f"- relax: default settings {relax_setting}; minimizes −f on x ∈ {{−1,+1}}^n, "
            "z = (1 + x)/2; relax Ising on the problem's own graph (F19 cycle, F20 torus, "
            "F21 torus + diagonals, spin glasses torus).",
            "- peers: `benchmarks/peers_binary.py` ((1+1)-EA with standard bit mutation, "
            "rate 1/n, evaluating unmutated copies as the textbook does; (1+1)-EA>0 redraws "
            "them; UMDA μ = ⌈3 ln n⌉, λ = 4μ, PBIL λ = 10, ρ = 0.1, cGA K = ⌈√n ln n⌉, margins "
            "[1/n, 1 − 1/n]); nevergrad on TransitionChoice([0, 1], repetitions=n, "
            "ordered=False) from a uniformly drawn start, one candidate per ask/tell.",
            f"- spin glasses: ±J couplings from seed {args.spinglass_seed}, ground energies "
            "proved by `benchmarks/spinglass.py` (scipy.optimize.milp/HiGHS, zero gap), "
            "cached in `benchmarks/data/`."]
    out += [f"- {note}" for note in self_stops(records)]
    if skipped:
        out.append("- not run: " + "; ".join(
            f"F{s['function']} n={s['n']} ({s['reason']})" for s in skipped))
    return "\n".join(out) + "\n"


# -------------------------------------------------------------------------------- CLI
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--functions", type=ids_or_none("functions"), default="1-25",
                   help="PBO ids, e.g. 1,2,19-21 ('' = none)")
    p.add_argument("--dims", type=ids_or_none("dims"), default="64,100,256",
                   help="PBO dimensions, e.g. 64,256")
    p.add_argument("--seeds", type=int, default=5, help="runs per method and problem")
    p.add_argument("--methods", type=_common.name_list("methods", METHODS),
                   default=",".join(METHODS), help=", ".join(METHODS))
    p.add_argument("--budget", type=int, default=100_000, help="evaluations per run")
    p.add_argument("--spinglass", type=ids_or_none("spinglass"), default="10,16,20",
                   help="torus sides L of the spin glasses ('' = none)")
    p.add_argument("--spinglass-seed", type=int, default=1, help="coupling seed of each L")
    p.add_argument("--restarts", type=int, default=100,
                   help="relax restarts, passed only if relax.minimize accepts them")
    p.add_argument("--restart", default="ipop", choices=["ipop", "bipop"],
                   help="relax restart rule, passed only if relax.minimize accepts it")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes")
    p.add_argument("--quick", action="store_true",
                   help="smoke run (" + " ".join(f"--{k} {v}" for k, v in QUICK.items())
                   + ", each overridable); writes no file unless --results/--raw are given")
    p.add_argument("--results", default=None,
                   help=f"markdown file whose PBO section is replaced (default "
                        f"{_common.RESULTS}, none with --quick)")
    p.add_argument("--raw", type=Path, default=None, help="JSON file for every run")
    p.add_argument("--from-raw", type=Path, nargs="+", metavar="RAW",
                   help="run nothing: one table from the runs of earlier --raw files (a grid "
                        "run in parts, e.g. nevergrad on a subset); their commands are listed")
    given = sys.argv[1:] if argv is None else list(argv)
    quick = [a for k, v in QUICK.items() for a in (f"--{k}", str(v))] if "--quick" in given else []
    args = p.parse_args(quick + given)         # options given with --quick override it
    for name in ("seeds", "budget", "jobs"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be a positive integer; got {getattr(args, name)}")
    args.results = _common.results_path(args.results, args.quick, no_write=False)
    args.argv = given
    return args


def merge_raw(args: argparse.Namespace) -> int:
    """The section from the runs of several ``--raw`` files (``--from-raw``)."""
    parts = [json.loads(path.read_text()) for path in args.from_raw]
    records = [r for part in parts for r in part["runs"]]
    skipped = list({(s["function"], s["n"]): s for part in parts
                    for s in part["skipped"]}.values())
    methods = [m for m in METHODS if any(r["method"] == m for r in records)]
    args.budget = max(part["budget"] for part in parts)
    args.argv = args.argv + ["(runs of: " + "; ".join(
        "python benchmarks/pbo.py " + " ".join(map(shlex.quote, part["argv"]))
        for part in parts) + ")"]
    args.source = "the source states of those runs"
    text = section(records, skipped, methods, args, parts[0]["relax_options"])
    print(text)
    if args.results is not None:
        _common.write_section(args.results, SECTION, text)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.from_raw:
        return merge_raw(args)
    specs, skipped = grid(args.functions, args.dims, args.spinglass, args.spinglass_seed)
    if not specs:
        raise SystemExit("nothing to run: no spin glass and every requested PBO cell is "
                         f"undefined ({skipped})")
    options = relax_options(args.restarts, args.restart)
    args.source = source_state()
    records = run_grid(specs, args.methods, args.seeds, args.budget, args.jobs, options)
    text = section(records, skipped, args.methods, args, options)
    print(text)
    if args.results is not None:
        _common.write_section(args.results, SECTION, text)
    if args.raw is not None:
        args.raw.write_text(json.dumps({"argv": args.argv, "budget": args.budget,
                                        "relax_options": options, "skipped": skipped,
                                        "runs": records}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
