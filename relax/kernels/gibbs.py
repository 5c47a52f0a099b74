"""Numba kernels for colour-class Gibbs sweeps on binary Markov random fields.

Hot loops only; the policy (building the neighbour lists, seeding, copying) lives in
:mod:`relax.gibbs`.  The helpers are plain ``njit`` functions that LLVM inlines
(numba's own ``inline="always"`` made the loops about twice as slow here).

Layout: spins ``x`` of shape (n, C), int8 ±1, one column per chain, so the innermost
loop of every kernel runs over the C chains and vectorizes.  For site i of a colour
class the update is

    field_i = h_i + Σ_{S∋i} θ_S ∏_{j∈S∖{i}} x_j,
    x_i ← +1 with probability σ(2 field_i) = 1 / (1 + exp(−2 field_i)), else −1,

tested as ``u · (1 + exp(−2 field_i)) < 1`` with u uniform on [0, 1).

Random numbers are counter based.  Site i in sweep s gets a 32-bit hash
a = hi32(SplitMix64(key + (s·n + i)·γ)) (scalar, once per site), and chain c the uniform
u = lowbias32(a ⊕ chain_key_c) >> 8 · 2⁻²⁴ on [0, 1) (24 bits, float32, 32-bit integer
SIMD).  With distinct chain keys the chains get distinct inputs at every site.  A draw is
a pure function of (key, chain_key_c, s, i): results do not depend on how the sites of a
class are split between threads, so a colour class is updated in parallel over its sites.

Arithmetic is float32: couplings and fields are float32 and exp(−2 field) is a
vectorizable float32 exponential (Cody–Waite range reduction and the Cephes ``expf``
polynomial, relative error about 1e-7), with 2 field clamped to [−40, 40] (which
changes σ by less than e⁻⁴⁰).
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import get_num_threads, njit, prange, types
from numba.extending import intrinsic

GAMMA = np.uint64(0x9E3779B97F4A7C15)  # SplitMix64 increment (golden ratio)
MIX1 = np.uint64(0xBF58476D1CE4E5B9)
MIX2 = np.uint64(0x94D049BB133111EB)
S27, S30, S31, S32 = np.uint64(27), np.uint64(30), np.uint64(31), np.uint64(32)
LB1, LB2 = np.uint32(0x7FEB352D), np.uint32(0x846CA68B)  # lowbias32 (C. Wellons)
S8, S15, S16 = np.uint32(8), np.uint32(15), np.uint32(16)

U24 = np.float32(2.0**-24)
CLAMP = np.float32(40.0)
LOG2E = np.float32(1.4426950408889634)
LN2_HI = np.float32(0.693359375)
LN2_LO = np.float32(-2.12194440e-4)
HALF = np.float32(0.5)
ONE = np.float32(1.0)
TWO = np.float32(2.0)
P0 = np.float32(1.9875691500e-4)
P1 = np.float32(1.3981999507e-3)
P2 = np.float32(8.3334519073e-3)
P3 = np.float32(4.1665795894e-2)
P4 = np.float32(1.6666665459e-1)
P5 = np.float32(5.0000001201e-1)
PLUS, MINUS = np.int8(1), np.int8(-1)
PARALLEL_MIN = 2**15  # updates in a class below which it runs on one thread


@intrinsic
def _exp2i(typingctx, k):
    """2**k as a float32 for an integer −126 ≤ k ≤ 127, by writing the exponent bits."""
    sig = types.float32(k)

    def codegen(context, builder, signature, args):
        k32 = args[0]
        if k32.type.width != 32:
            k32 = builder.trunc(k32, ir.IntType(32))
        bits = builder.shl(builder.add(k32, ir.Constant(ir.IntType(32), 127)),
                           ir.Constant(ir.IntType(32), 23))
        return builder.bitcast(bits, ir.FloatType())

    return sig, codegen


@njit(cache=True, fastmath={"contract"})
def exp32(y):
    """exp(y) in float32 for |y| ≤ 40, written to vectorize (no libm call)."""
    k = np.floor(y * LOG2E + HALF)
    r = y - k * LN2_HI - k * LN2_LO
    p = (((((P0 * r + P1) * r + P2) * r + P3) * r + P4) * r + P5) * (r * r) + r + ONE
    return p * _exp2i(np.int32(k))


@njit(cache=True)
def site_hash(key, counter):
    """High 32 bits of SplitMix64 at position ``counter`` of the stream ``key``."""
    z = key + np.uint64(counter) * GAMMA
    z = (z ^ (z >> S30)) * MIX1
    z = (z ^ (z >> S27)) * MIX2
    return np.uint32((z ^ (z >> S31)) >> S32)


@njit(cache=True)
def uniform24(a, chain_key):
    """lowbias32(a ⊕ chain_key) >> 8, as a float32 uniform on [0, 1) with 24 bits."""
    z = np.uint32(a ^ chain_key)
    z = np.uint32(np.uint32(z ^ (z >> S16)) * LB1)
    z = np.uint32(np.uint32(z ^ (z >> S15)) * LB2)
    z = np.uint32(z ^ (z >> S16))
    return np.float32(np.int32(z >> S8)) * U24


@njit(cache=True, fastmath={"contract"})
def _draw(x, i, f, chain_keys, a):
    """x[i, c] ← ±1 with P(+1) = σ(2 f[c]) for every chain c (site hash ``a``)."""
    for c in range(x.shape[1]):
        y = min(max(-TWO * f[c], -CLAMP), CLAMP)
        u = uniform24(a, chain_keys[c])
        x[i, c] = PLUS if u + u * exp32(y) < ONE else MINUS


@njit(cache=True, fastmath={"contract"})
def _pair_field(x, i, h, ptr, nbr, w, f):
    """f[c] = h_i + Σ_e w[e] x[nbr[e], c] over the CSR neighbour list of i.

    Neighbours are taken four at a time, so a site of degree 4 (a 2-D lattice) writes f
    once.
    """
    C = x.shape[1]
    e, end = ptr[i], ptr[i + 1]
    hi = h[i]
    for c in range(C):
        f[c] = hi
    while end - e >= 4:
        j0, j1, j2, j3 = nbr[e], nbr[e + 1], nbr[e + 2], nbr[e + 3]
        w0, w1, w2, w3 = w[e], w[e + 1], w[e + 2], w[e + 3]
        for c in range(C):
            f[c] += (w0 * np.float32(x[j0, c]) + w1 * np.float32(x[j1, c])
                     + w2 * np.float32(x[j2, c]) + w3 * np.float32(x[j3, c]))
        e += 4
    while e < end:
        j, we = nbr[e], w[e]
        for c in range(C):
            f[c] += we * np.float32(x[j, c])
        e += 1


@njit(cache=True, fastmath={"contract"})
def _general_field(x, i, h, ptr, w, oth_ptr, others, f, prod):
    """f[c] = h_i + Σ_{S∋i} θ_S ∏_{j∈S∖{i}} x[j, c] over the incidence list of i."""
    C = x.shape[1]
    hi = h[i]
    for c in range(C):
        f[c] = hi
    for e in range(ptr[i], ptr[i + 1]):
        for c in range(C):
            prod[c] = np.int8(1)
        for t in range(oth_ptr[e], oth_ptr[e + 1]):
            j = others[t]
            for c in range(C):
                prod[c] *= x[j, c]
        we = w[e]
        for c in range(C):
            f[c] += we * np.float32(prod[c])


@njit(cache=True, fastmath={"contract"})
def _update(x, h, ptr, w, oth_ptr, others, pairwise, sites, key, chain_keys, s):
    """Gibbs update of the given sites (a colour class or part of one), every chain."""
    C = x.shape[1]
    f = np.empty(C, np.float32)
    prod = np.empty(C, np.int8)
    for i in sites:
        if pairwise:
            _pair_field(x, i, h, ptr, others, w, f)
        else:
            _general_field(x, i, h, ptr, w, oth_ptr, others, f, prod)
        _draw(x, i, f, chain_keys, site_hash(key, s * x.shape[0] + i))


@njit(cache=True, fastmath={"contract"})
def _sweeps(x, h, ptr, w, oth_ptr, others, pairwise, class_ptr, class_sites, key, chain_keys,
            first_sweep, sweeps):
    """All sweeps on one thread."""
    for s in range(first_sweep, first_sweep + sweeps):
        for k in range(class_ptr.shape[0] - 1):
            _update(x, h, ptr, w, oth_ptr, others, pairwise,
                    class_sites[class_ptr[k]:class_ptr[k + 1]], key, chain_keys, s)


@njit(cache=True, parallel=True)
def sweep(x, h, ptr, w, oth_ptr, others, pairwise, class_ptr, class_sites, key, chain_keys,
          first_sweep, sweeps, n_threads, split_sites):
    """``sweeps`` colour-class Gibbs sweeps of all chains, in place.

    Parameters
    ----------
    x : int8 (n, C)
        Spins ±1, column c is chain c.
    h : float32 (n,)
        Fields.
    ptr, w, oth_ptr, others
        Incidences of site i: e = ``ptr[i]:ptr[i+1]``, coupling ``w[e]`` = θ_S (float32)
        and the other members S ∖ {i} = ``others[oth_ptr[e]:oth_ptr[e+1]]``.
    pairwise : bool
        All interactions are pairs: the fast path reads ``others[e]`` as the neighbour of
        a CSR list (``oth_ptr`` unused) and needs no products.
    class_ptr, class_sites
        Colour class k = ``class_sites[class_ptr[k]:class_ptr[k+1]]``; classes in order.
    key, chain_keys
        Stream key (uint64) and distinct per-chain keys (uint32, (C,)).
    first_sweep, sweeps
        Index s of the first sweep (the counter position) and number of sweeps.
    n_threads, split_sites
        Work split between ``n_threads`` threads (the result does not depend on it).
        ``split_sites`` false: the chains are cut into ``n_threads`` blocks (multiples
        of 8 chains) that each thread copies out, sweeps alone and copies back, one
        parallel region in all.  True: each colour class with at least
        ``PARALLEL_MIN`` updates is cut into ``n_threads`` chunks of sites, one parallel
        region (and barrier) per class.
    """
    C = x.shape[1]
    if n_threads == 1 or (not split_sites and C < 16):
        _sweeps(x, h, ptr, w, oth_ptr, others, pairwise, class_ptr, class_sites, key,
                chain_keys, first_sweep, sweeps)
    elif not split_sites:
        block = 8 * -(-C // (8 * n_threads))
        for b in prange(-(-C // block)):
            c0, c1 = b * block, min(C, (b + 1) * block)
            xb = np.ascontiguousarray(x[:, c0:c1])
            _sweeps(xb, h, ptr, w, oth_ptr, others, pairwise, class_ptr, class_sites, key,
                    np.ascontiguousarray(chain_keys[c0:c1]), first_sweep, sweeps)
            x[:, c0:c1] = xb
    else:
        for s in range(first_sweep, first_sweep + sweeps):
            for k in range(class_ptr.shape[0] - 1):
                _class_parallel(x, h, ptr, w, oth_ptr, others, pairwise,
                                class_sites[class_ptr[k]:class_ptr[k + 1]], key, chain_keys, s,
                                n_threads)


@njit(cache=True, parallel=True)
def _class_parallel(x, h, ptr, w, oth_ptr, others, pairwise, sites, key, chain_keys, s,
                    n_threads):
    """One colour class, its sites cut into ``n_threads`` chunks (one thread when small)."""
    m = sites.shape[0]
    if m < n_threads or m * x.shape[1] < PARALLEL_MIN:
        _update(x, h, ptr, w, oth_ptr, others, pairwise, sites, key, chain_keys, s)
        return
    for b in prange(n_threads):
        _update(x, h, ptr, w, oth_ptr, others, pairwise,
                sites[m * b // n_threads:m * (b + 1) // n_threads], key, chain_keys, s)


def num_threads() -> int:
    """The number of threads numba runs parallel regions with (``numba.get_num_threads()``:
    ``NUMBA_NUM_THREADS`` or the cores, lowered by ``numba.set_num_threads``)."""
    return get_num_threads()
