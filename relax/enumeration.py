"""Exact expectations on {−1,+1}^n by enumeration (n ≤ 20).

With all 2^n points X and their probabilities p, every expectation the library needs
is a weighted sum: η = pᵀT, Cov(T,T) = Tᵀ diag(p) T − ηηᵀ, Cov(f,T) = Tᵀ (p ⊙ (f − F)).
"""

from __future__ import annotations

import numpy as np

MAX_ENUMERATION_N = 20


def all_points(n: int) -> np.ndarray:
    """All of {−1,+1}^n as a (2^n, n) float array; row r has x_i = +1 where bit i of r is 0.

    Raises ``ValueError`` for n > 20 (2^n rows would not fit comfortably in memory).
    """
    if n < 1 or n > MAX_ENUMERATION_N:
        raise ValueError(f"enumeration needs 1 <= n <= {MAX_ENUMERATION_N}; got n={n}")
    r = np.arange(2**n, dtype=np.int64)[:, None]
    bits = (r >> np.arange(n, dtype=np.int64)) & 1
    return (1 - 2 * bits).astype(float)


def log_probabilities(logits: np.ndarray) -> tuple[np.ndarray, float]:
    """Normalize unnormalized log-probabilities θ·T(x): returns (log p, ψ) with ψ = logsumexp."""
    m = float(np.max(logits))
    psi = m + float(np.log(np.sum(np.exp(logits - m))))
    return logits - psi, psi


def moments(p: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """η = E[T] and Cov(T, T) under the distribution p over the rows of T."""
    eta = p @ T
    Tc = T - eta
    return eta, (Tc * p[:, None]).T @ Tc
