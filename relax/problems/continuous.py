"""Continuous benchmark functions on R^n, all minimized, with known minima.

Each base function g has a known minimizer x_b and value g(x_b).  With ``shift=True``
the minimizer moves to a point x* drawn uniformly from [−4, 4]^n, with ``rotate=True``
the coordinates are rotated by a random orthogonal R; the instance is

    f(x) = g(R (x − x*) + x_b),    so f(x*) = g(x_b),

with x* = x_b when not shifted and R = I when not rotated.  Shift and rotation come from
two independent streams spawned from ``seed``: the same seed gives the same instance.

Arithmetic is row-wise (elementwise products and sums along each row, ``einsum`` rather
than BLAS for the rotation), so f(x) is the same bit for bit whether x is evaluated alone
or inside any batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from relax.problems.base import (
    BatchFunction,
    Problem,
    Seed,
    register,
    resolve_seed,
    rngs,
    rowsum,
)

STYBLINSKI_TANG_X = -2.903534027771178
STYBLINSKI_TANG_MIN = -39.16616570377142  # per coordinate


# ------------------------------------------------------------------ base functions
def _sphere(X: np.ndarray) -> np.ndarray:
    return rowsum(X * X)


def _ellipsoid_weights(n: int, cond: float) -> np.ndarray:
    return cond ** (np.arange(n) / (n - 1)) if n > 1 else np.ones(1)


def _ellipsoid(X: np.ndarray, cond: float) -> np.ndarray:
    return rowsum(X * X * _ellipsoid_weights(X.shape[1], cond))


def _rosenbrock(X: np.ndarray) -> np.ndarray:
    a, b = X[:, :-1], X[:, 1:]
    return rowsum(100.0 * (b - a * a) ** 2 + (1.0 - a) ** 2)


def _rastrigin(X: np.ndarray) -> np.ndarray:
    return rowsum(X * X + 10.0 * (1.0 - np.cos(2.0 * np.pi * X)))


def _ackley(X: np.ndarray) -> np.ndarray:
    n = X.shape[1]
    r = np.sqrt(rowsum(X * X) / n)
    c = rowsum(np.cos(2.0 * np.pi * X)) / n
    return 20.0 * (1.0 - np.exp(-0.2 * r)) + (np.e - np.exp(c))


def _bent_cigar(X: np.ndarray) -> np.ndarray:
    return X[:, 0] ** 2 + 1e6 * rowsum(X[:, 1:] ** 2)


def _different_powers(X: np.ndarray) -> np.ndarray:
    n = X.shape[1]
    p = 2.0 + 4.0 * np.arange(n) / (n - 1) if n > 1 else np.full(1, 2.0)
    return rowsum(np.abs(X) ** p)


def _styblinski_tang(X: np.ndarray) -> np.ndarray:
    return 0.5 * rowsum(X**4 - 16.0 * X**2 + 5.0 * X)


def _schwefel_1_2(X: np.ndarray) -> np.ndarray:
    return rowsum(np.cumsum(X, axis=1) ** 2)


# ------------------------------------------------------------------- transforms
def random_rotation(n: int, rng: np.random.Generator) -> np.ndarray:
    """A Haar-random rotation: Q from the QR factorization of a Gaussian matrix, with the
    signs of R's diagonal moved into Q, and one column flipped if needed so det Q = +1."""
    Q, R = np.linalg.qr(rng.standard_normal((n, n)))
    Q = Q * np.where(np.diag(R) < 0, -1.0, 1.0)
    if np.linalg.det(Q) < 0:
        Q[:, 0] = -Q[:, 0]
    return Q


@dataclass(frozen=True, eq=False)
class _Transformed:
    """x ↦ g(R (x − x*) + x_b) (R = I when ``R`` is None)."""

    g: BatchFunction
    x_star: np.ndarray
    x_base: np.ndarray
    R: np.ndarray | None

    def __call__(self, X: np.ndarray) -> np.ndarray:
        Z = X - self.x_star
        if self.R is not None:
            Z = np.einsum("ij,sj->si", self.R, Z)  # row-wise, unlike BLAS (see module doc)
        return self.g(Z + self.x_base)


@dataclass(frozen=True)
class _Spec:
    """A base function: formula, minimizer coordinate, minimum per coordinate, box, start."""

    formula: str
    x_b: float = 0.0
    f_b: float = 0.0  # minimum value per coordinate (0 for all but Styblinski–Tang)
    box: float = 5.0
    x0: float = 3.0  # start x0 = x0·1 (when not shifted; shifted problems start at 0)
    sigma0: float = 2.0


SPECS = {
    "sphere": _Spec("sum x_i^2"),
    "ellipsoid": _Spec("sum cond^(i/(n-1)) x_i^2"),
    "rotated_ellipsoid": _Spec("sum cond^(i/(n-1)) (Rx)_i^2"),
    "rosenbrock": _Spec("sum 100 (x_(i+1) - x_i^2)^2 + (1 - x_i)^2", x_b=1.0, x0=0.0),
    "rastrigin": _Spec("sum x_i^2 + 10 (1 - cos 2 pi x_i)", box=5.12),
    "ackley": _Spec("20 (1 - exp(-0.2 rms x)) + e - exp(mean cos 2 pi x_i)", box=32.768),
    "bent_cigar": _Spec("x_0^2 + 1e6 sum_(i>0) x_i^2"),
    "different_powers": _Spec("sum |x_i|^(2 + 4 i/(n-1))"),
    "styblinski_tang": _Spec(
        "sum (x_i^4 - 16 x_i^2 + 5 x_i)/2", x_b=STYBLINSKI_TANG_X, f_b=STYBLINSKI_TANG_MIN, x0=0.0
    ),
    "schwefel_1_2": _Spec("sum_i (sum_(j<=i) x_j)^2"),
}


def _build(
    name: str,
    n: int,
    g: BatchFunction,
    *,
    shift: bool,
    rotate: bool,
    seed: Seed,
    params: dict | None = None,
) -> Problem:
    spec = SPECS[name]
    seed = resolve_seed(seed)
    shift_rng, rotation_rng = rngs(seed, 2)
    x_base = np.full(n, spec.x_b)
    x_star = shift_rng.uniform(-4.0, 4.0, n) if shift else x_base
    R = random_rotation(n, rotation_rng) if rotate else None
    func = _Transformed(g, x_star, x_base, R) if (shift or rotate) else g
    tags = [t for t, on in (("shifted", shift), ("rotated", rotate)) if on]
    optimum = spec.f_b * n
    return Problem(
        name,
        n,
        "real",
        func,
        description=f"{name}: {spec.formula}; min {optimum:.10g}"
        + (f" ({', '.join(tags)})" if tags else f" at x = {spec.x_b:g}"),
        optimum=optimum,
        x_opt=x_star,
        x0=np.zeros(n) if shift else np.full(n, spec.x0),
        sigma0=spec.sigma0,
        bounds=(np.full(n, -spec.box), np.full(n, spec.box)),
        params={**(params or {}), "shift": shift, "rotate": rotate, "seed": seed},
    )


_TRANSFORM_DOC = """
    Parameters
    ----------
    n : int
        Dimension.
    shift, rotate : bool
        Move the minimizer to a random point of [−4, 4]^n; rotate by a random orthogonal
        matrix (see :mod:`relax.problems.continuous`).
    seed : int, Generator, SeedSequence or None
        Seed of the shift and rotation.
"""


def _register(name: str, summary: str, dims: str = "n >= 1", min_dim: int = 1):
    def decorate(factory):
        factory.__doc__ = (factory.__doc__ or "") + _TRANSFORM_DOC
        return register(name, "real", summary, dims, min_dim)(factory)

    return decorate


@_register("sphere", "sum x_i^2; min 0 at 0")
def sphere(n: int, *, shift: bool = False, rotate: bool = False, seed: Seed = None) -> Problem:
    """Sphere f(x) = Σ_i x_i²; minimum 0 at 0."""
    return _build("sphere", n, _sphere, shift=shift, rotate=rotate, seed=seed)


@_register("ellipsoid", "sum cond^(i/(n-1)) x_i^2, condition cond=1e6; min 0 at 0")
def ellipsoid(
    n: int, *, cond: float = 1e6, shift: bool = False, rotate: bool = False, seed: Seed = None
) -> Problem:
    """Separable ellipsoid f(x) = Σ_i cond^{i/(n−1)} x_i² (i = 0..n−1), condition number
    ``cond`` (default 10⁶); minimum 0 at 0."""
    g = partial(_ellipsoid, cond=float(cond))
    return _build(
        "ellipsoid", n, g, shift=shift, rotate=rotate, seed=seed, params={"cond": float(cond)}
    )


@_register("rotated_ellipsoid", "ellipsoid composed with a random rotation; min 0 at 0")
def rotated_ellipsoid(
    n: int, *, cond: float = 1e6, shift: bool = False, rotate: bool = True, seed: Seed = None
) -> Problem:
    """Ellipsoid in randomly rotated coordinates, f(x) = Σ_i cond^{i/(n−1)} (Rx)_i²
    (always rotated, R from ``seed``; ``rotate`` is accepted for uniformity and must be
    true); minimum 0 at 0."""
    if not rotate:
        raise ValueError("rotated_ellipsoid is always rotated; use 'ellipsoid' for rotate=False")
    g = partial(_ellipsoid, cond=float(cond))
    return _build(
        "rotated_ellipsoid", n, g, shift=shift, rotate=True, seed=seed, params={"cond": float(cond)}
    )


@_register(
    "rosenbrock", "sum 100 (x_(i+1) - x_i^2)^2 + (1 - x_i)^2; min 0 at 1", "n >= 2", min_dim=2
)
def rosenbrock(n: int, *, shift: bool = False, rotate: bool = False, seed: Seed = None) -> Problem:
    """Rosenbrock f(x) = Σ_{i<n−1} 100 (x_{i+1} − x_i²)² + (1 − x_i)²; minimum 0 at 1.

    Starts at x0 = 0."""
    return _build("rosenbrock", n, _rosenbrock, shift=shift, rotate=rotate, seed=seed)


@_register("rastrigin", "10n + sum x_i^2 - 10 cos(2 pi x_i); min 0 at 0")
def rastrigin(n: int, *, shift: bool = False, rotate: bool = False, seed: Seed = None) -> Problem:
    """Rastrigin f(x) = 10n + Σ_i (x_i² − 10 cos 2πx_i); minimum 0 at 0; box [−5.12, 5.12]."""
    return _build("rastrigin", n, _rastrigin, shift=shift, rotate=rotate, seed=seed)


@_register("ackley", "-20 exp(-0.2 rms x) - exp(mean cos 2 pi x_i) + 20 + e; min 0 at 0")
def ackley(n: int, *, shift: bool = False, rotate: bool = False, seed: Seed = None) -> Problem:
    """Ackley f(x) = −20 exp(−0.2 √(Σx_i²/n)) − exp(Σ cos(2πx_i)/n) + 20 + e;
    minimum 0 at 0; box [−32.768, 32.768]."""
    return _build("ackley", n, _ackley, shift=shift, rotate=rotate, seed=seed)


@_register("bent_cigar", "x_0^2 + 1e6 sum_(i>0) x_i^2; min 0 at 0")
def bent_cigar(n: int, *, shift: bool = False, rotate: bool = False, seed: Seed = None) -> Problem:
    """Bent cigar f(x) = x_0² + 10⁶ Σ_{i>0} x_i²; minimum 0 at 0."""
    return _build("bent_cigar", n, _bent_cigar, shift=shift, rotate=rotate, seed=seed)


@_register("different_powers", "sum |x_i|^(2 + 4 i/(n-1)); min 0 at 0")
def different_powers(
    n: int, *, shift: bool = False, rotate: bool = False, seed: Seed = None
) -> Problem:
    """Different powers f(x) = Σ_i |x_i|^{2 + 4i/(n−1)} (i = 0..n−1; the BBOB exponents,
    without BBOB's square root); minimum 0 at 0."""
    return _build("different_powers", n, _different_powers, shift=shift, rotate=rotate, seed=seed)


@_register("styblinski_tang", "sum (x_i^4 - 16 x_i^2 + 5 x_i)/2; min -39.16616570377142 n")
def styblinski_tang(
    n: int, *, shift: bool = False, rotate: bool = False, seed: Seed = None
) -> Problem:
    """Styblinski–Tang f(x) = ½ Σ_i (x_i⁴ − 16x_i² + 5x_i); minimum −39.16616570377142·n
    at x_i = −2.903534027771178; starts at x0 = 0."""
    return _build("styblinski_tang", n, _styblinski_tang, shift=shift, rotate=rotate, seed=seed)


@_register("schwefel_1_2", "sum_i (sum_(j<=i) x_j)^2; min 0 at 0")
def schwefel_1_2(
    n: int, *, shift: bool = False, rotate: bool = False, seed: Seed = None
) -> Problem:
    """Schwefel 1.2 f(x) = Σ_i (Σ_{j≤i} x_j)²; minimum 0 at 0."""
    return _build("schwefel_1_2", n, _schwefel_1_2, shift=shift, rotate=rotate, seed=seed)
