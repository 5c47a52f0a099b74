"""Monte Carlo estimates of Cov(f, T) and solves with the empirical Fisher Cov̂(T, T).

Everything here is plain array code (``xp = numpy``) so a GPU array namespace can run it
unchanged.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse.linalg import LinearOperator, cg

DENSE_MAX_K = 512


def cov_f_T(weights: np.ndarray, T: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """g_θ = Σ_i ω_i (T(x_i) − η), the estimate of Cov(f, T) from per-sample weights ω.

    With ω_i = (f_i − f̄)/(N − 1) this is the unbiased sample covariance Cov̂(f, T); with
    quantile (rank) weights it is the IGO estimate of Cov(W(f), T) (see
    :mod:`relax.shaping`).
    """
    return (T - eta).T @ weights


def sample_cov_weights(fX: np.ndarray) -> np.ndarray:
    """ω_i = (f_i − f̄)/(N − 1): the weights that make :func:`cov_f_T` the sample covariance."""
    fX = np.asarray(fX, dtype=float)
    if fX.size < 2:
        raise ValueError("a covariance estimate needs at least 2 samples")
    return (fX - fX.mean()) / (fX.size - 1)


def solve_empirical_fisher(
    T: np.ndarray, g: np.ndarray, ridge: float = 1e-6, *, method: str = "auto"
) -> np.ndarray:
    """Solve (Cov̂(T,T) + λI) x = g with Cov̂ = T_cᵀT_c/(N − 1), T_c = T − T̄.

    The ridge is relative: λ = ridge · (mean diagonal of Cov̂), floored at 1e-300 so a
    collapsed sample still gives a finite answer.  ``method``:

    - ``"dense"``: form the k×k matrix, Cholesky solve (small k);
    - ``"woodbury"``: exact via the N×N system, x = (g − T_cᵀ(λ(N−1)I + T_cT_cᵀ)⁻¹T_c g)/λ,
      the cheap choice when N < k;
    - ``"cg"``: conjugate gradients on v ↦ T_cᵀ(T_c v)/(N−1) + λv, matrix-free;
    - ``"auto"``: dense for k ≤ 512, Woodbury when N ≤ k, CG otherwise.

    This is Malagò's stochastic natural gradient (SNGD): the least-squares fit of f on
    span(T) with a ridge.
    """
    T = np.asarray(T, dtype=float)
    g = np.asarray(g, dtype=float)
    N, k = T.shape
    if N < 2:
        raise ValueError("the empirical Fisher needs at least 2 samples")
    if ridge < 0:
        raise ValueError(f"ridge must be >= 0; got {ridge}")
    Tc = T - T.mean(axis=0)
    scale = float(np.sum(Tc * Tc)) / ((N - 1) * k)
    lam = max(ridge * scale, 1e-300)
    if method == "auto":
        method = "dense" if k <= DENSE_MAX_K else ("woodbury" if N <= k else "cg")
    if method == "dense":
        C = Tc.T @ Tc / (N - 1)
        C[np.diag_indices(k)] += lam
        return np.linalg.solve(C, g)
    if method == "woodbury":
        K = Tc @ Tc.T
        K[np.diag_indices(N)] += lam * (N - 1)
        return (g - Tc.T @ np.linalg.solve(K, Tc @ g)) / lam
    if method == "cg":
        op = LinearOperator((k, k), matvec=lambda v: Tc.T @ (Tc @ v) / (N - 1) + lam * v)
        x, info = cg(op, g, rtol=1e-10, atol=0.0, maxiter=10 * k)
        return x
    raise ValueError(f"method must be 'auto', 'dense', 'woodbury' or 'cg'; got {method!r}")
