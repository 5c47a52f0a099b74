"""Textbook binary optimizers, the anchors of ``benchmarks/pbo.py``: (1+1)-EA, UMDA, PBIL, cGA.

Every algorithm minimizes a vectorized f on x ∈ {−1,+1}^n (``f(X)`` takes a batch of shape
(N, n) and returns N values) through the benchmarks' counted objective
(:class:`_common.BatchObjective`), which counts evaluations, records the first one that
reaches the target and ends the run there or when the budget is spent.  The call is
``algorithm(f, n, budget, target, rng)`` and the answer an :class:`Outcome` (evaluations
to the target, or None, the best f, the evaluations made).

The estimation-of-distribution algorithms keep p_i = P(x_i = +1) inside the borders
[1/n, 1 − 1/n] ("margins"), as in their runtime analyses (Droste 2006; Sudholt & Witt 2019;
Dang, Lehre & Nguyen 2019): a bit is never fixed for good, it flips with probability at
least 1/n per sample, as under standard bit mutation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from _common import BatchObjective, Stop

Objective = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Outcome:
    """One run: ``hit`` is the number of evaluations up to and including the first that
    reached the target (None if none did), ``best`` the least f seen, ``nfev`` the
    evaluations made."""

    hit: int | None
    best: float
    nfev: int


def outcome(obj: BatchObjective) -> Outcome:
    """The :class:`Outcome` of a run counted by ``obj`` (whose f_opt is the target)."""
    return Outcome(obj.hit, obj.best + obj.fopt, obj.count)


def run(loop: Callable[[Objective], None], f: Objective, budget: int,
        target: float) -> Outcome:
    """Run ``loop(ev)`` on the counted f, ``ev = BatchObjective(f, target, budget).batch``.

    ``ev(X)`` (X of shape (N, n), or (n,) for one point) evaluates the rows of X that fit
    in the budget, in order, and raises :class:`_common.Stop` at the first value
    ≤ ``target`` or when the budget is spent; that ends the run.
    """
    if isinstance(budget, bool) or int(budget) != budget or budget < 1:
        raise ValueError(f"budget must be a positive integer; got {budget!r}")
    obj = BatchObjective(f, fopt=float(target), budget=int(budget), delta=0.0)
    try:
        loop(lambda X: obj.batch(np.atleast_2d(X)))
    except Stop:
        pass
    return outcome(obj)


def sample(p: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` points of {−1,+1}^n with P(x_i = +1) = p_i, independently."""
    return np.where(rng.random((size, p.size)) < p, 1.0, -1.0)


def _order(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indices sorting y ascending, ties broken uniformly at random."""
    return np.lexsort((rng.random(y.size), y))


def _check(n: int, **sizes: float) -> None:
    if isinstance(n, bool) or int(n) != n or n < 2:
        raise ValueError(f"n must be an integer >= 2; got {n!r}")
    for name, value in sizes.items():
        if not value > 0:
            raise ValueError(f"{name} must be positive; got {value!r}")


# ------------------------------------------------------------------------- (1+1)-EA
def one_plus_one_ea(f: Objective, n: int, budget: int, target: float,
                    rng: np.random.Generator, *, resample_zero: bool = True) -> Outcome:
    """(1+1)-EA with standard bit mutation (Droste, Jansen & Wegener 2002, "On the analysis
    of the (1+1) evolutionary algorithm", Theoretical Computer Science 276).

    x ← uniform on {−1,+1}^n; repeat: y = x with each bit flipped independently with
    probability 1/n; x ← y if f(y) ≤ f(x) (ties accepted, so plateaus are crossed).

    ``resample_zero=True`` (default) redraws an offspring in which no bit flipped, so no
    evaluation is spent on a copy of the parent: the mutation strength is Bin_{>0}(n, 1/n),
    the "resampling strategy" of the IOHprofiler baselines (Doerr, Ye, Horesh, Wang, Shir &
    Bäck 2020, "Benchmarking discrete optimization heuristics with IOHprofiler", Applied
    Soft Computing 88).  With ``False`` copies are evaluated, as in the 2002 paper.
    """
    _check(n)

    def loop(ev: Objective) -> None:
        x = sample(np.full(n, 0.5), 1, rng)[0]
        fx = ev(x)[0]
        while True:
            masks = rng.random((256, n)) < 1.0 / n
            if resample_zero:
                masks = masks[masks.any(axis=1)]
            for mask in masks:
                y = np.where(mask, -x, x)
                fy = ev(y)[0]
                if fy <= fx:
                    x, fx = y, fy

    return run(loop, f, budget, target)


# ----------------------------------------------------------------------------- UMDA
def umda_sizes(n: int) -> tuple[int, int]:
    """Default (μ, λ) = (⌈3 ln n⌉, 4μ), inside the conditions of the level-based analysis of
    the UMDA with margins (Dang, Lehre & Nguyen 2019, "Level-based analysis of the
    univariate marginal distribution algorithm", Algorithmica 81): μ = Ω(log n), and a
    selective pressure μ/λ ≤ 1/((1 + δ)e), under which LeadingOnes takes
    O(nλ log λ + n²) evaluations and OneMax O(λn).  Truncation to the better half
    (μ = λ/2) misses that condition and, measured here, solves LeadingOnes at n = 64 in
    0/5 runs of 100,000 evaluations."""
    mu = math.ceil(3.0 * math.log(n))
    return mu, 4 * mu


def umda(f: Objective, n: int, budget: int, target: float, rng: np.random.Generator,
         *, mu: int | None = None, lam: int | None = None) -> Outcome:
    """Univariate marginal distribution algorithm (Mühlenbein & Paaß 1996, "From
    recombination of genes to the estimation of distributions I. Binary parameters",
    PPSN IV).

    p_i ← ½; repeat: sample λ points from p, select the μ best (ties at random),
    p_i ← frequency of x_i = +1 among them, clipped to [1/n, 1 − 1/n].
    Defaults: :func:`umda_sizes`.
    """
    d_mu, d_lam = umda_sizes(n)
    mu, lam = mu or d_mu, lam or d_lam
    _check(n, mu=mu, lam=lam)
    if mu > lam:
        raise ValueError(f"mu must be at most lam; got mu={mu}, lam={lam}")

    def loop(ev: Objective) -> None:
        p = np.full(n, 0.5)
        while True:
            X = sample(p, lam, rng)
            best = X[_order(ev(X), rng)[:mu]]
            p = np.clip(np.mean(best > 0, axis=0), 1.0 / n, 1.0 - 1.0 / n)

    return run(loop, f, budget, target)


# ----------------------------------------------------------------------------- PBIL
PBIL_POPSIZE = 10
PBIL_RATE = 0.1


def pbil(f: Objective, n: int, budget: int, target: float, rng: np.random.Generator,
         *, lam: int = PBIL_POPSIZE, rate: float = PBIL_RATE) -> Outcome:
    """Population-based incremental learning (Baluja 1994, "Population-based incremental
    learning", Tech. Rep. CMU-CS-94-163), Baluja's rule learning from the best sample.

    p_i ← ½; repeat: sample λ points from p, take the best x* (ties at random),
    p ← (1 − ρ) p + ρ z*, z* = (1 + x*)/2, then clip p to [1/n, 1 − 1/n].
    Defaults λ = 10, ρ = 0.1, one setting for every problem and n, the best of
    λ ∈ {10, 20, 50} × ρ ∈ {0.05, 0.1} measured on OneMax and LeadingOnes at n = 64 (no
    single ρ suits every n: Shapiro 2002, "Scaling of probability-based optimization
    algorithms", NIPS 15; the margins soften that).
    """
    _check(n, lam=lam, rate=rate)
    if rate > 1.0:
        raise ValueError(f"rate must be in (0, 1]; got {rate}")

    def loop(ev: Objective) -> None:
        p = np.full(n, 0.5)
        while True:
            X = sample(p, lam, rng)
            winner = X[_order(ev(X), rng)[0]]
            p = (1.0 - rate) * p + rate * (winner > 0)
            p = np.clip(p, 1.0 / n, 1.0 - 1.0 / n)

    return run(loop, f, budget, target)


# ------------------------------------------------------------------------------ cGA
def cga_k(n: int) -> int:
    """Default hypothetical population size K = ⌈√n ln n⌉: with K ≥ c√n log n the cGA with
    borders optimizes OneMax in O(K√n) evaluations, its best regime (Sudholt & Witt 2019,
    "On the choice of the update strength in estimation-of-distribution algorithms and ant
    colony optimization", Algorithmica 81)."""
    return math.ceil(math.sqrt(n) * math.log(n))


def cga(f: Objective, n: int, budget: int, target: float, rng: np.random.Generator,
        *, K: int | None = None) -> Outcome:
    """Compact genetic algorithm (Harik, Lobo & Goldberg 1999, "The compact genetic
    algorithm", IEEE Trans. Evolutionary Computation 3(4)).

    p_i ← ½; repeat: sample two points, let w be the better (ties at random) and ℓ the
    other, p_i ← p_i + (w_i − ℓ_i)/(2K) (that is ±1/K where they differ), clipped to the
    borders [1/n, 1 − 1/n].  Default K: :func:`cga_k`.
    """
    K = K or cga_k(n)
    _check(n, K=K)

    def loop(ev: Objective) -> None:
        p = np.full(n, 0.5)
        while True:
            X = sample(p, 2, rng)
            w, l = X[_order(ev(X), rng)]
            p = np.clip(p + (w - l) / (2.0 * K), 1.0 / n, 1.0 - 1.0 / n)

    return run(loop, f, budget, target)


def one_plus_one_ea_textbook(f: Objective, n: int, budget: int, target: float,
                             rng: np.random.Generator) -> Outcome:
    """The (1+1)-EA exactly as in Droste, Jansen & Wegener 2002: copies are evaluated."""
    return one_plus_one_ea(f, n, budget, target, rng, resample_zero=False)


TEXTBOOK = {"(1+1)-EA": one_plus_one_ea_textbook, "(1+1)-EA>0": one_plus_one_ea,
            "UMDA": umda, "PBIL": pbil, "cGA": cga}
