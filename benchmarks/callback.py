"""Cost of observing a run: ``minimize`` with a no-op callback against the same run without.

The callback receives ``opt.result()`` every iteration: the history arrives as views of the
optimizer's growable arrays and the model is built in O(n²), so observing a run costs O(1)
per iteration in its length (issue 16 asks for at most 1.5× on a 3,000-iteration run).
Both variants run ``--iterations`` iterations of the default Gaussian search on a
``--dim``-dimensional sphere with the same seed, interleaved ``--repeats`` times; the best
(least disturbed) wall time of each is compared, median beside it.

Usage::

    python benchmarks/callback.py                  # 3,000 iterations, d = 10
"""

from __future__ import annotations

import argparse
import statistics
import time

import _common  # noqa: F401  (the checkout's relax first on sys.path)
import numpy as np

import relax


def sphere(X: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", X, X)


def one_run(iterations: int, dim: int, callback) -> float:
    start = time.perf_counter()
    relax.minimize(sphere, relax.Gaussian(np.full(dim, 3.0), 4.0), maxiter=iterations,
                   seed=0, vectorized=True, tolx=0.0, tolfun=0.0, callback=callback)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iterations", type=int, default=3000)
    p.add_argument("--dim", type=int, default=10)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args(argv)
    seen = []
    times = {"without": [], "no-op callback": []}
    for _ in range(args.repeats):
        times["without"].append(one_run(args.iterations, args.dim, None))
        times["no-op callback"].append(one_run(args.iterations, args.dim,
                                               lambda res: seen.append(res.nit) and None))
    for name, ts in times.items():
        print(f"{name:>15}: best {min(ts):.3f} s, median {statistics.median(ts):.3f} s")
    ratio = min(times["no-op callback"]) / min(times["without"])
    print(f"ratio (best of {args.repeats}): {ratio:.2f} (target <= 1.5): "
          f"{'met' if ratio <= 1.5 else 'NOT met'}; {args.iterations} iterations, "
          f"d = {args.dim}, {seen[-1]} iterations seen by the callback")


if __name__ == "__main__":
    main()
