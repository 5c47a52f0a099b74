"""Exact expectations, gradients and directions where they are computable.

Binary models with n ≤ 20: a weighted sum over all of {−1,+1}^n, weights
p(x) = exp(θ·T(x) − ψ(θ)).  Gaussians with n ≤ 3: tensor-product Gauss–Hermite
quadrature, x = μ + √2 L z over the Hermite nodes z (Σ = LLᵀ); m nodes per axis
integrate polynomials of degree ≤ 2m − 1 exactly, and g_θ = E[(f − F)(T − η)] has degree
deg f + 2, so the default m = 12 is exact for polynomial f of degree ≤ 21.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from relax.direction import Gradient, Param, check_choice, select
from relax.enumeration import MAX_ENUMERATION_N, all_points, log_probabilities
from relax.models.base import ExponentialFamily

MAX_QUADRATURE_N = 3


@dataclass(frozen=True)
class Exact:
    """Exact quantities at one model: F = E[f], g_θ = Cov(f, T), g_η = I_θ⁻¹ g_θ."""

    F: float
    g_theta: np.ndarray
    g_eta: np.ndarray

    def direction(self, gradient: Gradient, param: Param) -> np.ndarray:
        """The (gradient, param) direction by the duality table."""
        return select(gradient, param, self.g_theta, self.g_eta)


@lru_cache(maxsize=16)
def hermite_grid(n: int, nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Tensor-product Gauss–Hermite nodes Z (nodes^n × n) and weights W with
    Σ_i W_i h(√2 Z_i) = E_{z~N(0,I)}[h(z)] (W sums to 1)."""
    z, w = np.polynomial.hermite.hermgauss(nodes)
    grids = np.meshgrid(*([z] * n), indexing="ij")
    Z = np.stack([g.ravel() for g in grids], axis=1)
    W = np.prod(np.meshgrid(*([w] * n), indexing="ij"), axis=0).ravel() / np.pi ** (n / 2)
    Z.setflags(write=False)
    W.setflags(write=False)
    return Z, W


def nodes_and_weights(model: ExponentialFamily, nodes: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """Points X and weights w with E_model[h] = Σ_i w_i h(X_i) (exact as described above)."""
    if model.domain == "binary":
        if model.n > MAX_ENUMERATION_N:
            raise ValueError(f"exact expectations need n <= {MAX_ENUMERATION_N}; got n={model.n}")
        X = all_points(model.n)
        logp, _ = log_probabilities(model.stats(X) @ model.theta)
        return X, np.exp(logp)
    if model.n > MAX_QUADRATURE_N:
        raise ValueError(
            f"exact Gaussian expectations need n <= {MAX_QUADRATURE_N}; got n={model.n}"
        )
    Z, W = hermite_grid(model.n, nodes)
    L = np.linalg.cholesky(model.cov)
    return model.mean() + np.sqrt(2.0) * Z @ L.T, W


def _values(f: Callable, X: np.ndarray, vectorized: bool) -> np.ndarray:
    fX = np.asarray(f(X) if vectorized else [f(x) for x in X], dtype=float)
    if fX.shape != (X.shape[0],):
        raise ValueError(f"f must return one value per point; got shape {fX.shape}")
    if not np.all(np.isfinite(fX)):
        raise ValueError("f returned a non-finite value; exact expectations need finite f")
    return fX


def exact(model: ExponentialFamily, f: Callable, *, vectorized: bool = False,
          nodes: int = 12) -> Exact:
    """F, g_θ and g_η at ``model`` computed exactly (see module docstring)."""
    X, w = nodes_and_weights(model, nodes)
    fX = _values(f, X, vectorized)
    F = float(w @ fX)
    T = model.stats(X)
    g_theta = (T - w @ T).T @ (w * (fX - F))
    return Exact(F, g_theta, model.natural_from_vanilla(g_theta))


def exact_gradient(
    model: ExponentialFamily,
    f: Callable,
    *,
    gradient: Gradient = "natural",
    param: Param = "theta",
    vectorized: bool = False,
) -> np.ndarray:
    """The exact (gradient, param) direction of F(ξ) = E_ξ[f], as :func:`relax.gradient`
    estimates it: binary models with n ≤ 20 by enumeration, Gaussians with n ≤ 3 by
    Gauss–Hermite quadrature.

    Parameters
    ----------
    f : callable
        f(x) for one point (``vectorized=False``) or f(X) for a batch (``vectorized=True``).
    """
    check_choice("gradient", gradient, ("natural", "vanilla"))
    check_choice("param", param, ("theta", "eta"))
    return exact(model, f, vectorized=vectorized).direction(gradient, param)


def expectation(model: ExponentialFamily, f: Callable, *, vectorized: bool = False) -> float:
    """F = E_model[f] exactly (same domains as :func:`exact_gradient`)."""
    X, w = nodes_and_weights(model)
    return float(w @ _values(f, X, vectorized))
