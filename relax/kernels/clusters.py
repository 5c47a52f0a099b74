"""Numba kernels for Swendsen–Wang cluster updates of pairwise binary MRFs.

Hot loops only; the policy (edge list, bond probabilities, validation, the Gibbs sweep
after each update) lives in :mod:`relax.clusters`, which also states the rule and proves
its detailed balance.  This module calls only the Gibbs kernel's small hash, uniform and
exp helpers, never its sweeps: numba's cache does not notice changes in another file
(numba issue #1833), so a fused kernel could keep running a stale copy of a changed
Gibbs sweep.

Layout: spins ``x`` of shape (n, C), int8 ±1, one column per chain, as in
:mod:`relax.kernels.gibbs`.  For chain c, with edges t = (i_t, j_t), couplings J_t and
bond probabilities p_t = 1 − exp(−2|J_t|):

1. bonds: edge t is open when J_t x_i x_j > 0 (satisfied) and u_t < p_t.  Drawn for a
   tile of ``TILE`` chains at once, the chains being the innermost, SIMD axis;
2. clusters (one chain at a time: union-find is sequential): the chain's column is
   gathered into a contiguous buffer, its open bonds listed without branches and joined
   by union-find with path halving, linking the larger root under the smaller, so that
   every root is the smallest site of its cluster and ``parent[i] <= i`` always; one
   ascending pass then sets ``parent[i]`` to the root of i and sums the field energy
   F_r = Σ_{i∈C_r} h_i x_i of each cluster at its root r;
3. flips: the cluster with root r is flipped if v_r (1 + exp(2 F_r)) < 1, i.e. with
   probability 1 / (1 + exp(2 F_r)), 2 F_r clamped to [−40, 40] (float32, the Gibbs
   kernel's vectorized ``exp32``); then x_i ← ±x_i by the decision at its root.

Precision: uniforms have 24 bits and p_t is float32, so bond and flip probabilities are
resolved to about 2⁻²⁴ (as in the Gibbs kernel): a cluster with 2 F_r ≥ 17 still flips
with probability about 2⁻²⁴ (when u = 0) instead of ≈ exp(−2 F_r), and an edge with
|J_t| ≳ 8.7 (float32 p_t = 1) always opens when satisfied.

Cost O(n + |E|) per chain and update (path halving with linking by index is O(log n)
amortized per find; on lattices the trees stay a few levels deep).  The unions dominate
(an unpredictable branch or two per open bond); a Gibbs sweep, all SIMD, costs about a
tenth as much or less.

Random numbers are counter based, like the Gibbs kernel's, and never collide with it.
The Gibbs sweep s uses the counters s·n + i (site i) of the SplitMix64 stream ``key``;
the cluster update of sweep s uses

    bond of edge t:           2⁶³ + s·(m + n) + t        (0 ≤ t < m edges)
    flip of cluster root r:   2⁶³ + s·(m + n) + m + r    (0 ≤ r < n sites)

(uint64 arithmetic), hashed by :func:`relax.kernels.gibbs.site_hash` and combined with
the chain key by :func:`relax.kernels.gibbs.uniform24`.  The ranges are disjoint while
(s + 1)·(m + n) ≤ 2⁶³ (any reachable number of sweeps); SplitMix64's input key + counter·γ
is a bijection of the counter (γ odd), so distinct counters get distinct inputs.  The
edge index t is the interaction's index in the graph and the flip uniform is keyed by
the cluster's smallest site, so the update is a pure function of (key, chain key, s,
x): independent of the number of threads and of the order in which edges are joined.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from relax.kernels.gibbs import (
    CLAMP,
    MINUS,
    ONE,
    PLUS,
    TWO,
    exp32,
    site_hash,
    uniform24,
)

SW_OFFSET = np.uint64(2**63)  # counter offset of the cluster updates (see module doc)
TILE = 64  # chains whose bonds are drawn at once


@njit(cache=True)
def sw_counter_base(s, m, n):
    """First counter of the cluster update of sweep ``s`` (m edges, n sites), uint64."""
    return SW_OFFSET + np.uint64(s) * np.uint64(m + n)


@njit(cache=True)
def _hashes(key, s, m, n, bond_hash, flip_hash):
    """The per-edge and per-site hashes of the cluster update of sweep ``s``."""
    base = sw_counter_base(s, m, n)
    for t in range(m):
        bond_hash[t] = site_hash(key, base + np.uint64(t))
    for i in range(n):
        flip_hash[i] = site_hash(key, base + np.uint64(m + i))


@njit(cache=True)
def _find(parent, i):
    """Root of i, halving the path on the way (keeps ``parent[k] <= k``)."""
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


@njit(cache=True, fastmath={"contract"})
def _bonds(x, c0, ct, ei, ej, J, p_open, bond_hash, chain_keys, bonds):
    """bonds[t, c] = edge t is satisfied and opened, chains c0 … c0 + ct − 1 (SIMD).

    Rows are sliced before the chain loop so LLVM sees no aliasing and vectorizes it
    (indexing ``x[i, c0 + c]`` in the loop ran several times slower).
    """
    ck = chain_keys[c0:c0 + ct]
    for t in range(ei.shape[0]):
        Jt, pt, a = J[t], p_open[t], bond_hash[t]
        xi, xj, bt = x[ei[t], c0:c0 + ct], x[ej[t], c0:c0 + ct], bonds[t]
        for c in range(ct):
            bt[c] = (Jt * np.float32(xi[c] * xj[c]) > 0) & (uniform24(a, ck[c]) < pt)


@njit(cache=True, fastmath={"contract"})
def _chain_update(x, col, c, h, ei, ej, bonds, flip_hash, chain_key, parent, opened, xc,
                  energy, sign):
    """SW update of chain (column) ``col`` of ``x`` given its open bonds ``bonds[:, c]``
    (one chain, contiguous scratch arrays of length n and m)."""
    n = x.shape[0]
    for i in range(n):
        parent[i] = i
        energy[i] = 0.0
        xc[i] = x[i, col]
    k = 0
    for t in range(ei.shape[0]):  # branch-free list of the open bonds
        opened[k] = t
        k += bonds[t, c]
    for q in range(k):
        t = opened[q]
        ri, rj = _find(parent, ei[t]), _find(parent, ej[t])
        if ri < rj:
            parent[rj] = ri
        elif rj < ri:
            parent[ri] = rj
    for i in range(n):  # ascending: parent[i] < i is already a root, or i is one
        r = parent[parent[i]]
        parent[i] = r
        energy[r] += h[i] * np.float32(xc[i])
    for r in range(n):  # a decision at every site (vectorized); only roots are read
        y = min(max(TWO * energy[r], -CLAMP), CLAMP)
        u = uniform24(flip_hash[r], chain_key)
        sign[r] = MINUS if u + u * exp32(y) < ONE else PLUS
    for i in range(n):
        x[i, col] = xc[i] * sign[parent[i]]


@njit(cache=True)
def _block(x, h, ei, ej, J, p_open, key, chain_keys, first_sweep, updates):
    """All updates of the chains (columns) of ``x`` on one thread: per tile of ``TILE``
    chains, the bonds (SIMD over chains), then clusters and flips chain by chain."""
    n, C, m = x.shape[0], x.shape[1], ei.shape[0]
    T = min(TILE, C)
    bonds = np.zeros((m, T), np.uint8)
    parent = np.empty(n, np.int32)
    opened = np.empty(m, np.int64)
    xc = np.empty(n, np.int8)
    energy = np.empty(n, np.float32)
    sign = np.empty(n, np.int8)
    bond_hash = np.empty(m, np.uint32)
    flip_hash = np.empty(n, np.uint32)
    for s in range(first_sweep, first_sweep + updates):
        _hashes(key, s, m, n, bond_hash, flip_hash)
        for c0 in range(0, C, T):
            ct = min(T, C - c0)
            _bonds(x, c0, ct, ei, ej, J, p_open, bond_hash, chain_keys, bonds)
            for c in range(ct):
                _chain_update(x, c0 + c, c, h, ei, ej, bonds, flip_hash, chain_keys[c0 + c],
                              parent, opened, xc, energy, sign)


@njit(cache=True, parallel=True)
def update(x, h, ei, ej, J, p_open, key, chain_keys, first_sweep, updates, n_threads):
    """``updates`` SW updates of all chains, in place (counter positions ``first_sweep``,
    ``first_sweep + 1``, …).

    Parameters
    ----------
    x : int8 (n, C)
        Spins ±1, column c is chain c.
    h : float32 (n,)
        Fields.
    ei, ej, J, p_open
        Edge t joins sites ``ei[t] < ej[t]`` (int64) with coupling ``J[t]`` and bond
        probability ``p_open[t]`` = 1 − exp(−2|J_t|) (float32); t is the interaction's
        index in the graph (its counter slot).
    key, chain_keys
        Stream key (uint64) and distinct per-chain keys (uint32, (C,)).
    first_sweep, updates
        Sweep index s of the first update (the counter position) and number of updates.
    n_threads : int
        The chains are cut into ``n_threads`` blocks (multiples of 8 chains) that each
        thread copies out, updates alone and copies back.  Every chain is updated by
        the same operations on the same uniforms whatever the split, so the result
        does not depend on it.
    """
    C = x.shape[1]
    if n_threads == 1 or C < 16:
        _block(x, h, ei, ej, J, p_open, key, chain_keys, first_sweep, updates)
        return
    block = 8 * -(-C // (8 * n_threads))
    for b in prange(-(-C // block)):
        c0, c1 = b * block, min(C, (b + 1) * block)
        xb = np.ascontiguousarray(x[:, c0:c1])
        _block(xb, h, ei, ej, J, p_open, key, np.ascontiguousarray(chain_keys[c0:c1]),
               first_sweep, updates)
        x[:, c0:c1] = xb


@njit(cache=True)
def uniforms(key, chain_keys, s, m, n):
    """The uniforms of the cluster update of sweep ``s``: bond uniforms (m, C) and flip
    uniforms (n, C) (row r: the cluster whose smallest site is r), float32."""
    C = chain_keys.shape[0]
    bond_hash = np.empty(m, np.uint32)
    flip_hash = np.empty(n, np.uint32)
    _hashes(key, s, m, n, bond_hash, flip_hash)
    bond_u = np.empty((m, C), np.float32)
    flip_u = np.empty((n, C), np.float32)
    for c in range(C):
        for t in range(m):
            bond_u[t, c] = uniform24(bond_hash[t], chain_keys[c])
        for i in range(n):
            flip_u[i, c] = uniform24(flip_hash[i], chain_keys[c])
    return bond_u, flip_u
