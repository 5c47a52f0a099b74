"""Time of one iteration (ask + tell, f excluded) of relax's binary models at their defaults.

Issue 14 asks for one iteration of the Ising model on a 16 × 16 torus (n = 256) within
50 ms.  The script times ``opt.ask()`` and ``opt.tell(X, fX)`` of an ``Optimizer`` on the
ferromagnetic torus (the model on the problem's own graph: k = 768 statistics, λ = 384
samples, 20 sweeps with one Swendsen–Wang update, the shrunk Fisher solved once) and, for
scale, of the independence model at n = 256.  Each model first runs ``--warmup``
iterations (numba compiles, the chains anneal), then ``--iterations`` timed ones; the
table gives the median and the best, with the share of the Gibbs/cluster sweeps.

Usage::

    python benchmarks/binary_iteration.py            # prints and writes its RESULTS.md section
    python benchmarks/binary_iteration.py --no-write
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import (  # noqa: E402
    ask_tell_seconds,
    limit_threads,
    provenance,
    results_path,
    write_section,
)

SECTION = "## One iteration of the binary models"
TARGET_MS = 50.0


def timed_iterations(opt, f, warmup: int, iterations: int) -> tuple[list[float], list[float]]:
    """Wall times of ask+tell (ms), and of ask alone (the sampling), per timed iteration."""
    total, asks = [], []
    for i in range(warmup + iterations):
        ask, tell, _ = ask_tell_seconds(opt, f)
        if i >= warmup:
            total.append(1e3 * (ask + tell))
            asks.append(1e3 * ask)
    return total, asks


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--side", type=int, default=16, help="torus side L (n = L²)")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--iterations", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--results", default=None)
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)
    limit_threads(1)
    import relax
    import relax.problems as rp

    problem = rp.ising_torus(args.side * args.side)
    n = problem.dim
    rows = []
    for name, model in (("Ising, torus graph", relax.Ising(n, problem.interactions)),
                        ("Bernoulli", relax.Bernoulli(n))):
        opt = relax.Optimizer(model, seed=args.seed)
        total, asks = timed_iterations(opt, problem.f, args.warmup, args.iterations)
        rows.append((name, model.k, opt.popsize, statistics.median(total), min(total),
                     statistics.median(asks)))
    lines = ["| model | k | λ | median ms / iteration | best ms | of which sampling (median) |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {name} | {k} | {lam} | {med:.1f} | {best:.1f} | {ask:.1f} |"
              for name, k, lam, med, best, ask in rows]
    ising = rows[0][3]
    verdict = "met" if ising <= TARGET_MS else "NOT met"
    text = (f"{SECTION}\n\nask + tell at the defaults on the ferromagnetic {args.side} × "
            f"{args.side} torus (n = {n}), f excluded, one BLAS thread, after {args.warmup} "
            f"warm-up iterations; {args.iterations} timed iterations.\n\n"
            + "\n".join(lines)
            + f"\n\n- target: one Ising iteration within {TARGET_MS:g} ms: {verdict} "
              f"(median {ising:.1f} ms)\n"
            + provenance("binary_iteration.py", sys.argv[1:] if argv is None else argv,
                         ["relax", "numpy", "numba"]))
    print(text)
    out = results_path(args.results, False, args.no_write)
    if out is not None:
        write_section(out, SECTION, text)


if __name__ == "__main__":
    main()
