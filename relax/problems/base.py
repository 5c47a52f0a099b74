"""The :class:`Problem` type, exact minima by enumeration, seeds, and the registry.

A problem is a function f to **minimize** on a domain, ``"real"`` (x ∈ R^n) or
``"binary"`` (x ∈ {−1,+1}^n), together with what is known about its minimum.  Every
implementation is vectorized: ``f(X)`` maps a batch X of shape (size, n) to (size,).
Implementations compute each row with the same operations whatever the batch (no BLAS
products across rows), so f(x) does not depend on how points are grouped into batches.

The registry maps a name to a factory ``factory(dim, *, options..., seed=None)``;
:func:`get` checks the name, the dimension and the options before calling it.
"""

from __future__ import annotations

import difflib
import inspect
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np

from relax import graphs
from relax.enumeration import MAX_ENUMERATION_N

DOMAINS = ("real", "binary")
Seed = int | np.random.Generator | np.random.SeedSequence | None
BatchFunction = Callable[[np.ndarray], np.ndarray]


# ---------------------------------------------------------------------------- seeds
def resolve_seed(seed: Seed) -> Seed:
    """Replace ``None`` by fresh OS entropy (an int), so that the instance can be rebuilt."""
    return np.random.SeedSequence().entropy if seed is None else seed


def rngs(seed: Seed, k: int) -> list[np.random.Generator]:
    """``k`` independent generators derived from ``seed`` (spawned child streams)."""
    if isinstance(seed, np.random.Generator):
        return seed.spawn(k)
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return [np.random.default_rng(s) for s in ss.spawn(k)]


# ---------------------------------------------------------------------- enumeration
def enumerate_minimum(
    func: BatchFunction, n: int, chunk: int = 1 << 16
) -> tuple[float, np.ndarray]:
    """min over x ∈ {−1,+1}^n of ``func`` by exhaustive enumeration, in chunks of rows.

    Rows are visited in the order of :func:`relax.enumeration.all_points` (row r has
    x_i = +1 where bit i of r is 0), so ties go to the first minimizer in that order.
    """
    if not 1 <= n <= MAX_ENUMERATION_N:
        raise ValueError(f"enumeration needs 1 <= n <= {MAX_ENUMERATION_N}; got n={n}")
    bits = np.arange(n, dtype=np.int64)
    best, arg = np.inf, np.ones(n)
    for start in range(0, 2**n, chunk):
        r = np.arange(start, min(start + chunk, 2**n), dtype=np.int64)[:, None]
        X = (1 - 2 * ((r >> bits) & 1)).astype(np.float64)
        values = func(X)
        i = int(np.argmin(values))
        if values[i] < best:
            best, arg = float(values[i]), X[i].copy()
    return best, arg


def rowsum(A: np.ndarray) -> np.ndarray:
    """Σ_k A[s, k] for each row s, computed the same way for every row whatever the batch.

    (numpy reduces a non-contiguous axis column by column but a contiguous one pairwise;
    making A C-contiguous first gives every row the same, pairwise, summation.)
    """
    return np.ascontiguousarray(A).sum(axis=1)


def _readonly(a: Any) -> np.ndarray | None:
    if a is None:
        return None
    a = np.array(a, dtype=np.float64)
    a.setflags(write=False)
    return a


# ---------------------------------------------------------------------- Polynomial
@dataclass(frozen=True, eq=False)
class Polynomial:
    """f(x) = constant + Σ_i linear_i x_i + Σ_k coefficients_k ∏_{i∈S_k} x_i on {−1,+1}^n.

    Attributes
    ----------
    n : int
        Number of variables.
    constant : float
        The constant term.
    linear : numpy.ndarray
        a_i, shape (n,).
    interactions : tuple of tuple of int
        S_k: sorted tuples of at least two distinct indices, each listed once (the
        format of :mod:`relax.graphs`).
    coefficients : numpy.ndarray
        c_k, shape (len(interactions),).
    """

    n: int
    constant: float
    linear: np.ndarray
    interactions: tuple[tuple[int, ...], ...]
    coefficients: np.ndarray
    _groups: list = field(init=False, repr=False)

    def __post_init__(self) -> None:
        linear = np.array(self.linear, dtype=np.float64).reshape(-1)
        coefficients = np.array(self.coefficients, dtype=np.float64).reshape(-1)
        interactions = graphs.normalize_interactions(self.n, self.interactions)
        if linear.shape != (self.n,) or coefficients.shape != (len(interactions),):
            raise ValueError(
                f"linear must have shape ({self.n},) and coefficients ({len(interactions)},); "
                f"got {linear.shape} and {coefficients.shape}"
            )
        for a in (linear, coefficients):
            a.setflags(write=False)
        put = object.__setattr__
        put(self, "constant", float(self.constant))
        put(self, "linear", linear)
        put(self, "interactions", interactions)
        put(self, "coefficients", coefficients)
        put(self, "_groups", _group_by_order(interactions, coefficients))

    def __call__(self, X: Any) -> np.ndarray:
        """Evaluate on a batch X of shape (size, n) → (size,)."""
        X = np.asarray(X, dtype=np.float64)
        out = self.constant + rowsum(X * self.linear)
        for idx, c in self._groups:
            out = out + rowsum(np.prod(X[:, idx], axis=2) * c)
        return out

    @classmethod
    def from_terms(cls, n: int, terms: Iterable[tuple[Sequence[int], float]]) -> Polynomial:
        """Sum terms (S, c) meaning c ∏_{i∈S} x_i; S = () is the constant, (i,) linear."""
        constant, linear, inter = 0.0, np.zeros(n), {}
        for S, c in terms:
            key = tuple(sorted(int(i) for i in S))
            if len(key) == 0:
                constant += c
            elif len(key) == 1:
                linear[key[0]] += c
            else:
                inter[key] = inter.get(key, 0.0) + c
        return cls(n, constant, linear, tuple(inter), np.array(list(inter.values())))


def _group_by_order(interactions: Sequence[tuple[int, ...]], c: np.ndarray) -> list:
    groups = []
    for k in sorted({len(s) for s in interactions}):
        pos = [p for p, s in enumerate(interactions) if len(s) == k]
        idx = np.array([interactions[p] for p in pos], dtype=np.int64)
        groups.append((idx, c[pos]))
    return groups


def walsh_polynomial(n: int, scopes: Any, tables: Any) -> Polynomial:
    """The polynomial of f(x) = Σ_r tables[r, b_r(x)], a sum of local tables.

    ``scopes`` has shape (m, k) (distinct indices per row) and ``tables`` shape
    (m, 2^k); b_r(x) = Σ_j [x_{scopes[r, j]} = +1] 2^j.  Each table g is expanded by the
    Walsh–Hadamard transform: the coefficient of ∏_{j∈T} x_j is 2^{−k} Σ_b g(b) ∏_{j∈T} x_j(b).
    Exact zeros are dropped.
    """
    scopes = np.asarray(scopes, dtype=np.int64)
    m, k = scopes.shape
    W = np.asarray(tables, dtype=np.float64).reshape((m,) + (2,) * k)
    for j in range(k):  # bit j of b is axis k − j in C order
        lo, hi = np.take(W, 0, axis=k - j), np.take(W, 1, axis=k - j)
        W = np.stack(((lo + hi) / 2, (hi - lo) / 2), axis=k - j)
    W = W.reshape(m, 2**k)
    terms = []
    for mask in range(2**k):
        members = [j for j in range(k) if mask >> j & 1]
        for r in np.flatnonzero(W[:, mask]):
            terms.append((scopes[r, members], W[r, mask]))
    return Polynomial.from_terms(n, terms)


# ------------------------------------------------------------------------- Problem
class Problem:
    """A benchmark function to minimize, vectorized over a batch of points.

    Problems are immutable; build them with the constructors of :mod:`relax.problems`
    or with :func:`relax.problems.get`.

    Attributes
    ----------
    name : str
        Registry name (or the constructor's name for user-built instances).
    dim : int
        Dimension n of x.
    domain : {"real", "binary"}
        x ∈ R^n or x ∈ {−1,+1}^n.
    description : str
        One line: the formula and the minimum.
    optimum : float or None
        The minimum value of f, or ``None`` when unknown.  Binary problems with n ≤ 20
        and no closed form compute it by enumeration on first access.
    x_opt : numpy.ndarray or None
        A minimizer (read-only), or ``None`` when unknown.
    x0, sigma0, bounds : continuous problems only
        Suggested start, initial step size, and typical search box ``(lower, upper)``.
    polynomial : Polynomial or None
        Binary problems whose multilinear (Walsh) expansion is known exactly:
        f(x) = constant + Σ_i linear_i x_i + Σ_k coefficients_k ∏_{i∈S_k} x_i.
    params : Mapping
        The options (and seed) that built this instance.

    Notes
    -----
    The constructor takes ``func``, the batch implementation (called with a validated,
    C-contiguous float64 array of shape (size, n)); what is known as ``optimum`` and
    ``x_opt``, or a ``solver`` returning (optimum, x_opt) on first access; and the
    polynomial, or ``make_polynomial`` building it on first access.  Keep ``func`` and
    the callables picklable (module-level functions, ``functools.partial``, dataclasses)
    so that problems can be sent to worker processes.
    """

    def __init__(
        self,
        name: str,
        dim: int,
        domain: str,
        func: BatchFunction,
        *,
        description: str = "",
        optimum: float | None = None,
        x_opt: Any = None,
        solver: Callable[[], tuple[float, np.ndarray]] | None = None,
        x0: Any = None,
        sigma0: float | None = None,
        bounds: tuple[Any, Any] | None = None,
        polynomial: Polynomial | None = None,
        make_polynomial: Callable[[], Polynomial] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        if domain not in DOMAINS:
            raise ValueError(f"domain must be one of {DOMAINS}; got {domain!r}")
        put = self.__dict__.__setitem__
        put("name", name)
        put("dim", int(dim))
        put("domain", domain)
        put("description", description)
        put("_func", func)
        put("_optimum", None if optimum is None else float(optimum))
        put("_x_opt", _readonly(x_opt))
        put("_solver", solver)
        put("x0", _readonly(x0))
        put("sigma0", None if sigma0 is None else float(sigma0))
        put("bounds", None if bounds is None else (_readonly(bounds[0]), _readonly(bounds[1])))
        put("_polynomial", polynomial)
        put("_make_polynomial", make_polynomial)
        put("_params", dict(params or {}))

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError(f"Problem is immutable; cannot set {key!r}")

    def __delattr__(self, key: str) -> None:
        raise AttributeError(f"Problem is immutable; cannot delete {key!r}")

    def __repr__(self) -> str:
        known = "" if self._optimum is None else f", optimum={self._optimum!r}"
        return f"Problem(name={self.name!r}, dim={self.dim}, domain={self.domain!r}{known})"

    @property
    def params(self) -> Mapping[str, Any]:
        """The options (and seed) that built this instance (read-only view)."""
        return MappingProxyType(self._params)

    # ------------------------------------------------------------ what is known
    @cached_property
    def _exact(self) -> tuple[float | None, np.ndarray | None]:
        if self._solver is None or (self._optimum is not None and self._x_opt is not None):
            return self._optimum, self._x_opt
        value, x = self._solver()
        return value, _readonly(x)

    @property
    def optimum(self) -> float | None:
        """The minimum value of f (``None`` when unknown)."""
        return self._exact[0]

    @property
    def x_opt(self) -> np.ndarray | None:
        """A minimizer of f (``None`` when unknown)."""
        return self._exact[1]

    @cached_property
    def polynomial(self) -> Polynomial | None:
        """The exact multilinear expansion on {−1,+1}^n, or ``None``."""
        if self._polynomial is None and self._make_polynomial is not None:
            return self._make_polynomial()
        return self._polynomial

    @property
    def constant(self) -> float | None:
        """Constant term of :attr:`polynomial`."""
        return None if self.polynomial is None else self.polynomial.constant

    @property
    def linear(self) -> np.ndarray | None:
        """Coefficients a_i of x_i in :attr:`polynomial`."""
        return None if self.polynomial is None else self.polynomial.linear

    @property
    def interactions(self) -> tuple[tuple[int, ...], ...] | None:
        """Interactions S_k (sorted index tuples, |S_k| ≥ 2) of :attr:`polynomial`."""
        return None if self.polynomial is None else self.polynomial.interactions

    @property
    def coefficients(self) -> np.ndarray | None:
        """Coefficients c_k of ∏_{i∈S_k} x_i in :attr:`polynomial`."""
        return None if self.polynomial is None else self.polynomial.coefficients

    # ---------------------------------------------------------------- evaluation
    def _batch(self, X: Any, what: str = "X") -> np.ndarray:
        X = np.ascontiguousarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.dim:
            raise ValueError(
                f"{what} must have shape (size, {self.dim}) for problem {self.name!r} "
                f"(n={self.dim}); got shape {X.shape}"
            )
        return X

    def f(self, X: Any) -> np.ndarray:
        """Evaluate a batch: X of shape (size, n) → values of shape (size,), float64.

        For binary problems every entry of X must be −1 or +1 (see :meth:`f01`).
        """
        X = self._batch(X)
        if self.domain == "binary" and not np.all(np.abs(X) == 1.0):
            raise ValueError(
                f"X must take values in {{-1, +1}} for binary problem {self.name!r} "
                "(use f01 for points in {0, 1})"
            )
        return np.asarray(self._func(X), dtype=np.float64).reshape(X.shape[0])

    def f01(self, Z: Any) -> np.ndarray:
        """Evaluate a batch of z ∈ {0,1}^n, shape (size, n), as f(x) with x = 2z − 1."""
        if self.domain != "binary":
            raise TypeError(f"f01 is defined for binary problems only; {self.name!r} is real")
        Z = self._batch(Z, "Z")
        if not np.all((Z == 0.0) | (Z == 1.0)):
            raise ValueError(f"Z must take values in {{0, 1}} for problem {self.name!r}")
        return self.f(2.0 * Z - 1.0)

    def __call__(self, x: Any) -> float | np.ndarray:
        """f at one point (1-D x of length n → float) or at a batch (2-D → array)."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 1:
            if x.shape[0] != self.dim:
                raise ValueError(
                    f"x must have shape ({self.dim},) or (size, {self.dim}) for problem "
                    f"{self.name!r}; got shape {x.shape}"
                )
            return float(self.f(x[None, :])[0])
        return self.f(x)


def lazy_enumeration(func: BatchFunction, n: int) -> Callable[[], tuple[float, np.ndarray]] | None:
    """A solver for :class:`Problem` that enumerates {−1,+1}^n when n ≤ 20, else ``None``."""
    if n > MAX_ENUMERATION_N:
        return None
    return _Enumerate(func, n)


@dataclass(frozen=True)
class _Enumerate:
    func: BatchFunction
    n: int

    def __call__(self) -> tuple[float, np.ndarray]:
        return enumerate_minimum(self.func, self.n)


# ------------------------------------------------------------------------ registry
class ProblemInfo(NamedTuple):
    """One row of :func:`describe`."""

    name: str
    domain: str
    description: str
    dims: str


@dataclass(frozen=True)
class _Entry:
    info: ProblemInfo
    factory: Callable[..., Problem]
    min_dim: int | None  # None: the dimension comes from the options (e.g. a file)


_REGISTRY: dict[str, _Entry] = {}


def register(
    name: str, domain: str, description: str, dims: str, min_dim: int | None = 1
) -> Callable[[Callable[..., Problem]], Callable[..., Problem]]:
    """Decorator registering ``factory(dim, *, options..., seed=None) -> Problem``."""

    def decorate(factory: Callable[..., Problem]) -> Callable[..., Problem]:
        _REGISTRY[name] = _Entry(ProblemInfo(name, domain, description, dims), factory, min_dim)
        return factory

    return decorate


def _lookup(name: str) -> _Entry:
    key = str(name).strip().lower().replace("-", "_")
    if key in _REGISTRY:
        return _REGISTRY[key]
    close = difflib.get_close_matches(key, list(_REGISTRY), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
    raise ValueError(f"unknown problem {name!r}{hint} (known: {', '.join(_REGISTRY)})")


def _check_dim(dim: Any, entry: _Entry) -> int:
    name, dims = entry.info.name, entry.info.dims
    if dim is None:
        raise ValueError(f"problem {name!r} needs a dimension; allowed: {dims}")
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
        raise ValueError(f"dim must be an integer for problem {name!r}; got {dim!r}")
    if dim < entry.min_dim:
        raise ValueError(f"dim={dim} is not allowed for problem {name!r}; allowed: {dims}")
    return int(dim)


def _options(entry: _Entry) -> list[str]:
    params = inspect.signature(entry.factory).parameters.values()
    return [p.name for p in params if p.kind is p.KEYWORD_ONLY and p.name != "seed"]


def _required(entry: _Entry) -> list[str]:
    params = inspect.signature(entry.factory).parameters.values()
    return [p.name for p in params if p.kind is p.KEYWORD_ONLY and p.default is p.empty]


def get(name: str, dim: int | None = None, *, seed: Seed = None, **options: Any) -> Problem:
    """Build the registered problem ``name`` in dimension ``dim``.

    Parameters
    ----------
    name : str
        A name from :func:`names` (case-insensitive, ``-`` read as ``_``).
    dim : int
        Dimension n; checked against what the problem allows.  Problems read from a
        file (``maxsat``) take it from the file and only check it when given.
    seed : int, Generator, SeedSequence or None
        Seed of random instances, shifts and rotations; the same seed gives the same
        instance.  ``None`` draws fresh entropy (recorded in ``problem.params``).
        Ignored by problems that use no randomness.
    **options
        Problem-specific options (see :func:`describe`); unknown ones raise ValueError.
    """
    entry = _lookup(name)
    accepted = _options(entry)
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ValueError(
            f"unknown option(s) {', '.join(unknown)} for problem {entry.info.name!r}; "
            f"accepted: {', '.join(accepted) or 'none'}"
        )
    missing = [k for k in _required(entry) if k not in options]
    if missing:
        raise ValueError(
            f"problem {entry.info.name!r} needs option(s) {', '.join(f'{k}=' for k in missing)}"
        )
    if entry.min_dim is not None:
        dim = _check_dim(dim, entry)
    if "seed" in inspect.signature(entry.factory).parameters:
        options["seed"] = seed
    return entry.factory(dim, **options)


def _ordered() -> list[_Entry]:
    """Real problems first, then binary ones, each in registration order."""
    return sorted(_REGISTRY.values(), key=lambda e: DOMAINS.index(e.info.domain))


def names(domain: str | None = None) -> list[str]:
    """Registered problem names (real first, then binary), optionally of one domain."""
    if domain is not None and domain not in DOMAINS:
        raise ValueError(f"domain must be one of {DOMAINS} or None; got {domain!r}")
    return [e.info.name for e in _ordered() if domain is None or e.info.domain == domain]


def describe() -> list[ProblemInfo]:
    """Rows (name, domain, description, dims allowed) for every registered problem."""
    return [e.info for e in _ordered()]


def options(name: str) -> list[str]:
    """The options :func:`get` accepts for problem ``name`` (besides ``seed``)."""
    return _options(_lookup(name))
