"""Swendsen–Wang cluster sweeps for pairwise binary Markov random fields on {−1,+1}^n.

The model is p(x) ∝ exp(Σ_i h_i x_i + Σ_{(i,j)∈E} J_ij x_i x_j), couplings of any sign.
Single-site Gibbs sweeps (:mod:`relax.gibbs`) mix slowly once couplings are strong: a
ferromagnetic domain only shrinks by the diffusion of its walls.  A Swendsen–Wang (SW)
update flips whole clusters at once.

The SW update (generalised to fields and to couplings of either sign)
----------------------------------------------------------------------
Call edge (i, j) *satisfied* when J_ij x_i x_j > 0, and let p_ij = 1 − exp(−2|J_ij|).

1. Bonds: independently for each satisfied edge, open a bond with probability p_ij;
   unsatisfied edges stay closed.
2. Clusters: the connected components of the open bonds (isolated sites included).
3. Flips: independently for each cluster C, with F_C = Σ_{i∈C} h_i x_i, flip every spin
   of C with probability 1 / (1 + exp(2 F_C)).

A cluster sweep (:func:`sweep`) is one SW update followed by one colour-class Gibbs sweep
(:func:`relax.gibbs.sweep`): the Gibbs sweep relaxes single sites in strong fields,
where a large cluster carries a large F_C and rarely flips.  The SW update alone is
already irreducible and aperiodic for finite couplings (with probability
Π(1 − p_ij) > 0 no bond opens and each site flips alone with positive probability),
so the composition is mainly for speed; ``with_gibbs=False`` gives SW updates only.

Why p is invariant (Edwards–Sokal).  For every edge, with s = J x_i x_j,

    exp(J x_i x_j) = exp(|J|) · [ (1 − p) + p · 1{s > 0} ],   1 − p = exp(−2|J|)

(both sides are exp(|J|) when s > 0 and exp(−|J|) when s < 0).  So p is the x-marginal
of the joint law on spins x and bonds b ∈ {0, 1}^E

    π(x, b) ∝ exp(h·x) Π_{e∈E} [ (1 − p_e) 1{b_e = 0} + p_e 1{b_e = 1} 1{s_e(x) > 0} ].

Given x, the factors are independent over e and b_e = 1 has conditional probability
p_e 1{s_e > 0}: step 1 samples π(b | x) exactly.  Given b, π(x | b) ∝ exp(h·x) on the
x whose open bonds are all satisfied.  On a cluster C, a satisfied bond fixes the
product x_i x_j = sign(J_ij), so the spins of C are determined up to a global sign:
x_C or −x_C (both satisfy the bonds, and x_C does, since every bond was opened on a
satisfied edge).  Clusters share no open bond, so π(x | b) is a product over clusters
of the two-point law P(x_C) ∝ exp(F_C), P(−x_C) ∝ exp(−F_C), whence

    P(flip C) = exp(−F_C) / (exp(F_C) + exp(−F_C)) = 1 / (1 + exp(2 F_C)),

whatever the current orientation: steps 2–3 sample π(x | b) exactly (a heat bath, not
a Metropolis flip).  Detailed balance of the SW kernel K(x, x') = Σ_b π(b | x) π(x' | b):

    p(x) K(x, x') = Σ_b π(x, b) π(x', b) / π(b) = p(x') K(x', x),

symmetric in x and x'.  The Gibbs sweep leaves p invariant too (:mod:`relax.gibbs`), so
the cluster sweep does; it is not reversible as a whole (it is a product of reversible
kernels), which an MCMC sampler does not need.

Implementation: :mod:`relax.kernels.clusters` (numba, union-find per chain, chains split
between threads) for the SW update, then the public :func:`relax.gibbs.sweep`, called
from Python rather than fused into the kernel: numba's cache does not see changes in
another file, so a fused kernel could keep running a stale copy of a changed Gibbs
sweep.  The price is two parallel regions per sweep instead of one; on the shared
2-core machine, with another process holding a core, two threads then took about 2–4
times the one-thread time per sweep (one thread: the same time either way), so there,
as for Gibbs, ``numba.set_num_threads(1)`` is the robust choice.

Random numbers are counter based: the uniforms of sweep s are a pure function of
(``chains.key``, ``chains.chain_keys[c]``, s, edge or site index), in a counter range
disjoint from the Gibbs sweeps' (the layout is in :mod:`relax.kernels.clusters`), so a
run is the same for a seed whatever the number of threads, and Gibbs and cluster sweeps
may be mixed on the same :class:`~relax.gibbs.GibbsChains`.  Cluster sweep s uses the
Gibbs counters of sweep s, and ``sweeps_done`` counts both kinds alike.

:func:`reference_cluster_update` is a plain numpy/scipy SW update (connected components
by :func:`scipy.sparse.csgraph.connected_components`), for tests and as the benchmark
baseline.  numba is imported on the first sweep, not with this module.
"""

from __future__ import annotations

import importlib
from dataclasses import replace
from types import ModuleType
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from relax import gibbs
from relax.gibbs import Couplings, GibbsChains


def kernels() -> ModuleType:
    """The numba kernels (:mod:`relax.kernels.clusters`), imported on first use."""
    return importlib.import_module("relax.kernels.clusters")


class ClusterEdges(NamedTuple):
    """The edges of a pairwise model in interaction order (edge t = interaction t)."""

    i: np.ndarray  # (m,) int64, the smaller end
    j: np.ndarray  # (m,) int64, the larger end
    J: np.ndarray  # (m,) float32 couplings
    p_open: np.ndarray  # (m,) float32 bond probabilities 1 − exp(−2|J|)


def bond_probability(J: np.ndarray) -> np.ndarray:
    """p = 1 − exp(−2|J|) as float32, computed in float64 (``-expm1``)."""
    return (-np.expm1(-2.0 * np.abs(np.asarray(J, dtype=np.float64)))).astype(np.float32)


def _require_pairwise(model: Couplings) -> None:
    if not model.plan.pairwise:
        raise ValueError("Swendsen-Wang cluster updates need a pairwise model; this one has"
                         " interactions of order 3 or more (use relax.gibbs.sweep)")


def cluster_edges(model: Couplings) -> ClusterEdges:
    """The edge list of a pairwise :class:`~relax.gibbs.Couplings` (from its CSR lists).

    Raises ``ValueError`` when the model has interactions of order ≥ 3.
    """
    _require_pairwise(model)
    plan = model.plan
    sites = np.repeat(np.arange(plan.n, dtype=np.int64), np.diff(plan.ptr))
    keep = np.flatnonzero(sites < plan.others)
    keep = keep[np.argsort(plan.source[keep], kind="stable")]
    if not np.array_equal(plan.source[keep], np.arange(plan.n_interactions)):
        raise ValueError("the plan does not list every pair interaction once per end")
    J = np.ascontiguousarray(model.w[keep], dtype=np.float32)
    return ClusterEdges(np.ascontiguousarray(sites[keep]),
                        np.ascontiguousarray(plan.others[keep], dtype=np.int64),
                        J, bond_probability(J))


def _checked(chains: GibbsChains, model: Couplings) -> None:
    _require_pairwise(model)
    gibbs.check_chains(chains, model.plan.n)


def sweep(chains: GibbsChains, model: Couplings, sweeps: int = 1, *, inplace: bool = False,
          with_gibbs: bool = True) -> GibbsChains:
    """Chains after ``sweeps`` further cluster sweeps (SW update, then a Gibbs sweep).

    Parameters
    ----------
    chains : GibbsChains
        The chains (as made by :func:`relax.gibbs.new_chains`); Gibbs and cluster sweeps
        may be mixed on them.
    model : Couplings
        A pairwise model (``model.plan.pairwise``); couplings of any sign, any fields.
    sweeps : int
        Number of cluster sweeps; ``sweeps_done`` advances by this number, as for
        :func:`relax.gibbs.sweep`.
    inplace : bool
        Advance the spins of ``chains`` in place and share them with the result (the
        old value must no longer be used); otherwise ``chains`` is left untouched.
    with_gibbs : bool
        True (default): each sweep s is the SW update of s followed by the colour-class
        Gibbs sweep s, exactly ``relax.gibbs.sweep`` at ``sweeps_done = s`` (its
        ``"auto"`` thread split).  False: SW updates only (still a valid sampler:
        irreducible for finite couplings).

    Returns
    -------
    GibbsChains
        The advanced chains.  Runs on ``numba.get_num_threads()`` threads (blocks of
        chains); the result does not depend on the number of threads.

    Raises
    ------
    ValueError
        If the model has interactions of order ≥ 3, the chains do not fit it, or
        ``sweeps`` is negative.
    """
    _checked(chains, model)
    sweeps = int(sweeps)
    if sweeps < 0:
        raise ValueError(f"sweeps must be >= 0; got {sweeps}")
    x = chains.spins if inplace else chains.spins.copy()
    out = replace(chains, spins=x, sweeps_done=chains.sweeps_done + sweeps)
    if sweeps == 0:
        return out
    edges = cluster_edges(model)
    k, threads = kernels(), gibbs.kernels().num_threads()
    key = np.uint64(chains.key)
    if not with_gibbs:
        k.update(x, model.h, edges.i, edges.j, edges.J, edges.p_open, key, chains.chain_keys,
                 chains.sweeps_done, sweeps, threads)
        return out
    for s in range(chains.sweeps_done, chains.sweeps_done + sweeps):
        k.update(x, model.h, edges.i, edges.j, edges.J, edges.p_open, key, chains.chain_keys,
                 s, 1, threads)
        gibbs.sweep(replace(chains, spins=x, sweeps_done=s), model, 1, inplace=True)
    return out


def update_uniforms(chains: GibbsChains, model: Couplings) -> tuple[np.ndarray, np.ndarray]:
    """The uniforms the next cluster sweep (s = ``chains.sweeps_done``) uses in its SW
    update: bond uniforms (m, C) by edge (interaction) and flip uniforms (n, C), row r
    for the cluster whose smallest site is r; float32.  Passed to
    :func:`reference_cluster_update`, they make it reproduce the kernel's SW update."""
    _checked(chains, model)
    return kernels().uniforms(np.uint64(chains.key), chains.chain_keys, chains.sweeps_done,
                              model.plan.n_interactions, model.plan.n)


# ----------------------------------------------------------------- numpy reference


def reference_cluster_update(x: np.ndarray, edges: np.ndarray, J: np.ndarray, h: np.ndarray,
                             rng: np.random.Generator | None = None, *,
                             bond_u: np.ndarray | None = None,
                             flip_u: np.ndarray | None = None) -> np.ndarray:
    """One SW update of every chain in plain numpy/scipy; ``x`` (n, C) is updated in place
    and returned.

    Edge t = (``edges[t, 0]``, ``edges[t, 1]``) with coupling ``J[t]`` is opened when
    J_t x_i x_j > 0 and ``bond_u[t, c]`` < 1 − exp(−2|J_t|) (:func:`bond_probability`);
    the clusters are the connected components of the open bonds over all chains at once
    (one block-diagonal graph of n·C vertices, :func:`scipy.sparse.csgraph.
    connected_components`); the cluster whose smallest site is r is flipped when
    ``flip_u[r, c]`` < 1 / (1 + exp(2 Σ_{i∈C} h_i x_i)) (float64).  ``bond_u`` (m, C)
    and ``flip_u`` (n, C) default to ``rng.random`` float32 draws.
    """
    n, C = x.shape
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    i, j = edges[:, 0], edges[:, 1]
    J = np.asarray(J, dtype=np.float64)
    if bond_u is None:
        bond_u = rng.random((edges.shape[0], C), dtype=np.float32)
    if flip_u is None:
        flip_u = rng.random((n, C), dtype=np.float32)
    xi, xj = x[i].astype(np.float64), x[j].astype(np.float64)
    bonds = (J[:, None] * xi * xj > 0) & (bond_u < bond_probability(J)[:, None])
    offset = n * np.arange(C)[None, :]  # vertex c·n + i is site i of chain c
    rows, cols = (i[:, None] + offset)[bonds], (j[:, None] + offset)[bonds]
    graph = sp.csr_matrix((np.ones(rows.size, np.int8), (rows, cols)), shape=(n * C, n * C))
    count, labels = connected_components(graph, directed=False)
    spins = x.T.reshape(-1).astype(np.float64)
    energy = np.bincount(labels, weights=np.tile(np.asarray(h, np.float64), C) * spins,
                         minlength=count)
    smallest = np.full(count, n * C, dtype=np.int64)
    np.minimum.at(smallest, labels, np.arange(n * C))
    with np.errstate(over="ignore"):
        p_flip = 1.0 / (1.0 + np.exp(2.0 * energy))
    flip = np.asarray(flip_u).T.reshape(-1)[smallest] < p_flip
    x *= np.where(flip[labels], -1, 1).reshape(C, n).T.astype(x.dtype)
    return x


def reference_sweep(x: np.ndarray, edges: np.ndarray, J: np.ndarray, h: np.ndarray,
                    plan: gibbs.ReferencePlan, rng: np.random.Generator,
                    sweeps: int = 1) -> np.ndarray:
    """``sweeps`` cluster sweeps in numpy: :func:`reference_cluster_update`, then
    :func:`relax.gibbs.reference_sweep` on ``plan`` (the same model); ``x`` is a float32
    (n, C) array of ±1, updated in place and returned."""
    for _ in range(sweeps):
        reference_cluster_update(x, edges, J, h, rng)
        gibbs.reference_sweep(x, plan, rng, 1)
    return x
