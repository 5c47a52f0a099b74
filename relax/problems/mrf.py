"""Binary Markov random fields as problems: Ising, spin glass, MaxCut, QUBO.

Every function on {−1,+1}^n is a unique multilinear (Walsh) polynomial

    f(x) = constant + Σ_i a_i x_i + Σ_k c_k ∏_{i∈S_k} x_i,

so the Boltzmann distribution p ∝ exp(−β f) is an Ising model with the interactions S_k
and natural parameters θ = −β (a, c).  The problems here are quadratic and expose that
polynomial exactly as ``problem.polynomial`` (a :class:`~relax.problems.base.Polynomial`;
also ``constant``, ``linear``, ``interactions``, ``coefficients``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from relax import graphs
from relax.graphs import Graph
from relax.problems.base import (
    Polynomial,
    Problem,
    Seed,
    lazy_enumeration,
    register,
    resolve_seed,
    rowsum,
)


# ------------------------------------------------------------------- pairwise MRFs
@dataclass(frozen=True, eq=False)
class _Energy:
    """E(x) = −Σ_e J_e x_{i_e} x_{j_e} − Σ_i h_i x_i."""

    i: np.ndarray
    j: np.ndarray
    J: np.ndarray
    h: np.ndarray

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return -rowsum(X[:, self.i] * X[:, self.j] * self.J) - rowsum(X * self.h)


@dataclass(frozen=True, eq=False)
class _NegativeCut:
    """−cut(x) = −Σ_e w_e (1 − x_{i_e} x_{j_e}) / 2."""

    i: np.ndarray
    j: np.ndarray
    w: np.ndarray

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return -rowsum((1.0 - X[:, self.i] * X[:, self.j]) * self.w) / 2.0


@dataclass(frozen=True, eq=False)
class _Qubo:
    """zᵀ Q z = Σ_i z_i Σ_j Q_ij z_j with z = (1 + x) / 2 (``Qt`` holds Qᵀ, C-contiguous)."""

    Qt: np.ndarray

    def __call__(self, X: np.ndarray) -> np.ndarray:
        Z = (1.0 + X) / 2.0
        return rowsum(np.einsum("sj,ij->si", Z, self.Qt) * Z)


def _as_graph(graph: Graph | Iterable[Sequence[int]]) -> Graph:
    g = graph if isinstance(graph, Graph) else graphs.from_edges(graph)
    if len(g.edges) != len(g.interactions):
        raise ValueError("graph must have pairwise interactions only")
    return g


def _edge_values(values: Any, g: Graph, what: str) -> np.ndarray:
    m = len(g.edges)
    a = np.asarray(values, dtype=np.float64)
    if a.ndim == 0:
        a = np.full(m, float(a))
    if a.shape != (m,):
        raise ValueError(f"{what} must have one value per edge, shape ({m},); got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{what} must be finite")
    return a.copy()


def _endpoints(g: Graph) -> tuple[np.ndarray, np.ndarray]:
    e = np.array(g.edges, dtype=np.int64).reshape(-1, 2)
    return e[:, 0].copy(), e[:, 1].copy()


def _ising(
    g: Graph,
    J: np.ndarray,
    h: np.ndarray,
    name: str,
    description: str,
    params: Mapping[str, Any] | None = None,
    **known: Any,
) -> Problem:
    i, j = _endpoints(g)
    func = _Energy(i, j, J, h)
    return Problem(
        name,
        g.n,
        "binary",
        func,
        description=description,
        solver=lazy_enumeration(func, g.n),
        polynomial=Polynomial(g.n, 0.0, -h, tuple(g.edges), -J),
        params=params,
        **known,
    )


def spin_glass(
    graph: Graph | Iterable[Sequence[int]], couplings: Any, fields: Any = None
) -> Problem:
    """Spin glass on a graph: E(x) = −Σ_{(i,j)∈E} J_ij x_i x_j − Σ_i h_i x_i.

    Parameters
    ----------
    graph : Graph or list of (i, j)
        Pairwise interaction graph (see :mod:`relax.graphs`).
    couplings : float or array of shape (|E|,)
        J_ij in the order of ``graph.edges``.
    fields : array of shape (n,), optional
        External fields h_i (default 0).

    The optimum is computed by enumeration (lazily) when n ≤ 20, else unknown.
    """
    g = _as_graph(graph)
    J = _edge_values(couplings, g, "couplings")
    h = np.zeros(g.n) if fields is None else np.array(fields, dtype=np.float64)
    if h.shape != (g.n,):
        raise ValueError(f"fields must have shape ({g.n},); got {h.shape}")
    return _ising(
        g,
        J,
        h,
        "spin_glass",
        f"spin glass on {g.n} spins, {len(J)} couplings: -sum J_ij x_i x_j - sum h_i x_i",
    )


@register(
    "ising_chain",
    "binary",
    "ferromagnetic open chain, -sum x_i x_{i+1}; min -(n-1) at all +1",
    "n >= 2",
    min_dim=2,
)
def ising_chain(n: int) -> Problem:
    """Ferromagnetic Ising chain E(x) = −Σ_{i<n−1} x_i x_{i+1}; minimum −(n−1) at all +1."""
    g = graphs.chain(n)
    return _ising(
        g,
        np.ones(n - 1),
        np.zeros(n),
        "ising_chain",
        f"ferromagnetic Ising chain: -sum x_i x_(i+1), min {-(n - 1)} at all equal",
        optimum=-(n - 1.0),
        x_opt=np.ones(n),
    )


def _torus_sides(n: int, rows: int | None) -> tuple[int, int]:
    if rows is None:
        rows = math.isqrt(n)
    cols = n // rows if rows > 0 else 0
    if rows < 3 or cols < 3 or rows * cols != n:
        raise ValueError(
            f"ising_torus needs n = L*L with L >= 3 (9, 16, 25, ...) or n = rows*cols with "
            f"rows, cols >= 3 (option rows=); got n={n}, rows={rows}"
        )
    return rows, cols


@register(
    "ising_torus",
    "binary",
    "ferromagnetic 2-D torus, -sum_edges x_i x_j; min -2n",
    "L*L with L >= 3, or rows*cols with rows=, both >= 3",
)
def ising_torus(n: int, *, rows: int | None = None) -> Problem:
    """Ferromagnetic Ising model on a rows×cols torus: E(x) = −Σ_{(i,j)∈E} x_i x_j.

    |E| = 2n, so the minimum is −2n, at all +1 (and all −1).
    """
    r, c = _torus_sides(n, rows)
    g = graphs.torus(r, c)
    m = len(g.edges)
    return _ising(
        g,
        np.ones(m),
        np.zeros(n),
        "ising_torus",
        f"ferromagnetic Ising {r}x{c} torus: -sum x_i x_j, min {-m} at all equal",
        params={"rows": r},
        optimum=-float(m),
        x_opt=np.ones(n),
    )


@register(
    "spin_glass",
    "binary",
    "random +-J (or Gaussian) spin glass on an L x L torus or grid",
    "L*L with L >= 3 (torus) or L >= 2 (grid)",
)
def random_spin_glass(
    n: int, *, lattice: str = "torus", couplings: str = "pm1", seed: Seed = None
) -> Problem:
    """Random spin glass E(x) = −Σ J_ij x_i x_j on an L×L lattice, n = L².

    ``lattice`` is ``"torus"`` (periodic, L ≥ 3) or ``"grid"`` (open, L ≥ 2);
    ``couplings`` is ``"pm1"`` (J_ij = ±1 with probability ½) or ``"gaussian"``
    (J_ij ~ N(0, 1)).  The optimum is computed by enumeration when n ≤ 20.
    """
    L, smallest = math.isqrt(n), {"torus": 3, "grid": 2}.get(lattice)
    if smallest is None:
        raise ValueError(f"lattice must be 'torus' or 'grid'; got {lattice!r}")
    if L * L != n or L < smallest:
        raise ValueError(f"spin_glass on a {lattice} needs n = L*L with L >= {smallest}; got n={n}")
    g = graphs.torus(L) if lattice == "torus" else graphs.grid(L)
    seed = resolve_seed(seed)
    rng = np.random.default_rng(seed)
    if couplings == "pm1":
        J = rng.choice(np.array([-1.0, 1.0]), size=len(g.edges))
    elif couplings == "gaussian":
        J = rng.standard_normal(len(g.edges))
    else:
        raise ValueError(f"couplings must be 'pm1' or 'gaussian'; got {couplings!r}")
    desc = f"{couplings} spin glass on a {L}x{L} {lattice}: -sum J_ij x_i x_j"
    params = {"lattice": lattice, "couplings": couplings, "seed": seed}
    return _ising(g, J, np.zeros(n), "spin_glass", desc, params=params)


# ------------------------------------------------------------------------- MaxCut
def maxcut(graph: Graph | Iterable[Sequence[int]], weights: Any = 1.0) -> Problem:
    """Weighted MaxCut as minimization: f(x) = −Σ_{(i,j)∈E} w_ij (1 − x_i x_j) / 2.

    The sides of the cut are {i : x_i = +1} and {i : x_i = −1}; f = −(cut weight).
    As a polynomial, f = −Σ w/2 + Σ (w_ij/2) x_i x_j.  Optimum by enumeration when n ≤ 20.
    """
    g = _as_graph(graph)
    w = _edge_values(weights, g, "weights")
    return _maxcut(g, w, "maxcut", f"MaxCut on {g.n} vertices, {len(w)} edges: -cut weight", {})


def _maxcut(g: Graph, w: np.ndarray, name: str, description: str, params: dict) -> Problem:
    i, j = _endpoints(g)
    func = _NegativeCut(i, j, w)
    poly = Polynomial(g.n, -w.sum() / 2.0, np.zeros(g.n), tuple(g.edges), w / 2.0)
    return Problem(
        name,
        g.n,
        "binary",
        func,
        description=description,
        solver=lazy_enumeration(func, g.n),
        polynomial=poly,
        params=params,
    )


@register(
    "maxcut",
    "binary",
    "MaxCut (-cut weight) on a random Erdos-Renyi graph G(n, p)",
    "n >= 2",
    min_dim=2,
)
def random_maxcut(n: int, *, p: float = 0.5, weights: str = "unit", seed: Seed = None) -> Problem:
    """MaxCut on an Erdős–Rényi graph G(n, p) drawn from ``seed``.

    ``weights`` is ``"unit"`` (w = 1) or ``"uniform"`` (w ~ U(0, 1)).
    """
    seed = resolve_seed(seed)
    rng = np.random.default_rng(seed)
    g = graphs.erdos_renyi(n, p, rng)
    if weights == "unit":
        w = np.ones(len(g.edges))
    elif weights == "uniform":
        w = rng.uniform(0.0, 1.0, len(g.edges))
    else:
        raise ValueError(f"weights must be 'unit' or 'uniform'; got {weights!r}")
    desc = f"MaxCut on G({n}, {p}) with {len(w)} edges, {weights} weights: -cut weight"
    return _maxcut(g, w, "maxcut", desc, {"p": p, "weights": weights, "seed": seed})


# --------------------------------------------------------------------------- QUBO
def qubo_polynomial(Q: np.ndarray) -> Polynomial:
    """zᵀQz with z = (1 + x)/2 as a polynomial in x.

    With S = (Q + Qᵀ)/2, z_i² = z_i and z_i z_j = (1 + x_i + x_j + x_i x_j)/4:
    constant = Σ_i S_ii/2 + Σ_{i≠j} S_ij/4, a_i = S_ii/2 + Σ_{j≠i} S_ij/2, c_ij = S_ij/2.
    """
    n = Q.shape[0]
    S = (Q + Q.T) / 2.0
    d = np.diag(S)
    off = S - np.diag(d)
    constant = d.sum() / 2.0 + off.sum() / 4.0
    linear = d / 2.0 + off.sum(axis=1) / 2.0
    i, j = np.triu_indices(n, 1)
    keep = off[i, j] != 0
    pairs = tuple(zip(i[keep].tolist(), j[keep].tolist(), strict=True))
    return Polynomial(n, constant, linear, pairs, off[i, j][keep] / 2.0)


def qubo(Q: Any) -> Problem:
    """QUBO: f(z) = zᵀ Q z over z ∈ {0,1}^n, exposed on x ∈ {−1,+1}^n via z = (1 + x)/2.

    Q is any real square matrix (not necessarily symmetric).  ``f01(Z)`` evaluates zᵀQz
    directly.  Optimum by enumeration when n ≤ 20.
    """
    Q = np.array(Q, dtype=np.float64)
    if Q.ndim != 2 or Q.shape[0] != Q.shape[1] or Q.shape[0] < 1:
        raise ValueError(f"Q must be a square matrix of shape (n, n); got shape {Q.shape}")
    if not np.all(np.isfinite(Q)):
        raise ValueError("Q must be finite")
    return _qubo(Q, f"QUBO z^T Q z on {Q.shape[0]} variables, z = (1 + x)/2", {})


def _qubo(Q: np.ndarray, description: str, params: dict) -> Problem:
    Q.setflags(write=False)
    func = _Qubo(np.ascontiguousarray(Q.T))
    n = Q.shape[0]
    return Problem(
        "qubo",
        n,
        "binary",
        func,
        description=description,
        solver=lazy_enumeration(func, n),
        polynomial=qubo_polynomial(Q),
        params=params,
    )


@register("qubo", "binary", "random QUBO z^T Q z, Q upper triangular with N(0,1) entries", "n >= 1")
def random_qubo(n: int, *, seed: Seed = None) -> Problem:
    """QUBO with Q upper triangular (diagonal included), entries N(0, 1) from ``seed``."""
    seed = resolve_seed(seed)
    Q = np.triu(np.random.default_rng(seed).standard_normal((n, n)))
    return _qubo(Q, f"random QUBO on {n} variables (upper-triangular Gaussian Q)", {"seed": seed})
