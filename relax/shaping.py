"""Fitness shaping: per-sample weights ω with g_θ = Σ_i ω_i (T(x_i) − η).

Smaller f is better, so a *good* sample gets a *negative* weight and the step
ξ ← ξ − ρ g moves towards it.

======================  ===========================================================
``"raw"``               ω_i = f_i / N                    (unbiased for E[f (T − η)])
``"centered"``          ω_i = (f_i − f̄) / (N − 1)         (sample covariance)
``"standardized"``      ω_i = (f_i − f̄) / ((N − 1) s_f)  (s_f the sample std of f)
``"ranks"``             ω_i = −w(rank_i)                 (IGO quantile weights)
======================  ===========================================================

The rank weights are the CMA-ES ones: the best μ = ⌊N/2⌋ samples get
w_r ∝ log(μ + ½) − log r (r = 1..μ), normalized to Σ w = 1, the rest 0; tied f values
share the average of their weights (IGO's tie rule).  With these, the natural-η step
η ← η − ρ g_θ = η + ρ Σ_r w_r (T(x_{r:N}) − η) is the CMA-ES rank-μ update on a Gaussian
and the PBIL update on a Bernoulli model.

Scale.  ``"raw"`` and ``"centered"`` are the textbook quantities at the scale of f (a fixed
ρ then moves by ρ times a gradient of F, which the Monte Carlo flows rely on); they are
computed on f divided by a power of two, so that no intermediate overflows or underflows
for |f| anywhere in [1e-300, 1e300].  ``"standardized"`` and ``"ranks"`` do not depend on
the scale of f at all.  :func:`unit_scale` divides f by the power of two 2^e nearest above
max |f| — an exact operation that changes no ratio — which the optimizer applies before a
trust-region step: that step depends only on the direction, never on its length, so it is
unchanged, while its quadratic form can no longer underflow to 0 (ρ = ∞) or overflow to ∞
(ρ = 0) when f is around 1e-200 or 1e300.
"""

from __future__ import annotations

import numpy as np

from relax import backend
from relax.backend import to_numpy

SHAPINGS = ("ranks", "raw", "centered", "standardized")


def rank_weights(N: int) -> np.ndarray:
    """w_r for ranks r = 1..N (best first): log weights on the best ⌊N/2⌋, summing to 1."""
    mu = max(N // 2, 1)
    w = np.zeros(N)
    w[:mu] = np.log(mu + 0.5) - np.log(np.arange(1, mu + 1))
    return w / w.sum()


def tied_rank_weights(fX: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """w(rank of f_i) for each i; a group of equal values shares the mean of its weights.

    ``w`` holds the weights of ranks 1, 2, … (best first; default :func:`rank_weights`);
    it may be longer than ``fX`` (then only its first ``fX.size`` entries are used).
    ``fX`` and ``w`` may be arrays of another namespace (cupy: the sort runs on the
    device), see :func:`_tied_rank_weights_xp`.
    """
    if not isinstance(fX, np.ndarray):
        return _tied_rank_weights_xp(fX, w)
    N = fX.size
    order = np.argsort(fX, kind="stable")
    sorted_f = fX[order]
    w = rank_weights(N) if w is None else w[:N]
    out = np.empty(N)
    if N < 2 or np.all(sorted_f[1:] != sorted_f[:-1]):  # no ties: the common case
        out[order] = w
        return out
    starts = np.flatnonzero(np.concatenate([[True], sorted_f[1:] != sorted_f[:-1]]))
    sizes = np.diff(np.append(starts, N))
    out[order] = np.repeat(np.add.reduceat(w, starts) / sizes, sizes)
    return out


def _tied_rank_weights_xp(fX, w):
    """:func:`tied_rank_weights` in the namespace of ``fX``: a stable argsort, then
    out_i = w[rank_i] with the ranks the inverse permutation (the argsort of the order);
    with ties, the group means are taken on the host (ties come with small populations)."""
    bk = backend.of(fX)
    xp, N = bk.xp, fX.shape[0]
    w = bk.asarray(rank_weights(N)) if w is None else w[:N]
    order = bk.argsort(fX)
    sorted_f = xp.take(fX, order)
    if N >= 2 and bool(xp.any(sorted_f[1:] == sorted_f[:-1])):
        return bk.asarray(tied_rank_weights(to_numpy(fX), to_numpy(w)))
    return xp.take(w, bk.argsort(order))


def shape(fX: np.ndarray, method: str = "ranks") -> np.ndarray:
    """Weights ω (see module docstring) for finite values ``fX``."""
    fX = np.asarray(fX, dtype=float)
    N = fX.size
    if method == "ranks":
        return -tied_rank_weights(fX)
    if method == "raw":
        return fX / N
    if method not in SHAPINGS:
        raise ValueError(f"shaping must be one of {', '.join(map(repr, SHAPINGS))}; "
                         f"got {method!r}")
    if N < 2:
        raise ValueError(f"shaping={method!r} needs at least 2 samples")
    g, e = unit_scale(fX)
    centred = (g - g.mean()) / (N - 1)
    if method == "centered":
        return np.ldexp(centred, e)
    s = g.std(ddof=1)
    return centred / s if s > 0 else np.zeros(N)


def unit_scale(values: np.ndarray) -> tuple[np.ndarray, int]:
    """``(values · 2⁻ᵉ, e)`` with 2^e the power of two just above max |finite value|
    (so the finite results lie in (−1, 1)); e = 0 when no value is finite and non-zero.
    Exact: multiplying by a power of two rounds nothing (bar values 2^1000 times smaller
    than the largest, which become 0)."""
    values = np.asarray(values, dtype=float)
    finite = np.abs(values[np.isfinite(values)])
    top = float(finite.max()) if finite.size else 0.0
    if top == 0.0:
        return values, 0
    e = int(np.frexp(top)[1])
    return np.ldexp(values, -e), e
