"""Pseudo-Boolean benchmark functions on x ∈ {−1,+1}^n, all minimized.

The {0,1} view is z = (1 + x)/2 (z_i = 1 ↔ x_i = +1); ``problem.f01`` evaluates it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from relax.problems.base import (
    Polynomial,
    Problem,
    Seed,
    lazy_enumeration,
    register,
    resolve_seed,
    rowsum,
    walsh_polynomial,
)


# ------------------------------------------------------------------ the functions
def _onemax(X: np.ndarray) -> np.ndarray:
    """Number of −1 entries, Σ_i (1 − x_i)/2."""
    return np.count_nonzero(X < 0, axis=1).astype(np.float64)


def _leadingones(X: np.ndarray) -> np.ndarray:
    """n − (length of the longest prefix of +1 entries)."""
    return X.shape[1] - np.cumprod(X > 0, axis=1).sum(axis=1).astype(np.float64)


@dataclass(frozen=True, eq=False)
class _Linear:
    """c + Σ_i w_i x_i."""

    w: np.ndarray
    c: float = 0.0

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return self.c + rowsum(X * self.w)


@dataclass(frozen=True, eq=False)
class _Trap:
    """Σ_blocks t(u_b) with t(k) = 0 and t(u) = 1 + u otherwise; u_b = number of +1s."""

    k: int

    def __call__(self, X: np.ndarray) -> np.ndarray:
        U = (X > 0).reshape(X.shape[0], X.shape[1] // self.k, self.k).sum(axis=2)
        return np.where(U == self.k, 0, 1 + U).sum(axis=1).astype(np.float64)


@dataclass(frozen=True, eq=False)
class _NK:
    """(1/n) Σ_i tables[i, Σ_j z_{(i+j) mod n} 2^j], j = 0..K."""

    tables: np.ndarray

    def __call__(self, X: np.ndarray) -> np.ndarray:
        n = X.shape[1]
        Z = (X > 0).astype(np.int64)
        idx = np.zeros(X.shape, dtype=np.int64)
        for j in range(self.tables.shape[1].bit_length() - 1):  # j = 0..K
            idx |= np.roll(Z, -j, axis=1) << j
        return rowsum(self.tables[np.arange(n), idx]) / n


# ------------------------------------------------------------------ the problems
def _binary(name: str, n: int, func, description: str, **kw) -> Problem:
    return Problem(name, n, "binary", func, description=description, **kw)


@register("onemax", "binary", "number of -1 entries; min 0 at all +1", "n >= 1")
def onemax(n: int) -> Problem:
    """OneMax as minimization: f(x) = Σ_i (1 − x_i)/2, the number of −1 entries.

    Minimum 0 at x = (+1, …, +1).
    """
    poly = Polynomial(n, n / 2.0, np.full(n, -0.5), (), ())
    return _binary(
        "onemax",
        n,
        _onemax,
        "OneMax: number of -1 entries, min 0 at all +1",
        optimum=0.0,
        x_opt=np.ones(n),
        polynomial=poly,
    )


@register("leadingones", "binary", "n - length of the prefix of +1s; min 0 at all +1", "n >= 1")
def leadingones(n: int) -> Problem:
    """LeadingOnes as minimization: f(x) = n − max{i : x_1 = … = x_i = +1}.

    Minimum 0 at x = (+1, …, +1).  (Its polynomial has 2^n terms and is not exposed.)
    """
    return _binary(
        "leadingones",
        n,
        _leadingones,
        "LeadingOnes: n - prefix of +1s, min 0",
        optimum=0.0,
        x_opt=np.ones(n),
    )


@register(
    "linear", "binary", "random linear function sum w_i x_i, w ~ N(0,1); min -sum|w_i|", "n >= 1"
)
def linear(n: int, *, weights: np.ndarray | None = None, seed: Seed = None) -> Problem:
    """Linear function f(x) = Σ_i w_i x_i; minimum −Σ|w_i| at x_i = −sign(w_i).

    ``weights`` of shape (n,), or w_i ~ N(0, 1) drawn from ``seed``.
    """
    params = {}
    if weights is None:
        params["seed"] = seed = resolve_seed(seed)
        w = np.random.default_rng(seed).standard_normal(n)
    else:
        w = np.array(weights, dtype=np.float64)
        if w.shape != (n,) or not np.all(np.isfinite(w)):
            raise ValueError(f"weights must be finite with shape ({n},); got shape {w.shape}")
    x_opt = np.where(w > 0, -1.0, 1.0)
    w.setflags(write=False)
    return _binary(
        "linear",
        n,
        _Linear(w),
        f"linear sum w_i x_i, min {-np.abs(w).sum():.6g}",
        optimum=-np.abs(w).sum(),
        x_opt=x_opt,
        params=params,
        polynomial=Polynomial(n, 0.0, w, (), ()),
    )


@register(
    "binval",
    "binary",
    "binary value sum 2^(n-1-i) (1 - z_i); min 0; exact for n <= 53",
    "n >= 1 (values exact for n <= 53)",
)
def binval(n: int) -> Problem:
    """BinVal as minimization: f(x) = Σ_i 2^{n−1−i} (1 − z_i), z = (1 + x)/2.

    Minimum 0 at all +1.  Values are integers below 2^n, exact in float64 only for
    n ≤ 53; beyond that the low-order bits are lost to rounding.
    """
    p = 2.0 ** np.arange(n - 1, -1, -1)
    func = _Linear(-p / 2.0, p.sum() / 2.0)
    return _binary(
        "binval",
        n,
        func,
        "BinVal: sum 2^(n-1-i) (1 - z_i), min 0 at all +1"
        + ("" if n <= 53 else " (float64 rounding: n > 53)"),
        optimum=0.0,
        x_opt=np.ones(n),
        polynomial=Polynomial(n, p.sum() / 2.0, -p / 2.0, (), ()),
    )


def _trap_table(k: int) -> np.ndarray:
    u = np.array([bin(b).count("1") for b in range(2**k)])
    return np.where(u == k, 0, 1 + u).astype(np.float64)


@register(
    "trap",
    "binary",
    "concatenated deceptive k-traps (k=5); min 0 at all +1",
    "multiple of k (option k=, default 5)",
)
def trap(n: int, *, k: int = 5) -> Problem:
    """Concatenated deceptive traps of size k on blocks (x_{bk}, …, x_{bk+k−1}).

    With u the number of +1 entries of a block, the classic trap to maximize is
    t(u) = k if u = k else k − 1 − u; this minimizes Σ_blocks (k − t(u)), i.e. 0 for a
    block of all +1 and 1 + u otherwise.  Minimum 0 at all +1; the deceptive attractor
    all −1 has f = n/k.
    """
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"trap block size k must be a positive integer; got {k!r}")
    if n % k:
        raise ValueError(f"trap needs n to be a multiple of k={k}; got n={n}")
    scopes = np.arange(n).reshape(-1, k)
    tables = np.tile(_trap_table(k), (n // k, 1))
    return _binary(
        "trap",
        n,
        _Trap(int(k)),
        f"{n // k} concatenated {k}-traps, min 0 at all +1",
        optimum=0.0,
        x_opt=np.ones(n),
        params={"k": int(k)},
        make_polynomial=_WalshOf(n, scopes, tables),
    )


@dataclass(frozen=True, eq=False)
class _WalshOf:
    """Deferred :func:`walsh_polynomial` (computed on first access, picklable)."""

    n: int
    scopes: np.ndarray
    tables: np.ndarray

    def __call__(self) -> Polynomial:
        return walsh_polynomial(self.n, self.scopes, self.tables)


@register(
    "nk",
    "binary",
    "NK landscape, K=2, adjacent wrapped neighbourhoods, U(0,1) tables",
    "n >= K + 1 (option k=, default 2)",
)
def nk(n: int, *, k: int = 2, seed: Seed = None) -> Problem:
    """NK landscape: f(x) = (1/n) Σ_i T_i(z_i, z_{i+1}, …, z_{i+K}) (indices mod n).

    Each T_i is a table of 2^{K+1} values U(0, 1) drawn from ``seed``, indexed by
    Σ_j z_{(i+j) mod n} 2^j.  The optimum is computed by enumeration (on first access)
    when n ≤ 20, else unknown.
    """
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 0 <= k < n:
        raise ValueError(f"nk needs an integer 0 <= k < n; got k={k!r}, n={n}")
    seed = resolve_seed(seed)
    tables = np.random.default_rng(seed).uniform(0.0, 1.0, (n, 2 ** (k + 1)))
    tables.setflags(write=False)
    func = _NK(tables)
    scopes = (np.arange(n)[:, None] + np.arange(k + 1)) % n
    return _binary(
        "nk",
        n,
        func,
        f"NK landscape n={n}, K={k}, tables U(0,1)",
        solver=lazy_enumeration(func, n),
        params={"k": int(k), "seed": seed},
        make_polynomial=_WalshOf(n, scopes, tables / n),
    )
