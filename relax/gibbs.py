"""Colour-class Gibbs sampling for binary Markov random fields on {−1,+1}^n.

The model is p(x) ∝ exp(Σ_i h_i x_i + Σ_S θ_S ∏_{i∈S} x_i) on an interaction graph with
a proper colouring (:mod:`relax.graphs`).  Sites of one colour class share no
interaction, so given the other classes they are independent and one Gibbs step updates
a whole class at once:

    field_i = h_i + Σ_{S∋i} θ_S ∏_{j∈S∖{i}} x_j,
    P(x_i = +1 | rest) = σ(2 field_i) = 1 / (1 + exp(−2 field_i)).

A sweep updates the classes 0, 1, … in order.  Many independent chains run at once.

This module is the policy around the numba kernels of :mod:`relax.kernels.gibbs`: it
compiles a graph and its couplings into flat arrays (:class:`SweepPlan`,
:class:`Couplings`), seeds chains from a ``numpy.random.Generator``
(:class:`GibbsChains`, :func:`new_chains`), runs sweeps (:func:`sweep`) and reads
samples (:func:`samples`).  :func:`reference_sweep` is a plain vectorized numpy sampler
of the same chain, kept for tests and as the benchmark baseline.

Random numbers: the uniform of chain c at site i in sweep s is a pure function of
(``chains.key``, ``chains.chain_keys[c]``, s, i), so a run is identical for a given seed
whatever the number of threads.

numba is imported on the first sweep (:func:`kernels`), not with this module: building a
model, its plan and its chains, or importing relax, never loads the JIT compiler.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, replace
from types import ModuleType
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from relax import backend
from relax.graphs import Graph


def kernels() -> ModuleType:
    """The numba kernels (:mod:`relax.kernels.gibbs`), imported on first use.

    Importing them imports numba (and loads or compiles the cached kernels), which costs
    far more than the rest of relax; only a Gibbs sweep needs them.
    """
    return importlib.import_module("relax.kernels.gibbs")

# ---------------------------------------------------------------------- compiled model


class OrderGroup(NamedTuple):
    """The interactions of one order r: positions in the interaction list and members."""

    index: np.ndarray  # (m_r,) positions of these interactions in the full list
    members: np.ndarray  # (m_r, r) sorted vertex indices


def order_groups(interactions) -> list[OrderGroup]:
    """Interactions grouped by order r = |S|, in increasing r; within a group, given order."""
    sizes = np.fromiter((len(s) for s in interactions), dtype=np.int64, count=len(interactions))
    groups = []
    for r in np.unique(sizes):
        index = np.flatnonzero(sizes == r)
        members = np.array([interactions[t] for t in index], dtype=np.int64).reshape(-1, r)
        groups.append(OrderGroup(index, members))
    return groups


@dataclass(frozen=True)
class SweepPlan:
    """The structure of a graph in the flat form the kernels read (no parameters).

    Incidence e of site i (``ptr[i] <= e < ptr[i+1]``) stands for an interaction
    S = ``source[e]`` containing i; its other members S ∖ {i} are
    ``others[oth_ptr[e]:oth_ptr[e+1]]``.  For a pairwise graph this is the CSR
    neighbour list (``others[e]`` is the neighbour).  Colour class k is
    ``class_sites[class_ptr[k]:class_ptr[k+1]]``.
    """

    n: int
    n_interactions: int
    pairwise: bool
    ptr: np.ndarray
    source: np.ndarray
    oth_ptr: np.ndarray
    others: np.ndarray
    class_ptr: np.ndarray
    class_sites: np.ndarray


def _incidences(groups: list[OrderGroup]):
    """Per (interaction S, member i), grouped by order: the site i, the index of S, the
    members S ∖ {i} (flattened) and their number |S| − 1."""
    sites, sources, rows, lengths = [], [], [], []
    for g in groups:
        r = g.members.shape[1]
        for p in range(r):
            sites.append(g.members[:, p])
            sources.append(g.index)
            rows.append(np.delete(g.members, p, axis=1).ravel())
            lengths.append(np.full(g.index.size, r - 1, dtype=np.int64))
    return tuple(np.concatenate(a) if a else np.zeros(0, np.int64)
                 for a in (sites, sources, rows, lengths))


def _csr_ptr(keys: np.ndarray, n: int) -> np.ndarray:
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys, minlength=n), out=ptr[1:])
    return ptr


def sweep_plan(graph: Graph) -> SweepPlan:
    """Compile a :class:`~relax.graphs.Graph` into a :class:`SweepPlan` (vectorized)."""
    groups = order_groups(graph.interactions)
    sites, source, flat, lengths = _incidences(groups)
    order = np.argsort(sites, kind="stable")
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    lengths = lengths[order]
    oth_ptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    within = np.arange(oth_ptr[-1]) - np.repeat(oth_ptr[:-1], lengths)
    others = flat[np.repeat(starts[order], lengths) + within] if flat.size else flat
    colouring = np.asarray(graph.colouring, dtype=np.int64)
    return SweepPlan(
        n=graph.n,
        n_interactions=len(graph.interactions),
        pairwise=all(g.members.shape[1] == 2 for g in groups),
        ptr=_csr_ptr(sites, graph.n),
        source=source[order].astype(np.int64),
        oth_ptr=oth_ptr,
        others=others.astype(np.int64),
        class_ptr=_csr_ptr(colouring, int(colouring.max()) + 1),
        class_sites=np.argsort(colouring, kind="stable").astype(np.int64),
    )


@dataclass(frozen=True)
class Couplings:
    """A :class:`SweepPlan` with parameters: fields h and per-incidence couplings, float32."""

    plan: SweepPlan
    h: np.ndarray  # (n,) float32
    w: np.ndarray  # (n_incidences,) float32, w[e] = θ_{source[e]}


def couplings(plan: SweepPlan, h: np.ndarray, J: np.ndarray) -> Couplings:
    """Fields ``h`` (n,) and interaction parameters ``J`` (one per interaction), as float32."""
    h, J = np.asarray(h, dtype=np.float64), np.asarray(J, dtype=np.float64)
    if h.shape != (plan.n,) or J.shape != (plan.n_interactions,):
        raise ValueError(f"h must have shape ({plan.n},) and J ({plan.n_interactions},);"
                         f" got {h.shape} and {J.shape}")
    w = np.ascontiguousarray(J[plan.source], dtype=np.float32)
    return Couplings(plan, np.ascontiguousarray(h, dtype=np.float32), w)


# ---------------------------------------------------------------------------- chains


@dataclass(frozen=True)
class GibbsChains:
    """The state of C independent Gibbs chains; a plain picklable value.

    Attributes
    ----------
    spins : numpy.ndarray
        int8 array of shape (n, C) with entries ±1; column c is chain c.
    key : int
        Key of the per-site hash stream shared by all chains (64-bit).
    chain_keys : numpy.ndarray
        uint32 array (C,) of distinct per-chain keys.
    sweeps_done : int
        Number of sweeps run so far; the counter position of the next sweep.
    """

    spins: np.ndarray
    key: int
    chain_keys: np.ndarray
    sweeps_done: int = 0

    @property
    def n(self) -> int:
        return self.spins.shape[0]

    @property
    def n_chains(self) -> int:
        return self.spins.shape[1]


def new_chains(n: int, n_chains: int, rng: np.random.Generator) -> GibbsChains:
    """C = ``n_chains`` chains started uniformly at random, with keys drawn from ``rng``.

    Chain keys are distinct: two chains with equal keys would receive the same uniforms
    and, started anywhere, eventually coalesce.
    """
    if not 1 <= n_chains <= 2**32 or n < 1:
        raise ValueError(f"need n >= 1 and 1 <= n_chains <= 2**32; got {n}, {n_chains}")
    spins = (2 * rng.integers(0, 2, size=(n, n_chains), dtype=np.int8) - 1).astype(np.int8)
    key = int(rng.integers(0, 2**64, dtype=np.uint64))
    chain_keys = rng.choice(2**32, size=n_chains, replace=False).astype(np.uint32)
    return GibbsChains(spins, key, chain_keys, 0)


SPLITS = ("auto", "chains", "sites")


def check_chains(chains: GibbsChains, n: int) -> None:
    """A clear ValueError unless ``chains`` hold n sites in the kernels' layout."""
    if chains.n != n:
        raise ValueError(f"chains have n={chains.n}, the model has n={n}")
    x, keys = chains.spins, chains.chain_keys
    if (x.dtype != np.int8 or not x.flags.c_contiguous or keys.dtype != np.uint32
            or keys.shape != (x.shape[1],)):
        raise ValueError("chains.spins must be a C-contiguous int8 (n, C) array and"
                         " chains.chain_keys a uint32 (C,) array (see gibbs.new_chains)")

def sweep(chains: GibbsChains, model: Couplings, sweeps: int = 1, *, inplace: bool = False,
          split: str = "auto") -> GibbsChains:
    """Chains after ``sweeps`` further colour-class sweeps.

    Returns a new value and leaves ``chains`` untouched, unless ``inplace`` is true: then
    the spins of ``chains`` are advanced in place (no copy of the n × C array) and shared
    with the result, so the old value must no longer be used.  Uses the kernel's
    pairwise path when every interaction is a pair, the general one otherwise, with
    ``numba.get_num_threads()`` threads.  The result does not depend on the threads.

    ``split`` says how threads share the work.  ``"chains"``: blocks of chains, each
    copied out, swept by one thread without synchronisation and copied back; robust to
    busy cores, but a block of 32 chains runs at about 3/4 of the per-core rate of 64
    (a fixed cost per site) and the copies cost about one sweep.  ``"sites"``: the
    sites of each colour class are shared, with a barrier after every class; near
    linear on idle cores, but far slower than one thread when another process holds a
    core (each barrier waits for a descheduled thread).  ``"auto"``: ``"chains"`` with
    at least 64 chains per thread, else ``"sites"``.  On a busy machine use
    ``"chains"`` or ``numba.set_num_threads(1)``; see ``benchmarks/RESULTS.md``.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}; got {split!r}")
    plan = model.plan
    check_chains(chains, plan.n)
    x, keys = chains.spins, chains.chain_keys
    x = x if inplace else x.copy()
    k = kernels()
    threads = k.num_threads()
    if split == "auto":
        split = "chains" if x.shape[1] >= 64 * threads else "sites"
    if sweeps > 0:
        k.sweep(x, model.h, plan.ptr, model.w, plan.oth_ptr, plan.others, plan.pairwise,
                      plan.class_ptr, plan.class_sites, np.uint64(chains.key), keys,
                      chains.sweeps_done, int(sweeps), threads, split == "sites")
    return replace(chains, spins=x, sweeps_done=chains.sweeps_done + int(sweeps))


def samples(chains: GibbsChains) -> np.ndarray:
    """The current state of every chain as rows: float64 array of shape (C, n) (in the
    namespace of the spins: cupy for chains on the GPU)."""
    if isinstance(chains.spins, np.ndarray):
        return chains.spins.T.astype(np.float64)
    bk = backend.of(chains.spins)
    return bk.astype(chains.spins.T, bk.float)


def on(chains: GibbsChains, bk) -> GibbsChains:
    """The chains with their spins (and chain keys) on the backend ``bk``
    (:mod:`relax.backend`); the same chains when they are there already."""
    if bk.owns(chains.spins):
        return chains
    if bk.is_numpy:
        return replace(chains, spins=np.ascontiguousarray(backend.to_numpy(chains.spins),
                                                          dtype=np.int8),
                       chain_keys=np.asarray(backend.to_numpy(chains.chain_keys),
                                             dtype=np.uint32))
    return replace(chains, spins=bk.asarray(chains.spins, dtype=bk.xp.int8),
                   chain_keys=bk.asarray(chains.chain_keys, dtype=bk.xp.uint32))


# ----------------------------------------------------------------- numpy reference


@dataclass(frozen=True)
class ReferencePlan:
    """Sparse matrices for the numpy sampler, one set per colour class.

    ``pair[k]`` holds the rows of class k of the symmetric pairwise coupling matrix A;
    ``higher[k]`` lists, for every order r ≥ 3 and member position p, the incidence rows
    E (class sites × m_r), the coupling θ_S and the other members S ∖ {S_p}.
    """

    h: list  # per class: (|class|, 1) in dtype
    sites: list  # per class: site indices
    pair: list  # per class: scipy CSR (|class| × n)
    higher: list  # per class: list of (E, theta, other_members)


def _class_incidence(members, p, sites, n, dtype):
    """Rows ``sites`` of the n × m matrix with E[members[t, p], t] = 1."""
    m = members.shape[0]
    E = sp.csr_matrix((np.ones(m, dtype), (members[:, p], np.arange(m))), shape=(n, m))
    return E[sites]


def reference_plan(graph: Graph, h: np.ndarray, J: np.ndarray,
                   dtype: type = np.float32) -> ReferencePlan:
    """Build the :class:`ReferencePlan` of fields ``h`` and parameters ``J`` on ``graph``,
    in ``dtype`` (float32 for sampling, float64 for mean-field and zero-temperature use)."""
    n = graph.n
    J = np.asarray(J, dtype=np.float64)
    colouring = np.asarray(graph.colouring)
    A = sp.csr_matrix((n, n), dtype=dtype)
    high = []
    for g in order_groups(graph.interactions):
        if g.members.shape[1] == 2:
            i, j = g.members.T
            w = J[g.index].astype(dtype)
            A = A + sp.csr_matrix((np.concatenate([w, w]), (np.r_[i, j], np.r_[j, i])),
                                  shape=(n, n))
        else:
            high.append(g)
    classes = [np.flatnonzero(colouring == k) for k in range(graph.n_colours)]
    higher = [[(_class_incidence(g.members, p, s, n, dtype), J[g.index].astype(dtype)[:, None],
                np.delete(g.members, p, axis=1))
               for g in high for p in range(g.members.shape[1])] for s in classes]
    return ReferencePlan(
        h=[np.asarray(h, dtype)[s, None] for s in classes],
        sites=classes,
        pair=[A.tocsr()[s] for s in classes],
        higher=higher,
    )


def class_field(x: np.ndarray, plan: ReferencePlan, k: int) -> np.ndarray:
    """field_i = h_i + Σ_{S∋i} θ_S ∏_{j∈S∖{i}} x_j for the sites i of class k.

    ``x`` has shape (n, C) and may be real valued (used by mean-field iterations).
    """
    f = plan.h[k] + plan.pair[k] @ x
    for E, theta, others in plan.higher[k]:
        f = f + E @ (theta * np.prod(x[others], axis=1))
    return f


def reference_sweep(x: np.ndarray, plan: ReferencePlan, rng: np.random.Generator,
                    sweeps: int = 1) -> np.ndarray:
    """``sweeps`` colour-class Gibbs sweeps in plain vectorized numpy (scipy.sparse).

    ``x`` is a float32 (n, C) array of ±1, updated in place and returned: for each class
    k in order, x_k ← where(u < σ(2 field_k), +1, −1) with u = ``rng.random`` float32.
    """
    for _ in range(sweeps):
        for k, sites in enumerate(plan.sites):
            f = class_field(x, plan, k)
            with np.errstate(over="ignore"):
                p = 1.0 / (1.0 + np.exp(-2.0 * f))
            u = rng.random(f.shape, dtype=np.float32)
            x[sites] = np.where(u < p, np.float32(1), np.float32(-1))
    return x
