"""Monte Carlo estimates of Cov(f, T) and solves with the empirical Fisher Cov̂(T, T).

Everything here is plain array code (``xp = numpy``) so a GPU array namespace can run it
unchanged.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg
from scipy.sparse.linalg import LinearOperator, cg

from relax import backend
from relax.backend import Backend
from relax.threads import BLAS_PIN_N, single_thread_blas

CG_ITERATIONS = 100  # the cost model's guess at conjugate-gradient iterations


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

    This is Malagò's stochastic natural gradient (SNGD): the least-squares fit of f on
    span(T) with a ridge; :class:`EmpiricalFisher` (without shrinkage) does the work.
    """
    fisher = EmpiricalFisher(T, ridge=ridge, method=method, cg_rtol=1e-10)
    return fisher.solve(np.asarray(g, dtype=float))


class EmpiricalFisher:
    """The empirical Fisher of a sample, factorized once and applied or solved many times.

        Î = (1 − α) S + α Diag(S) + λ I,    S = T_cᵀT_c/(N − 1),  T_c = T − T̄,

    ``shrinkage`` α ∈ [0, 1] pulls S towards its diagonal (the Fisher of independent
    statistics, which is the exact Fisher of an Ising model at θ = 0): with N < k samples
    S has rank < k and its pseudo-inverse returns the minimum-norm interpolant of the
    weights, while the shrunk Î stays well posed and tends to S as N/k grows.
    ``shrinkage="auto"`` is α = k/(N + k).  The ridge is relative, λ = ridge · mean diag S
    (floored at 1e-300 so a collapsed sample still gives finite answers).

    ``method``: ``"dense"`` (k×k Cholesky), ``"woodbury"`` (exact through the N×N system
    I + U D⁻¹ Uᵀ, U = √((1−α)/(N−1)) T_c, D = α Diag S + λ I, the cheap choice when
    N < k), ``"cg"`` (conjugate gradients on v ↦ Uᵀ(Uv) + Dv, Jacobi-preconditioned,
    matrix-free); ``"auto"``: the one with the fewest flops (:meth:`cheapest`).
    Factorizations run with BLAS pinned to one thread (:mod:`relax.threads`).
    """

    def __init__(self, T: np.ndarray, *, ridge: float = 1e-6, shrinkage=0.0,
                 method: str = "auto", cg_rtol: float = 1e-6):
        bk = backend.of(T)
        T = bk.asarray(T)
        N, k = T.shape
        if N < 2:
            raise ValueError("the empirical Fisher needs at least 2 samples")
        if ridge < 0:
            raise ValueError(f"ridge must be >= 0; got {ridge}")
        alpha = k / (N + k) if shrinkage == "auto" else float(shrinkage)
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"shrinkage must be 'auto' or in [0, 1]; got {shrinkage!r}")
        Tc = T - bk.xp.mean(T, axis=0)
        s = bk.coldot(Tc, Tc) / (N - 1)
        self.shrinkage, self.device = alpha, bk.name
        self.d = alpha * s + max(ridge * float(bk.xp.mean(s)), 1e-300)
        self.U = Tc * float(np.sqrt((1.0 - alpha) / (N - 1)))
        if method == "auto":
            method = self.cheapest(N, k)
        if method not in ("dense", "woodbury", "cg"):
            raise ValueError(f"method must be 'auto', 'dense', 'woodbury' or 'cg'; got {method!r}")
        self.method, self.cg_rtol = method, cg_rtol
        with single_thread_blas(bk.is_numpy and max(N, k) >= BLAS_PIN_N):
            self._factor = self._factorize()

    @staticmethod
    def cheapest(N: int, k: int) -> str:
        """The method with the fewest flops for N samples of k statistics: dense
        N k² + k³/3, Woodbury N² k + N³/3, conjugate gradients ≈ 2·CG_ITERATIONS·N k."""
        costs = {"dense": N * k * k + k**3 / 3, "woodbury": N * N * k + N**3 / 3,
                 "cg": 2.0 * CG_ITERATIONS * N * k}
        return min(costs, key=costs.get)

    @property
    def bk(self) -> Backend:
        return backend.get(getattr(self, "device", "cpu"))

    def _factorize(self):
        bk = self.bk
        if self.method == "dense":
            F = bk.add_diagonal(self.U.T @ self.U, self.d)
            return _cho_factor(F, bk)
        if self.method == "woodbury":
            V = self.U / self.d
            K = bk.add_diagonal(V @ self.U.T, 1.0)
            return _cho_factor(K, bk)
        return None

    def apply(self, v: np.ndarray) -> np.ndarray:
        """Î v."""
        return self.U.T @ (self.U @ v) + self.d * v

    def solve(self, g: np.ndarray) -> np.ndarray:
        """Î⁻¹ g (conjugate gradients to the relative residual ``cg_rtol``, by default
        1e-6: a search direction needs no more)."""
        with single_thread_blas(self.bk.is_numpy and max(self.U.shape) >= BLAS_PIN_N):
            return self._solve(g)

    def _solve(self, g: np.ndarray) -> np.ndarray:
        bk = self.bk
        if self.method == "dense":
            return _cho_solve(self._factor, g, bk)
        if self.method == "woodbury":
            y = g / self.d
            return y - (self.U.T @ _cho_solve(self._factor, self.U @ y, bk)) / self.d
        if not bk.is_numpy:
            return self._cg(g)
        k = g.size
        op = LinearOperator((k, k), matvec=self.apply)
        diag = np.einsum("ij,ij->j", self.U, self.U) + self.d
        pre = LinearOperator((k, k), matvec=lambda r: r / diag)
        x, _ = cg(op, g, rtol=self.cg_rtol, atol=0.0, maxiter=10 * k, M=pre)
        return x

    def _cg(self, g):
        """Jacobi-preconditioned conjugate gradients in the array namespace of ``g`` (the
        steps of scipy's ``cg``), to the relative residual ``cg_rtol``."""
        xp = self.bk.xp
        diag = self.bk.coldot(self.U, self.U) + self.d
        x = xp.zeros_like(g)
        r = g
        z = r / diag
        p, rz = z, float(r @ z)
        limit = self.cg_rtol * float(xp.sqrt(g @ g))
        for _ in range(10 * g.shape[0]):
            if float(xp.sqrt(r @ r)) <= limit:
                break
            q = self.apply(p)
            a = rz / float(p @ q)
            x, r = x + a * p, r - a * q
            z = r / diag
            rz, rz_old = float(r @ z), rz
            p = z + (rz / rz_old) * p
        return x


def _cho_factor(M, bk: Backend):
    """The Cholesky factor of M (scipy's ``cho_factor`` on numpy)."""
    if bk.is_numpy:
        return linalg.cho_factor(M, lower=True, check_finite=False)
    return bk.cholesky(M)


def _cho_solve(factor, b, bk: Backend):
    if bk.is_numpy:
        return linalg.cho_solve(factor, b, check_finite=False)
    return bk.cho_solve(factor, b)
