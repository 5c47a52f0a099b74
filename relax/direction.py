"""The two vectors and the duality table.

Only two vectors are ever computed:

    g_θ = Cov(f, T) = ∇_θ F            (vanilla gradient in θ)
    g_η = I_θ⁻¹ Cov(f, T) = ∇_η F      (vanilla gradient in η)

and the four directions are a choice among them (∇̃_θ F = ∇_η F, ∇̃_η F = ∇_θ F):

    gradient  param   chart   direction
    vanilla   theta   θ       g_θ
    natural   theta   θ       g_η
    vanilla   eta     η       g_η
    natural   eta     η       g_θ
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from relax.estimate import cov_f_T, sample_cov_weights, solve_empirical_fisher
from relax.models.base import ExponentialFamily

Gradient = Literal["natural", "vanilla"]
Param = Literal["theta", "eta"]
Fisher = Literal["exact", "empirical"]

#: (gradient, param) -> which of the two vectors is the direction in that chart.
DUALITY = {
    ("vanilla", "theta"): "g_theta",
    ("natural", "theta"): "g_eta",
    ("vanilla", "eta"): "g_eta",
    ("natural", "eta"): "g_theta",
}


def check_choice(name: str, value: str, allowed) -> str:
    """Validate a string option, naming the argument and the allowed values."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")
    return value


def needs_g_eta(gradient: Gradient, param: Param) -> bool:
    """Whether the direction for (gradient, param) is g_η (which costs a Fisher solve)."""
    return DUALITY[(gradient, param)] == "g_eta"


def check_fisher_for(model: ExponentialFamily, fisher: Fisher) -> Fisher:
    """``fisher="exact"`` needs a model whose I_θ is tractable."""
    check_choice("fisher", fisher, ("exact", "empirical"))
    if fisher == "exact" and not model.exact:
        raise ValueError(
            f"fisher='exact' is intractable for {model!r}; use fisher='empirical'"
        )
    return fisher


def eta_from_theta_gradient(
    model: ExponentialFamily,
    g_theta: np.ndarray,
    *,
    fisher: Fisher = "exact",
    T: np.ndarray | None = None,
    ridge: float = 1e-6,
) -> np.ndarray:
    """g_η = I_θ⁻¹ g_θ with the model's exact Fisher or the sample's Cov̂(T,T) + ridge."""
    if fisher == "exact":
        return model.natural_from_vanilla(g_theta)
    if T is None:
        raise ValueError("fisher='empirical' needs the sample statistics T")
    return solve_empirical_fisher(T, g_theta, ridge)


def select(gradient: Gradient, param: Param, g_theta: np.ndarray, g_eta) -> np.ndarray:
    """The direction in chart ``param`` for ``gradient``, by the duality table."""
    check_choice("gradient", gradient, ("natural", "vanilla"))
    check_choice("param", param, ("theta", "eta"))
    return g_theta if DUALITY[(gradient, param)] == "g_theta" else g_eta


def gradient(
    model: ExponentialFamily,
    X: np.ndarray,
    fX: np.ndarray,
    *,
    gradient: Gradient = "natural",
    param: Param = "theta",
    fisher: Fisher = "exact",
    ridge: float = 1e-6,
) -> np.ndarray:
    """Monte Carlo estimate of the (gradient, param) direction of F(ξ) = E_ξ[f].

    g_θ = Cov̂(f, T) is the unbiased sample covariance of f(x_i) and T(x_i);
    g_η = I_θ⁻¹ g_θ uses the model's exact Fisher (``fisher="exact"``) or solves
    (Cov̂(T,T) + λI) g_η = g_θ (``fisher="empirical"``, see
    :func:`relax.estimate.solve_empirical_fisher`).  The returned vector is chosen by
    the duality table in :data:`DUALITY`.

    Parameters
    ----------
    model : ExponentialFamily
        The distribution the sample was drawn from.
    X : ndarray, shape (N, n)
        The sample.
    fX : ndarray, shape (N,)
        f at each row of X (finite).
    """
    X = model._check_X(X)
    fX = np.asarray(fX, dtype=float)
    if fX.shape != (X.shape[0],):
        raise ValueError(f"fX must have shape ({X.shape[0]},) to match X; got {fX.shape}")
    if not np.all(np.isfinite(fX)):
        bad = int(np.flatnonzero(~np.isfinite(fX))[0])
        raise ValueError(f"fX must be finite; fX[{bad}] = {fX[bad]}")
    check_choice("gradient", gradient, ("natural", "vanilla"))
    check_choice("param", param, ("theta", "eta"))
    check_fisher_for(model, fisher)
    T = model.stats(X)
    g_theta = cov_f_T(sample_cov_weights(fX), T, T.mean(axis=0))
    g_eta = None
    if needs_g_eta(gradient, param):
        g_eta = eta_from_theta_gradient(model, g_theta, fisher=fisher, T=T, ridge=ridge)
    return select(gradient, param, g_theta, g_eta)
