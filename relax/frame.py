"""Gaussian steps in the local frame: the four (gradient, param) directions as increments.

Write the model as x = μ + A z, z ~ N(0, I) (A lower triangular with AAᵀ = Σ; for the
diagonal model A = diag(s)).  From the whitened sample z_i = A⁻¹(x_i − μ) and the shaped
weights ω_i (good samples negative, :mod:`relax.shaping`) form

    G_μ = Σ ω_i z_i,        G_Σ = Σ ω_i (z_i z_iᵀ − I)      (diagonal model: diag only).

These are g_θ = Cov(f, T) seen from the frame: g_b = A G_μ and, in matrix form,
g_E = A G_Σ Aᵀ + μ g_bᵀ + g_b μᵀ.  Every step is an increment of the frame,

    μ' = μ + A δ,      Σ' = A M Aᵀ,

and the duality table becomes two first-order directions and two charts.  The gradient
fixes (δ₁, M₁), the first-order increments per unit ρ:

- natural (either chart): δ₁ = −G_μ, M₁ = −G_Σ (translation and scale invariant);
- vanilla θ: δ₁ = −(Aᵀg_b + 2K u), M₁ = −2K with u = A⁻¹μ, K = Aᵀ(2g_E − Diag g_E)A
  (the flat θ-gradient of Θ counts each off-diagonal pair twice);
- vanilla η: δ₁ = −v, M₁ = −(A⁻¹QA⁻ᵀ − u vᵀ − v uᵀ) with v = (AᵀA)⁻¹(G_μ − G_Σ u),
  Q = ½(dΘ + Diag dΘ), dΘ = ½A⁻ᵀG_ΣA⁻¹ (the flat η-chart halves the 2E_ij entries).

The chart fixes how a finite step is taken:

- chart η (additive in μ and E = Σ + μμᵀ): δ = ρδ₁, M = I + ρM₁ − ρ²δ₁δ₁ᵀ;
- chart θ (additive in Pμ and P = Σ⁻¹):    M = (I − ρM₁)⁻¹, δ = ρMδ₁.

These equal the flat formulas of :mod:`relax.models.gaussian` exactly (a test ties them at
small n) but never form the k-vector of statistics, the raw moment E or the k×k Fisher,
and the natural steps lose no precision when |μ| ≫ σ.  KL(p‖p') =
½[tr M⁻¹ + δᵀM⁻¹δ − n + log det M], and to second order ½ρ²(|δ₁|² + ½‖M₁‖²_F).

The full model costs O(Nn² + n³) per step: these are the plain steps of
``Optimizer(adapt=None)``; the default search (:mod:`relax.adapt`) avoids the O(n³).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
from scipy import linalg

from relax import backend
from relax.backend import CPU, Backend, to_numpy
from relax.models import DiagonalGaussian, Gaussian


@dataclass(frozen=True)
class Direction:
    """First-order increments (δ₁, M₁) of a step per unit ρ."""

    delta: np.ndarray
    M: np.ndarray

    def quadratic(self) -> float:
        """|δ₁|² + ½‖M₁‖²_F: twice the KL of a unit step to second order."""
        xp = backend.namespace_of(self.M)
        return float(self.delta @ self.delta + 0.5 * xp.sum(self.M * self.M))


class _OnBackend:
    """The frame's arrays live on ``device`` (:mod:`relax.backend`)."""

    device = "cpu"
    ARRAYS: tuple = ()

    @property
    def bk(self) -> Backend:
        return backend.get(self.device)

    def to(self, bk: Backend):
        """This frame with its arrays on ``bk`` (a new frame)."""
        twin = copy.copy(self)
        for name in self.ARRAYS:
            setattr(twin, name, bk.asarray(getattr(self, name)))
        twin.device = bk.name
        return twin


class FullFrame(_OnBackend):
    """N(μ, AAᵀ) with A lower triangular."""

    diagonal = False
    ARRAYS = ("mean", "A")

    def __init__(self, mean: np.ndarray, A: np.ndarray, device: str = "cpu"):
        self.mean, self.A, self.device = mean, A, device

    @classmethod
    def from_model(cls, model: Gaussian) -> FullFrame:
        return cls(np.array(model.mean()), np.array(model.cholesky))

    def model(self) -> Gaussian:
        return Gaussian.from_cholesky(to_numpy(self.mean), to_numpy(self.A))

    def sample(self, Z: np.ndarray) -> np.ndarray:
        return self.mean + Z @ self.A.T

    def whiten(self, X: np.ndarray) -> np.ndarray:
        return self.bk.solve_triangular(self.A, (X - self.mean).T, lower=True).T

    def spread(self) -> float:
        xp = self.bk.xp
        return float(xp.sqrt(xp.max(self.bk.rowdot(self.A, self.A))))

    # gradients ------------------------------------------------------------
    def gradients(self, Z: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """G_μ = Σ ω z, G_Σ = Σ ω (z zᵀ − I)."""
        G = (Z.T * w) @ Z
        G = self.bk.add_diagonal(G, -self.bk.xp.sum(w))
        return w @ Z, G

    def direction(self, gradient: str, param: str, G_mu, G_S) -> Direction:
        """(δ₁, M₁) for ``gradient`` (see the module docstring)."""
        if gradient == "natural":
            return Direction(-G_mu, -G_S)
        A, bk = self.A, self.bk
        u = self._solve(self.mean)
        if param == "theta":
            g_b = A @ G_mu
            g_E = A @ G_S @ A.T + bk.outer(self.mean, g_b) + bk.outer(g_b, self.mean)
            K = A.T @ (2.0 * g_E - bk.diag_matrix(bk.diagonal(g_E))) @ A
            return Direction(-(A.T @ g_b + 2.0 * K @ u), -2.0 * K)
        Ainv = self._solve(bk.xp.eye(u.shape[0], dtype=bk.float))
        v = Ainv @ (Ainv.T @ (G_mu - G_S @ u))
        dTheta = 0.5 * Ainv.T @ G_S @ Ainv
        Q = 0.5 * (dTheta + bk.diag_matrix(bk.diagonal(dTheta)))
        return Direction(-v, -(Ainv @ Q @ Ainv.T - bk.outer(u, v) - bk.outer(v, u)))

    def _solve(self, b: np.ndarray) -> np.ndarray:
        return self.bk.solve_triangular(self.A, b, lower=True)

    # finite steps ---------------------------------------------------------
    def increment(self, d: Direction, param: str, rho: float):
        """(δ, M) at step ρ in chart ``param``; None when M is not positive definite."""
        bk = self.bk
        eye = bk.xp.eye(d.delta.shape[0], dtype=bk.float)
        if param == "eta":
            M = eye + rho * d.M - rho * rho * bk.outer(d.delta, d.delta)
            delta = rho * d.delta
        else:
            try:
                R = bk.cholesky(eye - rho * d.M)
            except (linalg.LinAlgError, ValueError):
                return None
            M = bk.cho_solve(R, eye)
            delta = rho * M @ d.delta
        if not (bk.all_finite(M) and bk.all_finite(delta)):
            return None
        return delta, 0.5 * (M + M.T)

    def kl(self, delta: np.ndarray, M: np.ndarray) -> float | None:
        """½[tr M⁻¹ + δᵀM⁻¹δ − n + log det M]; None if M is not positive definite."""
        bk = self.bk
        xp = bk.xp
        try:
            R = bk.cholesky(M)
        except (linalg.LinAlgError, ValueError):
            return None
        Rinv = bk.solve_triangular(R, xp.eye(M.shape[0], dtype=bk.float), lower=True)
        r = Rinv @ delta
        val = xp.sum(Rinv * Rinv) + r @ r - M.shape[0] + 2.0 * xp.sum(xp.log(bk.diagonal(R)))
        return max(0.5 * float(val), 0.0)

    def moved(self, delta: np.ndarray, M: np.ndarray) -> FullFrame:
        """The frame at μ + Aδ, A chol(M) (a product of lower triangles stays lower)."""
        R = self.bk.cholesky(M)
        return FullFrame(self.mean + self.A @ delta, self.A @ R, self.device)


class DiagonalFrame(_OnBackend):
    """N(μ, diag(s²)); every formula of the full frame taken elementwise."""

    diagonal = True
    ARRAYS = ("mean", "s")

    def __init__(self, mean: np.ndarray, s: np.ndarray, device: str = "cpu"):
        self.mean, self.s, self.device = mean, s, device

    @classmethod
    def from_model(cls, model: DiagonalGaussian) -> DiagonalFrame:
        return cls(np.array(model.mean()), np.sqrt(model.var))

    def model(self) -> DiagonalGaussian:
        s = to_numpy(self.s)
        return DiagonalGaussian(to_numpy(self.mean), s * s)

    def sample(self, Z: np.ndarray) -> np.ndarray:
        return self.mean + Z * self.s

    def whiten(self, X: np.ndarray) -> np.ndarray:
        return (X - self.mean) / self.s

    def spread(self) -> float:
        return float(self.bk.xp.max(self.s))

    def gradients(self, Z: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """G_μ = Σ ω z, G_d = Σ ω (z² − 1)."""
        return w @ Z, w @ (Z * Z) - self.bk.xp.sum(w)

    def direction(self, gradient: str, param: str, G_mu, G_d) -> Direction:
        if gradient == "natural":
            return Direction(-G_mu, -G_d)
        s, mu = self.s, self.mean
        u = mu / s
        if param == "theta":
            K = s * s * (s * s * G_d + 2.0 * mu * s * G_mu)
            return Direction(-(s * s * G_mu + 2.0 * K * u), -2.0 * K)
        v = (G_mu - G_d * u) / (s * s)
        return Direction(-v, -(G_d / (2.0 * s**4) - 2.0 * u * v))

    def increment(self, d: Direction, param: str, rho: float):
        bk = self.bk
        if param == "eta":
            M = 1.0 + rho * d.M - rho * rho * d.delta**2
            delta = rho * d.delta
        else:
            M = 1.0 / (1.0 - rho * d.M)
            delta = rho * M * d.delta
        if not (bk.all_finite(M) and bool(bk.xp.all(M > 0)) and bk.all_finite(delta)):
            return None
        return delta, M

    def kl(self, delta: np.ndarray, M: np.ndarray) -> float:
        xp = self.bk.xp
        return max(0.5 * float(xp.sum(1.0 / M + delta * delta / M - 1.0 + xp.log(M))), 0.0)

    def moved(self, delta: np.ndarray, M: np.ndarray) -> DiagonalFrame:
        return DiagonalFrame(self.mean + self.s * delta, self.s * self.bk.xp.sqrt(M),
                             self.device)


def local_frame(model, bk: Backend = CPU) -> FullFrame | DiagonalFrame:
    """The local frame of a Gaussian model, its arrays on ``bk``."""
    if isinstance(model, DiagonalGaussian):
        frame = DiagonalFrame.from_model(model)
    else:
        frame = FullFrame.from_model(model)
    return frame if bk.is_numpy else frame.to(bk)
