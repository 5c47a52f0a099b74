"""Optimizer overhead: microseconds per evaluation spent in ask + tell, relax vs pycma vs cmaes.

f is a cheap numpy sphere and is *not* timed: each iteration times ``ask()`` and
``tell(X, f(X))`` only, and µs/evaluation = (time in ask + tell) / evaluations.  Methods:
relax's ``Optimizer`` on a full ``Gaussian``, ``cma.CMAEvolutionStrategy`` and
``cmaes.CMA`` (ask one point at a time, tell the list), each at its default population
size, started at x0 = 3·1 with σ0 = 2.  Every repetition builds fresh optimizers, runs
one untimed iteration, then times iterations until ``--evals`` evaluations; repetitions
go round-robin over the methods and dimensions so that a busy spell hits all of them,
and the table shows the best repetition with the median in brackets.

Also measured:

- peak memory of one iteration (``tracemalloc``, numpy's buffers included) at
  ``--memory-dim``, the largest over ``--memory-iterations`` iterations after a warm-up;
- ``relax.DiagonalGaussian`` at ``--diagonal-dim``: ask + tell time against the time to
  draw its sample alone, ``mu + sigma * rng.standard_normal((λ, n))`` with λ its
  population size (ratio of best times, median in brackets).

Usage::

    python benchmarks/overhead.py                  # d = 10, 100, 1000; writes RESULTS.md
    python benchmarks/overhead.py --quick          # small and fast, print only
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable

import numpy as np
from _common import (
    ask_tell_seconds,
    blas_info,
    fill_defaults,
    fmt_ratio,
    id_list,
    limit_threads,
    name_list,
    provenance,
    results_path,
    write_section,
)

SECTION = "## Optimizer overhead (relax vs pycma vs cmaes)"
METHODS = ("relax", "pycma", "cmaes")
X0, SIGMA0 = 3.0, 2.0
DEFAULTS = {"dims": "10,100,1000", "evals": 5000, "repeats": 5, "memory_dim": 1000,
            "memory_iterations": 3, "diagonal_dim": 10_000, "diagonal_repeats": 20}
QUICK = {"dims": "5,20", "evals": 200, "repeats": 2, "memory_dim": 50,
         "memory_iterations": 2, "diagonal_dim": 1000, "diagonal_repeats": 3}


def sphere(X) -> np.ndarray:
    """f(x) = Σ x_i², row-wise."""
    X = np.asarray(X)
    return np.einsum("ij,ij->i", X, X)


class RelaxAdapter:
    """relax.Optimizer on a full Gaussian N(x0, σ0² I)."""

    def __init__(self, dim: int, seed: int, model: str = "Gaussian"):
        import relax

        cls = getattr(relax, model)
        self.opt = relax.Optimizer(cls(np.full(dim, X0), SIGMA0**2), seed=seed)

    def ask(self):
        return self.opt.ask()

    def tell(self, X, fX) -> None:
        self.opt.tell(X, fX)


class PycmaAdapter:
    """cma.CMAEvolutionStrategy with output off; pycma draws a random seed for 0,
    so it gets seed + 1."""

    def __init__(self, dim: int, seed: int):
        import cma

        self.es = cma.CMAEvolutionStrategy(np.full(dim, X0), SIGMA0, {
            "seed": seed + 1, "verbose": -9, "verb_disp": 0, "verb_log": 0})

    def ask(self):
        return self.es.ask()

    def tell(self, X, fX) -> None:
        self.es.tell(X, list(fX))


class CmaesAdapter:
    """cmaes.CMA: ``ask`` draws one point per call, ``tell`` takes (x, f) pairs."""

    def __init__(self, dim: int, seed: int):
        import cmaes

        self.es = cmaes.CMA(mean=np.full(dim, X0), sigma=SIGMA0, seed=seed)

    def ask(self):
        return [self.es.ask() for _ in range(self.es.population_size)]

    def tell(self, X, fX) -> None:
        self.es.tell(list(zip(X, fX, strict=True)))


ADAPTERS: dict[str, Callable] = {"relax": RelaxAdapter, "pycma": PycmaAdapter,
                                 "cmaes": CmaesAdapter}


def us_per_eval(opt, evals: int) -> float:
    """Microseconds in ask + tell per evaluation over iterations totalling ≥ ``evals``
    evaluations (f excluded), after one untimed iteration."""
    X = opt.ask()
    opt.tell(X, sphere(X))
    spent, done = 0.0, 0
    while done < evals:
        ask, tell, size = ask_tell_seconds(opt, sphere)
        spent += ask + tell
        done += size
    return 1e6 * spent / done


def overhead(methods: list[str], dims: list[int], evals: int, repeats: int,
             seed: int) -> dict[tuple[str, int], list[float]]:
    """{(method, d): µs/evaluation of each repetition}, methods and dims round-robin."""
    out: dict[tuple[str, int], list[float]] = {(m, d): [] for m in methods for d in dims}
    for rep in range(repeats):
        for d in dims:
            for m in methods:
                out[m, d].append(us_per_eval(ADAPTERS[m](d, seed + rep), evals))
        print(f"repetition {rep + 1}/{repeats} done", file=sys.stderr, flush=True)
    return out


def peak_iteration_mb(opt, iterations: int) -> float:
    """Largest tracemalloc peak (MiB above the memory held before it) of one ask + f +
    tell iteration, over ``iterations`` iterations after one untraced warm-up."""
    X = opt.ask()
    opt.tell(X, sphere(X))
    tracemalloc.start()
    try:
        worst = 0
        for _ in range(iterations):
            tracemalloc.reset_peak()
            before = tracemalloc.get_traced_memory()[0]
            X = opt.ask()
            opt.tell(X, sphere(X))
            worst = max(worst, tracemalloc.get_traced_memory()[1] - before)
    finally:
        tracemalloc.stop()
    return worst / 2**20


def diagonal_vs_draw(dim: int, repeats: int, seed: int) -> tuple[int, list[float], list[float]]:
    """λ, then the seconds of each relax.DiagonalGaussian ask + tell (f excluded) and of
    each draw of the same sample, μ + σ ⊙ N(0, I) of shape (λ, n), interleaved."""
    opt = RelaxAdapter(dim, seed, "DiagonalGaussian")
    X = opt.ask()
    opt.tell(X, sphere(X))
    lam = len(X)
    rng = np.random.default_rng(seed)
    mu, sigma = np.full(dim, X0), np.full(dim, SIGMA0)
    step, draw = [], []
    for _ in range(repeats):
        ask, tell, _ = ask_tell_seconds(opt, sphere)
        step.append(ask + tell)
        t0 = time.perf_counter()
        _ = mu + sigma * rng.standard_normal((lam, dim))
        draw.append(time.perf_counter() - t0)
    return lam, step, draw


def best_median(values: list[float], unit: str = "") -> str:
    """"best (median)" with 1–3 significant decimals."""
    def f(x: float) -> str:
        return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"
    return f"{f(min(values))}{unit} ({f(statistics.median(values))})"


def overhead_table(times: dict, methods: list[str], dims: list[int]) -> str:
    """Markdown: µs/evaluation per method and d, and ratios of the best to pycma's."""
    others = [m for m in methods if m != "pycma"] if "pycma" in methods else []
    head = ["d", *(f"{m} µs/eval" for m in methods), *(f"{m}/pycma" for m in others)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for d in dims:
        row = [str(d), *(best_median(times[m, d]) for m in methods)]
        row += [fmt_ratio(min(times[m, d]) / min(times["pycma", d])) for m in others]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="\n".join(__doc__.splitlines()[2:]))
    p.add_argument("--dims", type=id_list("dims"), help=f"default {DEFAULTS['dims']}")
    p.add_argument("--methods", type=name_list("methods", METHODS), default=list(METHODS))
    p.add_argument("--evals", type=int, help="evaluations timed per repetition "
                   f"(default {DEFAULTS['evals']})")
    p.add_argument("--repeats", type=int, help=f"default {DEFAULTS['repeats']}")
    p.add_argument("--memory-dim", type=int, help=f"default {DEFAULTS['memory_dim']}")
    p.add_argument("--memory-iterations", type=int,
                   help=f"default {DEFAULTS['memory_iterations']}")
    p.add_argument("--diagonal-dim", type=int, help=f"default {DEFAULTS['diagonal_dim']}")
    p.add_argument("--diagonal-repeats", type=int,
                   help=f"default {DEFAULTS['diagonal_repeats']}")
    p.add_argument("--blas-threads", type=int,
                   help="pin BLAS/OpenMP pools to this many threads (default: as installed)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--results", help="markdown file whose section is written "
                   "(default benchmarks/RESULTS.md, none with --quick)")
    p.add_argument("--no-write", action="store_true", help="print only")
    p.add_argument("--quick", action="store_true", help="small sizes for a smoke test")
    return p


def resolve(args: argparse.Namespace, p: argparse.ArgumentParser) -> argparse.Namespace:
    """Fill unset sizes from the defaults (or the quick ones) and check them."""
    fill_defaults(args, QUICK if args.quick else DEFAULTS)
    for key in ("evals", "repeats", "memory_dim", "memory_iterations", "diagonal_dim",
                "diagonal_repeats"):
        if getattr(args, key) < 1:
            p.error(f"--{key.replace('_', '-')} must be at least 1; got {getattr(args, key)}")
    if args.blas_threads is not None and args.blas_threads < 1:
        p.error(f"--blas-threads must be at least 1; got {args.blas_threads}")
    return args


def report(args: argparse.Namespace, argv: list[str]) -> str:
    """Measure everything and return the RESULTS.md section."""
    times = overhead(args.methods, args.dims, args.evals, args.repeats, args.seed)
    memory = {m: peak_iteration_mb(ADAPTERS[m](args.memory_dim, args.seed),
                                   args.memory_iterations) for m in args.methods}
    lam, step, draw = diagonal_vs_draw(args.diagonal_dim, args.diagonal_repeats, args.seed)
    ratio = [s / d for s, d in zip(step, draw, strict=True)]
    mem = ", ".join(f"{m} {memory[m]:,.1f} MiB" for m in args.methods)
    return (f"{SECTION}\n\n"
            "Microseconds per evaluation spent in ask + tell (f, a numpy sphere, excluded), "
            f"default population sizes, x0 = {X0:g}·1, σ0 = {SIGMA0:g}; best of "
            f"{args.repeats} round-robin repetitions of ≥ {args.evals:,} evaluations each "
            "(median in brackets).\n\n"
            + overhead_table(times, args.methods, args.dims) + "\n"
            f"- peak memory of one iteration at d = {args.memory_dim:,} (tracemalloc, largest "
            f"of {args.memory_iterations}): {mem}\n"
            f"- relax.DiagonalGaussian at d = {args.diagonal_dim:,}, λ = {lam}: ask + tell "
            f"{best_median([1e3 * t for t in step], ' ms')}, drawing the sample "
            f"{best_median([1e3 * t for t in draw], ' ms')}; ratio of the best "
            f"{min(step) / min(draw):.2f} (median of per-repetition ratios "
            f"{statistics.median(ratio):.2f})\n"
            f"- BLAS: {blas_info()}\n"
            + provenance("overhead.py", argv, ["relax", "cma", "cmaes", "numpy"]))


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    p = parser()
    args = resolve(p.parse_args(argv), p)
    out = results_path(args.results, args.quick, args.no_write)
    if args.blas_threads is not None:
        limit_threads(args.blas_threads)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        text = report(args, argv)
    print("\n" + text)
    if out is not None:
        write_section(out, SECTION, text)
        print(f"wrote the section {SECTION!r} of {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
