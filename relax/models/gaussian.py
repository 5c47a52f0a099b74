"""Gaussian models on R^n: full covariance and diagonal covariance.

Full Gaussian N(μ, Σ), with P = Σ⁻¹ and Θ = −½P:
    T(x) = (x_i; x_i²; 2 x_i x_j for i<j, row-major),
    θ    = (Pμ; Θ_ii; Θ_ij for i<j),          so θ·T(x) = (Pμ)ᵀx + xᵀΘx,
    η    = (μ; E_ii; 2E_ij for i<j),          E = Σ + μμᵀ,
    ψ(θ) = ½ μᵀPμ + ½ log det Σ + (n/2) log 2π.
Diagonal Gaussian: T(x) = (x_i; x_i²), θ = (μ_i/σ_i²; −1/(2σ_i²)), η = (μ_i; σ_i² + μ_i²).

The Fisher actions are the Jacobians of the two charts (I_θ = ∂η/∂θ, I_θ⁻¹ = ∂θ/∂η),
applied in matrix form in O(n³) — never as a dense k×k matrix.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy import linalg

from relax.models.base import ExponentialFamily, as_rng, check_size, frozen

LOG_2PI = float(np.log(2.0 * np.pi))


def _mean_vector(mean) -> np.ndarray:
    mean = np.atleast_1d(np.asarray(mean, dtype=float))
    if mean.ndim != 1 or mean.size == 0 or not np.all(np.isfinite(mean)):
        raise ValueError(f"mean must be a finite, non-empty 1-D array; got shape {mean.shape}")
    return mean


def _cholesky(S: np.ndarray, what: str) -> np.ndarray:
    """Lower Cholesky factor of a symmetric positive-definite matrix, or ValueError."""
    if not np.all(np.isfinite(S)):
        raise ValueError(f"{what} must be finite")
    try:
        return linalg.cholesky(S, lower=True, check_finite=False)
    except linalg.LinAlgError:
        raise ValueError(f"{what} must be symmetric positive definite") from None


class Gaussian(ExponentialFamily):
    """Full-covariance Gaussian ``Gaussian(mean, cov)``.

    Parameters
    ----------
    mean : array_like, shape (n,)
        μ.
    cov : float, array_like of shape (n,) or (n, n)
        Σ as a scalar variance σ² (Σ = σ²I), a vector of variances, or a symmetric
        positive-definite matrix.
    """

    def __init__(self, mean, cov=1.0):
        mean = _mean_vector(mean)
        n = mean.size
        cov = np.asarray(cov, dtype=float)
        if cov.ndim == 0:
            cov = float(cov) * np.eye(n)
        elif cov.shape == (n,):
            cov = np.diag(cov)
        elif cov.shape != (n, n):
            raise ValueError(f"cov must be a scalar, shape ({n},) or ({n}, {n}); got {cov.shape}")
        if not np.allclose(cov, cov.T, rtol=1e-10, atol=0.0):
            raise ValueError("cov must be symmetric")
        self._init(mean, 0.5 * (cov + cov.T))
        _ = self.cholesky  # validates positive definiteness now, not at first use

    def _init(self, mean, cov=None, chol=None) -> None:
        """Store μ and Σ or its lower Cholesky factor; the rest is computed on first use
        (so that building a model from the optimizer's state costs O(n²))."""
        self._mu = frozen(mean)
        if cov is not None:
            self.__dict__["cov"] = frozen(cov)
        if chol is not None:
            self.__dict__["cholesky"] = frozen(chol)

    @functools.cached_property
    def _iu(self) -> tuple[np.ndarray, np.ndarray]:
        """Indices (i, j), i < j, of the flat off-diagonal entries (row-major)."""
        return np.triu_indices(self.n, 1)

    @classmethod
    def _from_moments(cls, mean, cov) -> Gaussian:
        new = cls.__new__(cls)
        new._init(mean, cov)
        _ = new.cholesky
        return new

    @classmethod
    def from_covariance(cls, mean, cov) -> Gaussian:
        """N(μ, Σ) from a symmetric Σ that the caller keeps positive definite (the
        optimizer's own): O(n²), the Cholesky factor is computed on first use."""
        mean = _mean_vector(mean)
        cov = np.asarray(cov, dtype=float)
        if cov.shape != (mean.size, mean.size) or not np.all(np.isfinite(cov)):
            raise ValueError(f"cov must be a finite ({mean.size}, {mean.size}) matrix")
        new = cls.__new__(cls)
        new._init(mean, cov)
        return new

    @classmethod
    def from_cholesky(cls, mean, L) -> Gaussian:
        """N(μ, LLᵀ) from a lower-triangular L with a positive diagonal (not checked
        beyond finiteness: the optimizer's own factors)."""
        mean = _mean_vector(mean)
        L = np.asarray(L, dtype=float)
        if L.shape != (mean.size, mean.size) or not np.all(np.isfinite(L)):
            raise ValueError(f"L must be a finite ({mean.size}, {mean.size}) matrix")
        new = cls.__new__(cls)
        new._init(mean, chol=np.tril(L))
        return new

    @functools.cached_property
    def cov(self) -> np.ndarray:
        """Σ."""
        L = self.cholesky
        return frozen(L @ L.T)

    @functools.cached_property
    def cholesky(self) -> np.ndarray:
        """The lower Cholesky factor L of Σ = LLᵀ."""
        return frozen(_cholesky(self.cov, "cov"))

    @functools.cached_property
    def _P(self) -> np.ndarray:
        """The precision Σ⁻¹."""
        return frozen(linalg.cho_solve((self.cholesky, True), np.eye(self.n),
                                       check_finite=False))

    def __repr__(self) -> str:
        return f"Gaussian(n={self.n})"

    # flat <-> matrix ------------------------------------------------------
    def _split(self, v) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = self.n
        return v[:n], v[n : 2 * n], v[2 * n :]

    def _symmetric(self, diag, upper) -> np.ndarray:
        M = np.diag(diag)
        M[self._iu] = upper
        M.T[self._iu] = upper
        return M

    def _flat(self, vec, M, off_scale: float) -> np.ndarray:
        return np.concatenate([vec, np.diag(M), off_scale * M[self._iu]])

    # parameters -----------------------------------------------------------
    @property
    def n(self) -> int:
        return self._mu.size

    @property
    def k(self) -> int:
        n = self.n
        return n + n * (n + 1) // 2

    @property
    def theta(self) -> np.ndarray:
        """(Pμ; Θ_ii; Θ_ij, i<j) with Θ = −½Σ⁻¹."""
        return frozen(self._flat(self._P @ self._mu, -0.5 * self._P, 1.0))

    @property
    def eta(self) -> np.ndarray:
        """(μ; E_ii; 2E_ij, i<j) with E = Σ + μμᵀ."""
        E = self.cov + np.outer(self._mu, self._mu)
        return frozen(self._flat(self._mu, E, 2.0))

    def from_theta(self, theta) -> Gaussian:
        b, d, u = self._split(self._check_vector(theta, "theta"))
        P = -2.0 * self._symmetric(d, u)
        LP = _cholesky(P, "-2*Theta (the precision matrix)")
        cov = linalg.cho_solve((LP, True), np.eye(self.n), check_finite=False)
        return self._from_moments(cov @ b, 0.5 * (cov + cov.T))

    def from_eta(self, eta) -> Gaussian:
        mu, d, u = self._split(self._check_vector(eta, "eta"))
        cov = self._symmetric(d, 0.5 * u) - np.outer(mu, mu)
        return self._from_moments(mu.copy(), cov)

    # family ---------------------------------------------------------------
    def sample(self, size: int, rng=None) -> np.ndarray:
        """x = μ + Lz, z ~ N(0, I), Σ = LLᵀ."""
        z = as_rng(rng).standard_normal((check_size(size), self.n))
        return self._mu + z @ self.cholesky.T

    def stats(self, X) -> np.ndarray:
        X = self._check_X(X)
        i, j = self._iu
        return np.concatenate([X, X * X, 2.0 * X[:, i] * X[:, j]], axis=1)

    def _logdet_cov(self) -> float:
        return 2.0 * float(np.sum(np.log(np.diag(self.cholesky))))

    def log_partition(self) -> float:
        mu = self._mu
        return 0.5 * float(mu @ self._P @ mu) + 0.5 * self._logdet_cov() + 0.5 * self.n * LOG_2PI

    def fisher_vector(self, v) -> np.ndarray:
        """I_θ v = ∂η/∂θ · v: δΣ = 2ΣδΘΣ, δμ = δΣ Pμ + Σδb, δE = δΣ + δμμᵀ + μδμᵀ."""
        db, d, u = self._split(self._check_vector(v, "v"))
        S, mu = self.cov, self._mu
        dS = 2.0 * S @ self._symmetric(d, u) @ S
        dmu = dS @ (self._P @ mu) + S @ db
        dE = dS + np.outer(dmu, mu) + np.outer(mu, dmu)
        return self._flat(dmu, dE, 2.0)

    def natural_from_vanilla(self, g) -> np.ndarray:
        """I_θ⁻¹ g = ∂θ/∂η · g: δΣ = δE − δμμᵀ − μδμᵀ, δΘ = ½PδΣP, δb = −2δΘμ + Pδμ."""
        dmu, d, u = self._split(self._check_vector(g, "g"))
        P, mu = self._P, self._mu
        dS = self._symmetric(d, 0.5 * u) - np.outer(dmu, mu) - np.outer(mu, dmu)
        dTheta = 0.5 * P @ dS @ P
        db = -2.0 * dTheta @ mu + P @ dmu
        return self._flat(db, dTheta, 1.0)

    def kl(self, other) -> float:
        """KL = ½[tr(Σ₁⁻¹Σ₀) + (μ₁−μ₀)ᵀΣ₁⁻¹(μ₁−μ₀) − n + log det Σ₁ − log det Σ₀]."""
        self._check_same_structure(other, "other")
        L = other.cholesky
        A = linalg.solve_triangular(L, self.cholesky, lower=True, check_finite=False)
        r = linalg.solve_triangular(L, other._mu - self._mu, lower=True, check_finite=False)
        val = np.sum(A * A) + r @ r - self.n + other._logdet_cov() - self._logdet_cov()
        return max(0.5 * float(val), 0.0)

    def entropy(self) -> float:
        """H = ½ log det(2πeΣ)."""
        return 0.5 * (self._logdet_cov() + self.n * (LOG_2PI + 1.0))

    def mean(self) -> np.ndarray:
        return self._mu

    def mode(self) -> np.ndarray:
        return self._mu

    def spread(self) -> float:
        """Largest marginal standard deviation max_i √Σ_ii."""
        return float(np.sqrt(np.max(np.diag(self.cov))))


class DiagonalGaussian(ExponentialFamily):
    """Gaussian with independent coordinates ``DiagonalGaussian(mean, var)``.

    Parameters
    ----------
    mean : array_like, shape (n,)
        μ.
    var : float or array_like of shape (n,)
        Variances σ_i² (> 0); a scalar applies to every coordinate.
    """

    def __init__(self, mean, var=1.0):
        mean = _mean_vector(mean)
        var = np.broadcast_to(np.asarray(var, dtype=float), mean.shape) if np.ndim(var) == 0 \
            else np.asarray(var, dtype=float)
        if var.shape != mean.shape:
            raise ValueError(f"var must be a scalar or have shape {mean.shape}; got {var.shape}")
        if not np.all(np.isfinite(var) & (var > 0)):
            raise ValueError("var must be finite and strictly positive")
        self._mu = frozen(mean)
        self._var = frozen(var)

    def __repr__(self) -> str:
        return f"DiagonalGaussian(n={self.n})"

    @property
    def n(self) -> int:
        return self._mu.size

    @property
    def k(self) -> int:
        return 2 * self.n

    @property
    def var(self) -> np.ndarray:
        return self._var

    @property
    def cov(self) -> np.ndarray:
        """Σ = diag(σ²)."""
        return np.diag(self._var)

    @property
    def theta(self) -> np.ndarray:
        """(μ_i/σ_i²; −1/(2σ_i²))."""
        return frozen(np.concatenate([self._mu / self._var, -0.5 / self._var]))

    @property
    def eta(self) -> np.ndarray:
        """(μ_i; σ_i² + μ_i²)."""
        return frozen(np.concatenate([self._mu, self._var + self._mu**2]))

    def from_theta(self, theta) -> DiagonalGaussian:
        theta = self._check_vector(theta, "theta")
        t1, t2 = theta[: self.n], theta[self.n :]
        if not np.all(t2 < 0):
            raise ValueError("theta[n:] = -1/(2 sigma^2) must be strictly negative")
        var = -0.5 / t2
        return DiagonalGaussian(t1 * var, var)

    def from_eta(self, eta) -> DiagonalGaussian:
        eta = self._check_vector(eta, "eta")
        mu = eta[: self.n]
        var = eta[self.n :] - mu**2
        if not np.all(var > 0):
            raise ValueError("eta[n:] - eta[:n]**2 (the variances) must be strictly positive")
        return DiagonalGaussian(mu, var)

    def sample(self, size: int, rng=None) -> np.ndarray:
        """x = μ + σ ⊙ z, z ~ N(0, I)."""
        z = as_rng(rng).standard_normal((check_size(size), self.n))
        return self._mu + z * np.sqrt(self._var)

    def stats(self, X) -> np.ndarray:
        X = self._check_X(X)
        return np.concatenate([X, X * X], axis=1)

    def log_partition(self) -> float:
        """ψ = Σ [μ_i²/(2σ_i²) + ½ log(2πσ_i²)]."""
        return float(np.sum(0.5 * self._mu**2 / self._var + 0.5 * (np.log(self._var) + LOG_2PI)))

    def _blocks(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-coordinate Cov(T,T) blocks: Var x = σ², Cov(x, x²) = 2μσ², Var x² = 2σ⁴ + 4μ²σ²."""
        m, s = self._mu, self._var
        return s, 2.0 * m * s, 2.0 * s * s + 4.0 * m * m * s

    def fisher_vector(self, v) -> np.ndarray:
        v = self._check_vector(v, "v")
        a, b, c = self._blocks()
        v1, v2 = v[: self.n], v[self.n :]
        return np.concatenate([a * v1 + b * v2, b * v1 + c * v2])

    def natural_from_vanilla(self, g) -> np.ndarray:
        """Solves each 2×2 block; det = 2σ⁶."""
        g = self._check_vector(g, "g")
        a, b, c = self._blocks()
        g1, g2 = g[: self.n], g[self.n :]
        det = 2.0 * self._var**3
        return np.concatenate([(c * g1 - b * g2) / det, (a * g2 - b * g1) / det])

    def kl(self, other) -> float:
        """KL = ½ Σ [σ₀²/σ₁² + (μ₁−μ₀)²/σ₁² − 1 + log(σ₁²/σ₀²)]."""
        self._check_same_structure(other, "other")
        r = self._var / other._var
        val = r + (other._mu - self._mu) ** 2 / other._var - 1.0 - np.log(r)
        return max(0.5 * float(np.sum(val)), 0.0)

    def entropy(self) -> float:
        return 0.5 * float(np.sum(np.log(self._var) + LOG_2PI + 1.0))

    def mean(self) -> np.ndarray:
        return self._mu

    def mode(self) -> np.ndarray:
        return self._mu

    def spread(self) -> float:
        return float(np.sqrt(np.max(self._var)))
