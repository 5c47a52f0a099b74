"""The binary independence model on {−1,+1}^n.

p(x; θ) = ∏_i exp(θ_i x_i) / (2 cosh θ_i), T(x) = x, η_i = E[x_i] = tanh θ_i,
ψ(θ) = Σ_i log(2 cosh θ_i), I_θ = diag(1 − η_i²) = diag(sech² θ_i).
P(x_i = +1) = p_i = (1 + η_i)/2 = σ(2θ_i).
"""

from __future__ import annotations

import numpy as np

from relax import backend
from relax.backend import Backend, is_device_array, namespace_of
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
        if is_device_array(theta):
            self._init_device(n, theta)
            return
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

    def _init_device(self, n, theta) -> None:
        """θ an array of another namespace (cupy): kept there, checked there."""
        xp = namespace_of(theta)
        if theta.ndim != 1 or theta.shape[0] == 0:
            raise ValueError(f"theta must be a non-empty 1-D array; got shape {theta.shape}")
        if not bool(xp.all(xp.isfinite(theta))):
            raise ValueError("theta must be finite (|eta_i| < 1 for every i)")
        if n is not None and _positive_int(n, "n") != theta.shape[0]:
            raise ValueError(f"n={n} does not match the length {theta.shape[0]} of theta/p")
        self._theta = backend.of(theta).astype(theta, xp.float64)
        self._eta = xp.tanh(self._theta)

    def __repr__(self) -> str:
        return f"Bernoulli(n={self.n})"

    @property
    def _xp(self):
        return namespace_of(self._theta)

    def on(self, bk: Backend) -> Bernoulli:
        """This model with θ on ``bk``."""
        if bk.owns(self._theta):
            return self
        return Bernoulli(theta=bk.asarray(self._theta))

    # parameters -----------------------------------------------------------
    @property
    def n(self) -> int:
        return self._theta.shape[0]

    @property
    def k(self) -> int:
        return self._theta.shape[0]

    @property
    def theta(self) -> np.ndarray:
        return self._theta

    @property
    def eta(self) -> np.ndarray:
        return self._eta

    @property
    def p(self) -> np.ndarray:
        """P(x_i = +1) = σ(2θ_i)."""
        return 0.5 * (1.0 + self._xp.tanh(self._theta))

    def from_theta(self, theta) -> Bernoulli:
        return Bernoulli(theta=self._check_vector(theta, "theta"))

    def from_eta(self, eta) -> Bernoulli:
        eta = self._check_vector(eta, "eta")
        xp = namespace_of(eta)
        if not bool(xp.all(xp.abs(eta) < 1)):
            raise ValueError("eta must satisfy |eta_i| < 1 (eta_i = E[x_i] on {-1,+1})")
        return Bernoulli(theta=np.arctanh(eta) if xp is np else backend.of(eta).atanh(eta))

    # family ---------------------------------------------------------------
    def sample(self, size: int, rng=None) -> np.ndarray:
        """x_i = +1 when u_i < p_i, else −1, with u uniform on [0, 1)."""
        bk = backend.of(self._theta)
        u = bk.uniform(as_rng(rng), (check_size(size), self.n))
        return bk.pm1(u < self.p)

    def stats(self, X) -> np.ndarray:
        """T(x) = x."""
        X = self._check_X(X)
        return X.copy() if isinstance(X, np.ndarray) else backend.of(X).copy(X)

    def log_partition(self) -> float:
        """ψ(θ) = Σ log(2 cosh θ_i) = Σ logaddexp(θ_i, −θ_i)."""
        xp = self._xp
        return float(xp.sum(xp.logaddexp(self._theta, -self._theta)))

    def _variance(self) -> np.ndarray:
        """Var(x_i) = 1 − η_i² = sech² θ_i, computed without cancellation."""
        xp = self._xp
        return 1.0 / xp.cosh(xp.clip(self._theta, -350.0, 350.0)) ** 2

    def fisher_vector(self, v) -> np.ndarray:
        """I_θ v = (1 − η²) ⊙ v."""
        return self._variance() * self._check_vector(v, "v")

    def natural_from_vanilla(self, g) -> np.ndarray:
        """I_θ⁻¹ g = g / (1 − η²)."""
        return self._check_vector(g, "g") / self._variance()

    def mean(self) -> np.ndarray:
        return self._eta

    def mode(self) -> np.ndarray:
        return backend.of(self._theta).pm1(self._theta >= 0)

    def spread(self) -> float:
        return self.entropy()

    def entropy(self) -> float:
        """H = Σ_i [log(2 cosh θ_i) − θ_i tanh θ_i] (nats)."""
        t, xp = self._theta, self._xp
        return float(xp.sum(xp.logaddexp(t, -t) - t * self._eta))
