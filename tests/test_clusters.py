"""Swendsen–Wang cluster sweeps: the SW transition matrix by enumeration of bond sets,
stationary laws against exact enumeration, the numba kernel against the numpy/scipy
reference, reproducibility (seeds, threads, Gibbs composition), input checks, mixing.

Statistical tolerances as in test_gibbs.py: for N independent draws from p over K
states, E[TV(p̂, p)] ≤ ½ Σ_x sqrt(p_x(1 − p_x)/N) and P(TV > E-bound + t) ≤ exp(−2Nt²)
(McDiarmid); tests allow the E-bound + t with exp(−2Nt²) = δ, δ = 1e-6 split over the
rows checked.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from dataclasses import replace

import numba
import numpy as np
import pytest
from test_gibbs import DELTA, empirical, state_index, tv, tv_tolerance
from test_gibbs import exact_p as exact_ising_p

from relax import clusters, gibbs, graphs
from relax.enumeration import all_points


# ----------------------------------------------------------------------- helpers
def exact_p(n, edges, h, J):
    """p(x) ∝ exp(h·x + Σ_t J_t x_i x_j) over all_points(n), directly."""
    return exact_ising_p(n, edges, np.concatenate([h, J]))


def model_of(g, h, J):
    return gibbs.couplings(gibbs.sweep_plan(g), h, J)


def chains_at(states, n_chains, seed):
    """Chains whose spins are the given (n, C) ±1 states."""
    chains = gibbs.new_chains(states.shape[0], n_chains, np.random.default_rng(seed))
    return replace(chains, spins=np.ascontiguousarray(states, dtype=np.int8))


def sw_transition(n, edges, h, J):
    """The exact SW transition matrix K[x, x'] (all_points order) from the definition:
    every subset of the satisfied edges as the open bonds (probability Π p or 1 − p),
    clusters by a plain depth-first search, every subset of clusters flipped
    (probability Π 1/(1 + exp(2 F_C)) or its complement)."""
    X = all_points(n)
    p_open = 1 - np.exp(-2 * np.abs(J))
    K = np.zeros((2**n, 2**n))
    for a, x in enumerate(X):
        sat = [t for t, (i, j) in enumerate(edges) if J[t] * x[i] * x[j] > 0]
        for opened in itertools.product((0, 1), repeat=len(sat)):
            w_bonds = np.prod([p_open[t] if o else 1 - p_open[t]
                               for t, o in zip(sat, opened, strict=True)])
            adj = {i: [] for i in range(n)}
            for t, o in zip(sat, opened, strict=True):
                if o:
                    i, j = edges[t]
                    adj[i].append(j)
                    adj[j].append(i)
            comps, seen = [], set()
            for s in range(n):
                if s in seen:
                    continue
                stack, comp = [s], []
                seen.add(s)
                while stack:
                    v = stack.pop()
                    comp.append(v)
                    for u in adj[v]:
                        if u not in seen:
                            seen.add(u)
                            stack.append(u)
                comps.append(comp)
            p_flip = [1 / (1 + np.exp(2 * sum(h[i] * x[i] for i in c))) for c in comps]
            for flips in itertools.product((0, 1), repeat=len(comps)):
                y = x.copy()
                w = w_bonds
                for c, f, q in zip(comps, flips, p_flip, strict=True):
                    w *= q if f else 1 - q
                    if f:
                        y[c] = -y[c]
                K[a, state_index(y[None])[0]] += w
    return K


def _tiny_models():
    rng = np.random.default_rng(7)
    k4 = graphs.complete(4)  # 6 edges, two triangles per site: frustrated with ±J
    ring = graphs.cycle(4)
    return {
        "K4 ±J, fields": (k4, 0.7 * rng.standard_normal(4),
                          np.array([1.1, -0.8, 0.9, -1.2, 0.7, -1.0])),
        "ring ferro, fields": (ring, np.array([0.5, -0.3, 0.2, 0.4]), np.full(4, 0.9)),
        "K4 gaussian, no field": (k4, np.zeros(4), rng.standard_normal(6)),
    }


TINY = _tiny_models()


# ------------------------------------------------- the SW rule, exactly (n ≤ 4)
@pytest.mark.parametrize("name", list(TINY))
def test_sw_transition_matrix_satisfies_detailed_balance(name):
    """The rule as specified (bond and flip probabilities, flip sign convention) is
    reversible with respect to p ∝ exp(h·x + Σ J x_i x_j)."""
    g, h, J = TINY[name]
    K = sw_transition(g.n, g.interactions, h, J)
    p = exact_p(g.n, g.interactions, h, J)
    assert np.allclose(K.sum(axis=1), 1, atol=1e-12)
    flow = p[:, None] * K
    assert np.allclose(flow, flow.T, atol=1e-14)
    assert np.allclose(p @ K, p, atol=1e-14)
    # and it is not trivially so: the flip probability depends on the fields' sign
    if np.any(h):
        K_wrong = sw_transition(g.n, g.interactions, -h, J)
        assert not np.allclose(p @ K_wrong, p, atol=1e-3)


@pytest.mark.parametrize("name", list(TINY))
def test_one_sw_update_follows_the_transition_matrix(name):
    """From every start state, one kernel SW update and one reference update are
    distributed as the row of the exact transition matrix."""
    g, h, J = TINY[name]
    K = sw_transition(g.n, g.interactions, h, J)
    per = 2**13
    starts = np.repeat(all_points(g.n).T, per, axis=1)  # (n, 2^n · per), start a in block a
    model = model_of(g, h, J)
    out = clusters.sweep(chains_at(starts, starts.shape[1], 1), model, 1, with_gibbs=False)
    ref = clusters.reference_cluster_update(starts.astype(np.float32), g.interactions, J, h,
                                            np.random.default_rng(2))
    delta = DELTA / (2 * 2**g.n)
    for a in range(2**g.n):
        block = slice(a * per, (a + 1) * per)
        for X in (out.spins[:, block], ref[:, block]):
            assert tv(empirical(X.T, g.n), K[a]) < tv_tolerance(K[a], per, delta)


# ------------------------------------------ stationary laws against enumeration
def _small_models():
    rng = np.random.default_rng(11)
    ring = graphs.cycle(8)
    torus = graphs.torus(3)  # odd sides: greedy colouring, triangles through the wrap
    er = graphs.erdos_renyi(10, 0.4, seed=3)
    rr = graphs.random_regular(10, 3, seed=4)
    pm = lambda m: rng.choice([-1.0, 1.0], m)  # noqa: E731
    return {
        "ferro ring": (ring, np.zeros(8), np.full(8, 1.2)),
        "ferro torus, fields": (torus, 0.3 * rng.standard_normal(9), np.full(18, 0.8)),
        "±J, no field": (er, np.zeros(10), 0.9 * pm(len(er.interactions))),
        "±J, fields": (er, 0.5 * rng.standard_normal(10), 0.9 * pm(len(er.interactions))),
        "gaussian, fields": (rr, 0.5 * rng.standard_normal(10),
                             rng.standard_normal(len(rr.interactions))),
        "fields only": (graphs.from_interactions(5, []), np.array([0.3, -1, 2, 0, -0.5]),
                        np.zeros(0)),
    }


SMALL = _small_models()
N = 2**16


@pytest.mark.parametrize("with_gibbs", [True, False])
@pytest.mark.parametrize("name", list(SMALL))
def test_exact_law_is_stationary(name, with_gibbs):
    """Chains started from exact samples stay exactly distributed after 3 sweeps."""
    g, h, J = SMALL[name]
    p = exact_p(g.n, g.interactions, h, J)
    rng = np.random.default_rng(12)
    start = all_points(g.n)[rng.choice(2**g.n, N, p=p)].T
    out = clusters.sweep(chains_at(start, N, 13), model_of(g, h, J), 3, with_gibbs=with_gibbs)
    assert tv(empirical(out.spins.T, g.n), p) < tv_tolerance(p, N)


@pytest.mark.parametrize("name", ["ferro ring", "±J, fields", "gaussian, fields"])
def test_converges_to_the_exact_law_from_a_fixed_start(name):
    """From all spins +1, 25 cluster sweeps reach p (geometric convergence, any
    remaining bias far below the tolerance)."""
    g, h, J = SMALL[name]
    p = exact_p(g.n, g.interactions, h, J)
    size = N // 2
    out = clusters.sweep(chains_at(np.ones((g.n, size)), size, 14), model_of(g, h, J), 25)
    assert tv(empirical(out.spins.T, g.n), p) < tv_tolerance(p, size)


# ---------------------------------------------------- kernel against the reference
@pytest.mark.parametrize("graph, couplings, n_chains", [
    (graphs.torus(6), "±J", 200),  # frustrated, with fields
    (graphs.erdos_renyi(30, 0.2, seed=5), "gaussian", 77),  # many cluster shapes
    (graphs.cycle(40), "ferro", 33),  # strong: clusters wrap the ring
])
def test_kernel_equals_reference_given_its_uniforms(graph, couplings, n_chains):
    """With the kernel's uniforms (``update_uniforms``), the scipy connected-components
    reference reproduces every SW update of the kernel exactly, sweep after sweep."""
    rng = np.random.default_rng(15)
    m = len(graph.interactions)
    J = {"±J": rng.choice([-1.0, 1.0], m), "gaussian": 1.5 * rng.standard_normal(m),
         "ferro": 1 + 2 * rng.random(m)}[couplings]
    h = 0.4 * rng.standard_normal(graph.n)
    model = model_of(graph, h, J)
    chains = gibbs.new_chains(graph.n, n_chains, rng)
    x = chains.spins.astype(np.float32)
    flipped = 0
    for _ in range(4):
        bond_u, flip_u = clusters.update_uniforms(chains, model)
        before = x.copy()
        clusters.reference_cluster_update(x, graph.interactions,
                                          clusters.cluster_edges(model).J, model.h,
                                          bond_u=bond_u, flip_u=flip_u)
        chains = clusters.sweep(chains, model, 1, with_gibbs=False)
        assert np.array_equal(chains.spins, x.astype(np.int8))
        flipped += int(np.sum(before != x))
    assert flipped > 0


def test_cluster_edges_follow_interaction_order():
    g = graphs.erdos_renyi(12, 0.5, seed=6)
    J = np.arange(len(g.interactions), dtype=float) / 10 - 1
    e = clusters.cluster_edges(model_of(g, np.zeros(12), J))
    assert np.array_equal(np.c_[e.i, e.j], np.array(g.interactions))
    assert np.allclose(e.J, J) and e.J.dtype == np.float32
    assert np.allclose(e.p_open, 1 - np.exp(-2 * np.abs(e.J)), rtol=1e-6)


def test_reference_sweep_matches_enumeration():
    """The numpy cluster sweep (the benchmark baseline) keeps p stationary too."""
    g, h, J = SMALL["±J, fields"]
    p = exact_p(g.n, g.interactions, h, J)
    rng = np.random.default_rng(16)
    x = all_points(g.n)[rng.choice(2**g.n, N, p=p)].T.astype(np.float32)
    ref = gibbs.reference_plan(g, h, J)
    x = clusters.reference_sweep(x, g.interactions, J, h, ref, rng, 2)
    assert tv(empirical(x.T, g.n), p) < tv_tolerance(p, N)


# ----------------------------------------------------------------- reproducibility
def _run(g, n_chains, sweeps, seed, theta_seed=0, **kw):
    rng = np.random.default_rng(theta_seed)
    model = model_of(g, rng.standard_normal(g.n), rng.standard_normal(len(g.interactions)))
    return clusters.sweep(gibbs.new_chains(g.n, n_chains, np.random.default_rng(seed)), model,
                          sweeps, **kw)


def test_same_seed_same_chains():
    a, b = _run(graphs.torus(8), 64, 5, seed=7), _run(graphs.torus(8), 64, 5, seed=7)
    assert np.array_equal(a.spins, b.spins) and a.sweeps_done == 5
    assert not np.array_equal(a.spins, _run(graphs.torus(8), 64, 5, seed=8).spins)


def test_sweeps_continue_the_stream_and_inplace():
    g = graphs.torus(6)
    model = model_of(g, np.full(g.n, 0.1), np.full(72, 0.6))
    start = gibbs.new_chains(g.n, 96, np.random.default_rng(5))
    copy = start.spins.copy()
    once = clusters.sweep(start, model, 5)
    twice = clusters.sweep(clusters.sweep(start, model, 2), model, 3)
    assert np.array_equal(once.spins, twice.spins) and twice.sweeps_done == 5
    assert np.array_equal(start.spins, copy)  # untouched
    moved = clusters.sweep(start, model, 5, inplace=True)
    assert moved.spins is start.spins and np.array_equal(moved.spins, once.spins)
    assert clusters.sweep(once, model, 0).sweeps_done == 5


def test_cluster_sweep_is_sw_update_then_the_gibbs_sweep_of_the_same_index():
    """Sweep s = SW update s, then exactly ``gibbs.sweep`` at sweeps_done = s: the SW and
    Gibbs counters do not collide, and cluster and Gibbs sweeps mix on one state."""
    g = graphs.torus(8)
    rng = np.random.default_rng(17)
    model = model_of(g, 0.3 * rng.standard_normal(g.n), rng.standard_normal(128))
    chains = gibbs.sweep(gibbs.new_chains(g.n, 80, rng), model, 3)  # sweeps_done = 3
    both = clusters.sweep(chains, model, 1)
    sw = clusters.sweep(chains, model, 1, with_gibbs=False)
    assert not np.array_equal(sw.spins, chains.spins)
    then = gibbs.sweep(replace(sw, sweeps_done=chains.sweeps_done), model, 1)
    assert np.array_equal(both.spins, then.spins) and both.sweeps_done == then.sweeps_done == 4
    mixed = gibbs.sweep(clusters.sweep(gibbs.sweep(chains, model, 2), model, 2), model, 1)
    assert mixed.sweeps_done == 8


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs 2 numba threads")
@pytest.mark.parametrize("graph, n_chains", [
    (graphs.torus(16), 600),
    (graphs.erdos_renyi(40, 0.1, seed=9), 130),  # blocks of 72 and 58: partial tiles
    (graphs.chain(7), 12),  # too few chains to split: one thread
])
def test_one_and_two_threads_identical(graph, n_chains):
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = _run(graph, n_chains, 3, seed=11)
        numba.set_num_threads(2)
        two = _run(graph, n_chains, 3, seed=11)
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(one.spins, two.spins)


# ----------------------------------------------------------------------- input checks
def test_higher_order_interactions_are_rejected():
    g = graphs.from_interactions(4, [(0, 1, 2), (2, 3)])
    model = model_of(g, np.zeros(4), np.ones(2))
    chains = gibbs.new_chains(4, 8, np.random.default_rng(0))
    with pytest.raises(ValueError, match="pairwise"):
        clusters.sweep(chains, model, 1)
    with pytest.raises(ValueError, match="pairwise"):
        clusters.cluster_edges(model)


def test_chains_are_validated():
    model = model_of(graphs.chain(5), np.zeros(5), np.zeros(4))
    with pytest.raises(ValueError, match="n=4"):
        clusters.sweep(gibbs.new_chains(4, 8, np.random.default_rng(0)), model, 1)
    five = gibbs.new_chains(5, 8, np.random.default_rng(0))
    with pytest.raises(ValueError, match="int8"):
        clusters.sweep(replace(five, spins=five.spins.astype(float)), model, 1)


def test_numba_is_not_imported_with_the_module():
    code = ("import sys, relax.clusters\n"
            "print('numba' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True).stdout.split()
    assert out == ["False"]


# ------------------------------------------------------------------------------ mixing
def test_cluster_sweeps_order_a_strong_ferromagnetic_ring_where_gibbs_does_not():
    """Ring of 64 spins, J = 3, 256 chains from random states.  Gibbs removes domain
    walls only when two diffusing walls meet; SW flips whole domains and leaves a chain
    ordered (all +1 or all −1) after a few dozen sweeps.  At equilibrium about 98% of
    chains are ordered (a pair of walls costs exp(−12) per placement)."""
    g = graphs.cycle(64)
    model = model_of(g, np.zeros(64), np.full(64, 3.0))
    chains = gibbs.new_chains(64, 256, np.random.default_rng(2024))

    def ordered(c):
        return np.mean(np.abs(c.spins.astype(int).sum(axis=0)) == 64)

    assert ordered(chains) == 0
    assert ordered(clusters.sweep(chains, model, 30)) > 0.9
    assert ordered(gibbs.sweep(chains, model, 30)) < 0.3
