"""The binary independence model on {−1,+1}^n.

p(x; θ) = ∏_i exp(θ_i x_i) / (2 cosh θ_i), T(x) = x, η_i = E[x_i] = tanh θ_i,
ψ(θ) = Σ_i log(2 cosh θ_i), I_θ = diag(1 − η_i²) = diag(sech² θ_i).
P(x_i = +1) = p_i = (1 + η_i)/2 = σ(2θ_i).
"""

from __future__ import annotations

import numpy as np

from relax.models.base import ExponentialFamily, as_rng, check_size, frozen


def _positive_int(n: object, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"{name} must be a positive integer; got {n!r}")
    return int(n)


class Bernoulli(ExponentialFamily):
    """Independent ±1 spins: ``Bernoulli(n)``, ``Bernoulli(theta=...)`` or ``Bernoulli(p=...)``.

    Parameters
    ----------
    n : int, optional
        Dimension; with neither ``theta`` nor ``p`` the model is uniform (θ = 0).
    theta : array_like, optional
        Natural parameters θ_i (finite).
    p : array_like, optional
        Probabilities P(x_i = +1), each strictly inside (0, 1).
    """

    domain = "binary"

    def __init__(self, n: int | None = None, *, theta=None, p=None):
        if theta is not None and p is not None:
            raise ValueError("give theta or p, not both")
        if theta is None and p is None:
            theta = np.zeros(_positive_int(n, "n"))
        elif p is not None:
            p = np.atleast_1d(np.asarray(p, dtype=float))
            if p.ndim != 1 or not np.all((p > 0) & (p < 1)):
                raise ValueError("p must be a 1-D array of probabilities strictly inside (0, 1)")
            theta = 0.5 * (np.log(p) - np.log1p(-p))
        theta = np.atleast_1d(np.asarray(theta, dtype=float))
        if theta.ndim != 1 or theta.size == 0:
            raise ValueError(f"theta must be a non-empty 1-D array; got shape {theta.shape}")
        if not np.all(np.isfinite(theta)):
            raise ValueError("theta must be finite (|eta_i| < 1 for every i)")
        if n is not None and _positive_int(n, "n") != theta.size:
            raise ValueError(f"n={n} does not match the length {theta.size} of theta/p")
        self._theta = frozen(theta)
        self._eta = frozen(np.tanh(theta))

    def __repr__(self) -> str:
        return f"Bernoulli(n={self.n})"

    # parameters -----------------------------------------------------------
    @property
    def n(self) -> int:
        return self._theta.size

    @property
    def k(self) -> int:
        return self._theta.size

    @property
    def theta(self) -> np.ndarray:
        return self._theta

    @property
    def eta(self) -> np.ndarray:
        return self._eta

    @property
    def p(self) -> np.ndarray:
        """P(x_i = +1) = σ(2θ_i)."""
        return 0.5 * (1.0 + np.tanh(self._theta))

    def from_theta(self, theta) -> Bernoulli:
        return Bernoulli(theta=self._check_vector(theta, "theta"))

    def from_eta(self, eta) -> Bernoulli:
        eta = self._check_vector(eta, "eta")
        if not np.all(np.abs(eta) < 1):
            raise ValueError("eta must satisfy |eta_i| < 1 (eta_i = E[x_i] on {-1,+1})")
        return Bernoulli(theta=np.arctanh(eta))

    # family ---------------------------------------------------------------
    def sample(self, size: int, rng=None) -> np.ndarray:
        """x_i = +1 when u_i < p_i, else −1, with u uniform on [0, 1)."""
        u = as_rng(rng).random((check_size(size), self.n))
        return np.where(u < self.p, 1.0, -1.0)

    def stats(self, X) -> np.ndarray:
        """T(x) = x."""
        return self._check_X(X).copy()

    def log_partition(self) -> float:
        """ψ(θ) = Σ log(2 cosh θ_i) = Σ logaddexp(θ_i, −θ_i)."""
        return float(np.sum(np.logaddexp(self._theta, -self._theta)))

    def _variance(self) -> np.ndarray:
        """Var(x_i) = 1 − η_i² = sech² θ_i, computed without cancellation."""
        return 1.0 / np.cosh(np.clip(self._theta, -350, 350)) ** 2

    def fisher_vector(self, v) -> np.ndarray:
        """I_θ v = (1 − η²) ⊙ v."""
        return self._variance() * self._check_vector(v, "v")

    def natural_from_vanilla(self, g) -> np.ndarray:
        """I_θ⁻¹ g = g / (1 − η²)."""
        return self._check_vector(g, "g") / self._variance()

    def mean(self) -> np.ndarray:
        return self._eta

    def mode(self) -> np.ndarray:
        return np.where(self._theta >= 0, 1.0, -1.0)

    def spread(self) -> float:
        return self.entropy()

    def entropy(self) -> float:
        """H = Σ_i [log(2 cosh θ_i) − θ_i tanh θ_i] (nats)."""
        t = self._theta
        return float(np.sum(np.logaddexp(t, -t) - t * self._eta))
