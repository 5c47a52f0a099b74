"""Colour-class Gibbs sampling: distributions against exact enumeration, the numba kernel
against the numpy reference, reproducibility (seeds, threads), and the kernel's pieces.

Statistical tolerances: for N independent draws from p over K states the empirical p̂
has E[TV(p̂, p)] ≤ ½ Σ_x sqrt(p_x(1 − p_x)/N) (Jensen), and TV moves by at most 1/N when
one draw changes, so P(TV > E[TV] + t) ≤ exp(−2Nt²) (McDiarmid).  Tests allow
E-bound + t with exp(−2Nt²) = 1e-6.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from dataclasses import replace

import numba
import numpy as np
import pytest

from relax import gibbs, graphs
from relax.enumeration import all_points
from relax.kernels import gibbs as kernels
from relax.models import Ising

N = 2**17  # independent chains per distribution test
DELTA = 1e-6


def exact_p(n, interactions, theta):
    """p(x) ∝ exp(h·x + Σ_S θ_S ∏_{i∈S} x_i) over all_points(n), computed directly."""
    X = all_points(n)
    logit = X @ theta[:n]
    for S, t in zip(interactions, theta[n:], strict=True):
        logit += t * np.prod(X[:, list(S)], axis=1)
    p = np.exp(logit - logit.max())
    return p / p.sum()


def state_index(X):
    """Row index in all_points order: bit i set where x_i = −1."""
    X = np.asarray(X)
    return ((X < 0).astype(np.int64) << np.arange(X.shape[1])).sum(axis=1)


def empirical(X, n):
    return np.bincount(state_index(X), minlength=2**n) / X.shape[0]


def tv_tolerance(p, size, delta=DELTA):
    return 0.5 * np.sum(np.sqrt(p * (1 - p) / size)) + np.sqrt(np.log(1 / delta) / (2 * size))


def tv(p, q):
    return 0.5 * np.abs(p - q).sum()


def local_field(i, state, n, interactions, theta):
    """h_i + Σ_{S∋i} θ_S ∏_{j∈S∖{i}} x_j, for rows of ``state`` (a Python loop over S)."""
    f = np.full(state.shape[0], theta[i])
    for S, t in zip(interactions, theta[n:], strict=True):
        if i in S:
            f += t * np.prod(state[:, [j for j in S if j != i]], axis=1)
    return f


def one_sweep_p(n, interactions, theta, colouring, x0):
    """Exact law of the state after one sweep from x0: classes 0, 1, … in order, each
    site drawn from σ(2 x_i field_i) with earlier classes already updated."""
    X1 = all_points(n)
    logp = np.zeros(X1.shape[0])
    for k in range(int(colouring.max()) + 1):
        state = np.where(colouring < k, X1, x0)
        for i in np.flatnonzero(colouring == k):
            z = 2 * X1[:, i] * local_field(i, state, n, interactions, theta)
            logp -= np.logaddexp(0.0, -z)
    return np.exp(logp)


# The test models: real-valued θ large enough that local-field or colour errors show.
def _models():
    rng = np.random.default_rng(20240611)
    triple = graphs.from_interactions(6, [(0, 1, 2), (1, 3), (2, 3, 4), (3, 4), (4, 5), (0, 5)])
    cases = {"chain": graphs.chain(6), "odd cycle": graphs.cycle(5),
             "complete": graphs.complete(5), "third order": triple}
    out = {}
    for name, g in cases.items():
        m = len(g.interactions)
        out[name] = (g, np.r_[0.6 * rng.standard_normal(g.n), 0.9 * rng.standard_normal(m)])
    return out


MODELS = _models()


@pytest.mark.parametrize("name", list(MODELS))
def test_gibbs_matches_enumeration(name):
    g, theta = MODELS[name]
    p = exact_p(g.n, g.interactions, theta)
    X = Ising(g.n, g, theta, sampler="gibbs", burn_in=100).sample(N, rng=1)
    assert tv(empirical(X, g.n), p) < tv_tolerance(p, N)


def test_models_cover_three_colours_and_third_order():
    assert MODELS["odd cycle"][0].n_colours == 3
    assert max(len(S) for S in MODELS["third order"][0].interactions) == 3


@pytest.mark.parametrize("name", list(MODELS))
def test_one_sweep_transition_is_exact(name):
    """From a fixed x0, one sweep of the kernel and of the numpy reference both follow
    the exact one-sweep law (sensitive to the colour order and to every field term)."""
    g, theta = MODELS[name]
    x0 = np.where(np.arange(g.n) % 3 == 0, -1.0, 1.0)
    p = one_sweep_p(g.n, g.interactions, theta, np.asarray(g.colouring), x0)
    plan = gibbs.sweep_plan(g)
    model = gibbs.couplings(plan, theta[: g.n], theta[g.n:])
    chains = gibbs.new_chains(g.n, N, np.random.default_rng(2))
    chains = replace(chains, spins=np.repeat(x0[:, None], N, axis=1).astype(np.int8))
    X = gibbs.samples(gibbs.sweep(chains, model, 1))
    assert tv(empirical(X, g.n), p) < tv_tolerance(p, N)

    ref = gibbs.reference_plan(g, theta[: g.n], theta[g.n:])
    x = np.repeat(x0[:, None], N, axis=1).astype(np.float32)
    Xr = gibbs.reference_sweep(x, ref, np.random.default_rng(3), 1).T
    assert tv(empirical(Xr, g.n), p) < tv_tolerance(p, N)


def test_kernel_and_reference_agree():
    """Two-sample test after 3 sweeps from a common start on a 3x3 torus with fields.

    With p̄ the pooled estimate, E[TV(p̂, q̂)] ≈ ½ Σ sqrt(2 p̄(1 − p̄)/N); one draw moves TV by
    at most 1/N, so P(TV > E + t) ≤ exp(−N t²)."""
    g = graphs.torus(3)
    rng = np.random.default_rng(4)
    h, J = 0.5 * rng.standard_normal(g.n), 0.8 * rng.standard_normal(len(g.interactions))
    x0 = np.where(rng.random(g.n) < 0.5, 1, -1)
    chains = gibbs.new_chains(g.n, N, rng)
    chains = replace(chains, spins=np.repeat(x0[:, None], N, axis=1).astype(np.int8))
    model = gibbs.couplings(gibbs.sweep_plan(g), h, J)
    p = empirical(gibbs.samples(gibbs.sweep(chains, model, 3)), g.n)
    x = np.repeat(x0[:, None], N, axis=1).astype(np.float32)
    q = empirical(gibbs.reference_sweep(x, gibbs.reference_plan(g, h, J), rng, 3).T, g.n)
    pooled = (p + q) / 2
    tol = 0.5 * np.sum(np.sqrt(2 * pooled * (1 - pooled) / N)) + np.sqrt(np.log(1 / DELTA) / N)
    assert tv(p, q) < tol


# ------------------------------------------------------------------ reproducibility
def _run(g, n_chains, sweeps, seed, theta_seed=0, split="auto"):
    rng = np.random.default_rng(theta_seed)
    m = len(g.interactions)
    model = gibbs.couplings(gibbs.sweep_plan(g), rng.standard_normal(g.n),
                            rng.standard_normal(m))
    return gibbs.sweep(gibbs.new_chains(g.n, n_chains, np.random.default_rng(seed)), model,
                       sweeps, split=split)


HYPER = graphs.from_interactions(
    300, [(i, (i + 1) % 300, (i + 7) % 300) for i in range(0, 300, 3)]
    + [(i, (i + 2) % 300) for i in range(300)])


def test_same_seed_same_chains():
    a, b = _run(graphs.torus(8), 64, 5, seed=7), _run(graphs.torus(8), 64, 5, seed=7)
    assert np.array_equal(a.spins, b.spins)
    c = _run(graphs.torus(8), 64, 5, seed=8)
    assert not np.array_equal(a.spins, c.spins)


def test_sweeps_continue_the_stream():
    g = graphs.torus(6)
    model = gibbs.couplings(gibbs.sweep_plan(g), np.full(g.n, 0.1), np.full(72, 0.3))
    start = gibbs.new_chains(g.n, 96, np.random.default_rng(5))
    once = gibbs.sweep(start, model, 5)
    twice = gibbs.sweep(gibbs.sweep(start, model, 2), model, 3)
    assert np.array_equal(once.spins, twice.spins) and twice.sweeps_done == 5
    again = pickle.loads(pickle.dumps(gibbs.sweep(start, model, 2)))
    assert np.array_equal(gibbs.sweep(again, model, 3).spins, once.spins)
    moved = gibbs.sweep(again, model, 3, inplace=True)
    assert moved.spins is again.spins and np.array_equal(moved.spins, once.spins)
    assert np.array_equal(start.spins, gibbs.new_chains(g.n, 96, np.random.default_rng(5)).spins)


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs 2 numba threads")
@pytest.mark.parametrize("split", ["chains", "sites"])
@pytest.mark.parametrize("graph, n_chains", [
    (graphs.torus(32), 64),  # a class has 2^15 updates: split between threads
    (graphs.torus(16), 200),
    (HYPER, 72),  # general kernel
    (graphs.complete(6), 64),  # classes of one site: one thread when splitting sites
    (graphs.chain(7), 12),  # too few chains to split: one thread
])
def test_one_and_two_threads_identical(graph, n_chains, split):
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = _run(graph, n_chains, 4, seed=11)
        numba.set_num_threads(2)
        two = _run(graph, n_chains, 4, seed=11, split=split)
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(one.spins, two.spins)


# ------------------------------------------------------------------- kernel pieces
def test_exp32_relative_error():
    y = np.linspace(-40, 40, 100_001).astype(np.float32)
    got = np.array([kernels.exp32(v) for v in y[::97]], dtype=np.float64)
    want = np.exp(y[::97].astype(np.float64))
    assert np.max(np.abs(got / want - 1)) < 5e-7


def test_uniforms_are_uniform_and_uncorrelated_across_chains():
    """Kolmogorov–Smirnov on 2^16 uniforms (one site, many chains; many sites, one chain),
    and the correlation of two chains' streams is within 5/sqrt(M) of 0."""
    from scipy.stats import kstest

    M = 2**16
    keys = np.random.default_rng(6).choice(2**32, M, replace=False).astype(np.uint32)
    a = kernels.site_hash(np.uint64(123), 45)
    across = np.array([kernels.uniform24(a, k) for k in keys])
    sites = [kernels.site_hash(np.uint64(123), t) for t in range(M)]
    along = np.array([[kernels.uniform24(s, k) for s in sites] for k in keys[:2]])
    for u in (across, along[0], along[1]):
        assert kstest(u, "uniform").pvalue > 1e-4
        assert u.min() >= 0 and u.max() < 1
    assert abs(np.corrcoef(along)[0, 1]) < 5 / np.sqrt(M)


def test_sweep_plan_lists_every_incidence():
    g = MODELS["third order"][0]
    plan = gibbs.sweep_plan(g)
    assert not plan.pairwise and gibbs.sweep_plan(graphs.torus(4)).pairwise
    for i in range(g.n):
        got = sorted((int(plan.source[e]),
                      tuple(plan.others[plan.oth_ptr[e]:plan.oth_ptr[e + 1]]))
                     for e in range(plan.ptr[i], plan.ptr[i + 1]))
        want = sorted((t, tuple(j for j in S if j != i))
                      for t, S in enumerate(g.interactions) if i in S)
        assert got == want
    classes = [plan.class_sites[plan.class_ptr[k]:plan.class_ptr[k + 1]]
               for k in range(g.n_colours)]
    assert all(np.all(np.asarray(g.colouring)[c] == k) for k, c in enumerate(classes))


def test_chain_keys_are_distinct_and_chains_validated():
    chains = gibbs.new_chains(4, 5000, np.random.default_rng(0))
    assert np.unique(chains.chain_keys).size == 5000
    assert chains.spins.dtype == np.int8 and set(np.unique(chains.spins)) <= {-1, 1}
    plan = gibbs.sweep_plan(graphs.chain(5))
    model = gibbs.couplings(plan, np.zeros(5), np.zeros(4))
    with pytest.raises(ValueError, match="n=4"):
        gibbs.sweep(chains, model, 1)
    with pytest.raises(ValueError, match=r"J \(4,\)"):
        gibbs.couplings(plan, np.zeros(5), np.zeros(3))
    five = gibbs.new_chains(5, 8, np.random.default_rng(0))
    with pytest.raises(ValueError, match="int8"):
        gibbs.sweep(replace(five, spins=five.spins.astype(float)), model, 1)
    with pytest.raises(ValueError, match="n_chains"):
        gibbs.new_chains(5, 0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="split"):
        gibbs.sweep(five, model, 1, split="threads")


def test_numba_is_imported_by_the_first_sweep_only():
    """``import relax`` and building an Ising model (its plan, its chains) leave numba
    unloaded; the first Gibbs sample loads it."""
    code = (
        "import sys, numpy as np, relax\n"
        "m = relax.Ising(64, relax.graphs.torus(8))\n"
        "loaded = 'numba' in sys.modules\n"
        "m.sample(4, rng=np.random.default_rng(0))\n"
        "print(loaded, 'numba' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, check=True).stdout.split()
    assert out == ["False", "True"]
