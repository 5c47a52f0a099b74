"""The exponential-family interface every model implements.

A model is an immutable value object p(x; θ) = exp(θ·T(x) − ψ(θ)) (with respect to
counting measure on {−1,+1}^n or Lebesgue measure on R^n).  Its two coordinate
systems are the natural parameters θ and the expectation parameters η = E_θ[T] = ∇ψ(θ);
the Fisher information is I_θ = ∇²ψ(θ) = Cov_θ(T, T) and I_η = I_θ⁻¹.

Subclasses implement the family-specific pieces (θ ↔ η maps, ψ, sampling, statistics,
the structured action of I_θ and I_θ⁻¹); the generic pieces (KL divergence, entropy,
dense Fisher matrices, validation helpers) live here once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Literal

import numpy as np

from relax.backend import CPU, Backend, is_device_array

Param = Literal["theta", "eta"]


class ExponentialFamily(ABC):
    """Base class of relax's models.

    Attributes
    ----------
    n : int
        Dimension of x.
    k : int
        Number of sufficient statistics (length of θ and η).
    domain : {"binary", "real"}
        ``"binary"`` for x ∈ {−1,+1}^n, ``"real"`` for x ∈ R^n.
    """

    domain: str = "real"

    #: Whether η, ψ and I_θ are computable exactly (False for large Ising models, whose
    #: optimizer then uses sample means and the empirical Fisher).
    exact: bool = True

    # ----------------------------------------------------------------- parameters
    @property
    @abstractmethod
    def n(self) -> int: ...

    @property
    @abstractmethod
    def k(self) -> int: ...

    @property
    @abstractmethod
    def theta(self) -> np.ndarray:
        """Natural parameters θ, a read-only flat array of length k."""

    @property
    @abstractmethod
    def eta(self) -> np.ndarray:
        """Expectation parameters η = E_θ[T(x)], a read-only flat array of length k."""

    @abstractmethod
    def from_theta(self, theta: np.ndarray) -> ExponentialFamily:
        """New model of the same structure with natural parameters ``theta``.

        Raises ``ValueError`` when ``theta`` is outside the family's natural domain.
        """

    @abstractmethod
    def from_eta(self, eta: np.ndarray) -> ExponentialFamily:
        """New model of the same structure with expectation parameters ``eta``.

        Raises ``ValueError`` when ``eta`` is not the mean of any member of the family.
        """

    def from_param(self, param: Param, value: np.ndarray) -> ExponentialFamily:
        """``from_theta`` or ``from_eta`` by chart name."""
        return self.from_theta(value) if param == "theta" else self.from_eta(value)

    def param(self, param: Param) -> np.ndarray:
        """θ or η by chart name."""
        return self.theta if param == "theta" else self.eta

    # --------------------------------------------------------------- the family
    @abstractmethod
    def sample(self, size: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
        """Draw ``size`` points, an array of shape (size, n) of float64."""

    @abstractmethod
    def stats(self, X: np.ndarray) -> np.ndarray:
        """Sufficient statistics T(x) of each row of ``X``: shape (size, k)."""

    @abstractmethod
    def log_partition(self) -> float:
        """ψ(θ) = log ∫ exp(θ·T(x)) dx (a sum over {−1,+1}^n for binary models)."""

    @abstractmethod
    def fisher_vector(self, v: np.ndarray) -> np.ndarray:
        """I_θ v = Cov_θ(T, T) v, in structured form (no dense k×k matrix)."""

    @abstractmethod
    def natural_from_vanilla(self, g: np.ndarray) -> np.ndarray:
        """I_θ⁻¹ g: the natural θ-gradient from the vanilla one, equal to ∇_η F.

        Structured: O(k) for independence models, O(n³) for the full Gaussian.
        """

    @abstractmethod
    def mean(self) -> np.ndarray:
        """E[x], shape (n,)."""

    @abstractmethod
    def mode(self) -> np.ndarray:
        """The most probable x, shape (n,)."""

    @abstractmethod
    def spread(self) -> float:
        """A scalar measure of how spread the distribution still is.

        Largest marginal standard deviation for Gaussians, entropy (nats) for binary
        models.  Used for the collapse stopping rule and the history.
        """

    # ------------------------------------------------------------ generic pieces
    def kl(self, other: ExponentialFamily) -> float:
        """KL(self ‖ other) = ψ(θ_o) − ψ(θ_s) − (θ_o − θ_s)·η_s (Bregman divergence of ψ)."""
        self._check_same_structure(other, "other")
        d = other.log_partition() - self.log_partition()
        d -= float(_dot(other.theta - self.theta, self.eta))
        return max(float(d), 0.0)

    def entropy(self) -> float:
        """H(p) = ψ(θ) − θ·η (differential entropy for Gaussians)."""
        return float(self.log_partition() - _dot(self.theta, self.eta))

    def on(self, bk: Backend) -> ExponentialFamily:
        """This model with its parameters on the backend ``bk`` (:mod:`relax.backend`).

        Gaussians stay on the host (their searches keep their own device state); binary
        models move θ."""
        return self

    def on_host(self) -> ExponentialFamily:
        """This model with numpy parameters."""
        return self.on(CPU)

    def fisher(self, param: Param = "theta") -> np.ndarray:
        """Dense Fisher information: I_θ (``"theta"``) or I_η = I_θ⁻¹ (``"eta"``).

        Built column by column from the structured actions; meant for small models
        and tests, never used on the optimization path.
        """
        if param not in ("theta", "eta"):
            raise ValueError(f"param must be 'theta' or 'eta', got {param!r}")
        action = self.fisher_vector if param == "theta" else self.natural_from_vanilla
        eye = np.eye(self.k)
        F = np.column_stack([action(eye[:, j]) for j in range(self.k)])
        return 0.5 * (F + F.T)

    # ------------------------------------------------------------------ helpers
    def structure(self) -> tuple:
        """What two models must share to be compared or stepped between."""
        return (type(self).__name__, self.n, self.k)

    def _check_same_structure(self, other: ExponentialFamily, name: str) -> None:
        if not isinstance(other, ExponentialFamily) or other.structure() != self.structure():
            raise ValueError(
                f"{name} must be a model of the same structure as {self!r}; got {other!r}"
            )

    def _check_vector(self, v: np.ndarray, name: str) -> np.ndarray:
        if is_device_array(v):
            if v.shape != (self.k,):
                raise ValueError(f"{name} must have shape ({self.k},) for {self!r}; got "
                                 f"{v.shape}")
            return v
        v = np.asarray(v, dtype=float)
        if v.shape != (self.k,):
            raise ValueError(f"{name} must have shape ({self.k},) for {self!r}; got {v.shape}")
        return v

    def _check_X(self, X: np.ndarray) -> np.ndarray:
        if not is_device_array(X):
            X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != self.n:
            raise ValueError(f"X must have shape (size, {self.n}); got {X.shape}")
        return X


def check_model(model) -> ExponentialFamily:
    """``model`` if it is a relax model, else a ValueError saying what to pass."""
    if not isinstance(model, ExponentialFamily):
        raise ValueError(
            f"model must be a relax model (e.g. relax.Gaussian(x0, sigma0**2) or "
            f"relax.Bernoulli(n)); got {model!r}"
        )
    return model


def as_rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    """A ``numpy.random.Generator`` from a Generator, a seed or ``None``."""
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


def check_size(size: int) -> int:
    """Validate a sample size."""
    if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
        raise ValueError(f"size must be a positive integer; got {size!r}")
    return int(size)


def _dot(a, b):
    """a·b of two vectors (numpy's ``dot`` on numpy arrays, ``@`` on others)."""
    return np.dot(a, b) if isinstance(a, np.ndarray) else a @ b


def frozen(a: np.ndarray) -> np.ndarray:
    """A read-only float64 copy of ``a`` (an array of another namespace, e.g. cupy, as it
    is: those cannot be made read-only)."""
    if is_device_array(a):
        return a
    a = np.array(a, dtype=float)
    a.setflags(write=False)
    return a
