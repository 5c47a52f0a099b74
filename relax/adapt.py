"""Adaptation: natural-gradient steps on a Gaussian with per-block learning rates.

The default Gaussian search writes the model in its local frame,

    x = m + σ · D ⊙ (C^{1/2} z),   z ~ N(0, I),   Σ = σ² D C D,

(``D`` a positive vector, ``C`` symmetric positive definite with unit diagonal after each
decomposition; the diagonal model has no ``C``) and moves each block of (m, Σ) by its own
natural-gradient step, computed from the whitened sample z_i and the rank weights w_i
(good samples first, Σ w⁺ = 1, active negative weights on the worst):

- **mean** (learning rate c_m = 1): m ← m + c_m σ D ⊙ C^{1/2} Σ w⁺_i z_i.  This is the
  natural gradient of E[W(f)] with respect to m (chart-free: the Fisher block of m is Σ⁻¹).
- **correlations** C (learning rates c_1, c_μ): in the whitened frame the natural-gradient
  increment is Δ = c_μ Σ w_i (z̃_i z̃_iᵀ − I) + c_1 (q qᵀ − γ_c I), with the rank-one term
  q = C^{−1/2} p_c/D from the evolution path p_c, and z̃_i = z_i √n/|z_i| for negative
  weights (active update, kept positive definite).  The increments of several iterations
  are summed and applied when C is next decomposed, in the chart ``param``:
  ``"eta"`` adds them to the covariance, C ← C^{1/2}(I + Δ)C^{1/2} (the CMA-ES update,
  first order of the η-step); ``"theta"`` adds them to the precision,
  C ← C^{1/2}(I − Δ)⁻¹C^{1/2} (first order of the θ-step).  Both are the same
  natural-gradient direction; they differ at second order.
- **diagonal** D (learning rates c_d1, c_dμ, n parameters instead of n(n+1)/2, so much
  larger): D ← D ⊙ exp(β/2 · [c_dμ Σ w_i (z̃_i² − 1) + c_d1 ((C^{−1/2} p_d/D)² − γ_d)]),
  the natural gradient of the log-scales (diagonal decoding, dd-CMA; Akimoto and Hansen,
  *Evolutionary Computation* 28(3), 2020), damped by β = 1/max(1, √cond C − 1) while C is
  ill-conditioned.
- **global scale** σ (cumulative step-size adaptation, Hansen and Ostermeier 2001): the path
  p_σ ← (1 − c_σ) p_σ + √(c_σ(2 − c_σ)μ_eff) Σ w⁺_i z_i and
  σ ← σ exp((|p_σ|/E|N(0,I)| − √γ_σ) c_σ/d_σ), with γ_σ = 1 − (1 − c_σ)^{2t} removing the
  bias of a path that starts at zero.

Learning rates follow dd-CMA (c_1 = 1/((n+3)(n+1)^{3/4} + μ_eff/2), c_μ = min(1 − c_1,
μ'c_1), and the same with n(n+1)/2 replaced by n for D); the step-size constants are the
CMA-ES ones.  C is eigendecomposed every ⌊1/(n (c_1 + c_μ))⌋ iterations, so one iteration
costs O(λn²) and the O(n³) work is amortized (pycma waits ⌊1/(10 n (c_1 + c_μ))⌋ with its
smaller rates; measured on the 100-d sphere and the 40-d rotated ellipsoid, the longer wait
costs no evaluations and saves 3–6× the time).

**Mirrored sampling** (Brockhoff, Auger, Hansen, Teytaud, Tran 2010): the second half of
each population is the first half negated, z_{λ/2+i} = −z_i.  The natural-gradient
estimates Σ w_i z_i and Σ w_i (z_i z_iᵀ − I) are then antithetic Monte Carlo estimates: the
sampling noise of the odd moments cancels within each pair.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy import linalg

from relax import backend
from relax.backend import CPU, Backend
from relax.threads import BLAS_PIN_N, single_thread_blas

#: Charts in which the summed correlation increments are applied.
CHARTS = ("eta", "theta")


def expected_norm(n: int) -> float:
    """E|N(0, I_n)| ≈ √n (1 − 1/(4n) + 1/(21n²))."""
    return math.sqrt(n) * (1.0 - 1.0 / (4.0 * n) + 1.0 / (21.0 * n * n))


def recombination_weights(popsize: int) -> tuple[np.ndarray, float, float]:
    """Log-rank weights w_r ∝ ln((λ+1)/2) − ln r for ranks r = 1..λ (best first).

    Returns the weights with Σ w⁺ = 1 and Σ w⁻ = −1, μ_eff = 1/Σ (w⁺)² and
    μ_eff⁻ = (Σ w⁻)²/Σ (w⁻)².
    """
    w = math.log((popsize + 1) / 2.0) - np.log(np.arange(1, popsize + 1))
    pos, neg = w > 0, w < 0
    w[pos] /= w[pos].sum()
    mu_eff = 1.0 / float(np.sum(w[pos] ** 2))
    mu_eff_neg = float(w[neg].sum() ** 2 / np.sum(w[neg] ** 2)) if neg.any() else 0.0
    if neg.any():
        w[neg] /= -w[neg].sum()
    return w, mu_eff, mu_eff_neg


def _rates(dof: int, n: int, mu_eff: float, popsize: int) -> tuple[float, float, float]:
    """(c_1, c_μ, c_c) of dd-CMA for a block with ``dof`` free parameters in dimension n."""
    c1 = 1.0 / (2.0 * (dof / n + 1.0) * (n + 1.0) ** 0.75 + mu_eff / 2.0)
    mu_prime = mu_eff + 1.0 / mu_eff - 2.0 + popsize / (2.0 * popsize + 10.0)
    cmu = min(1.0 - c1, mu_prime * c1)
    cc = math.sqrt(mu_eff * c1) / 2.0
    return c1, cmu, cc


def _active(w: np.ndarray, c1: float, cmu: float, mu_eff: float, mu_eff_neg: float,
            n: int):
    """Scale the negative weights (Σ w⁻ = −1) to −min(1 + c_1/c_μ, 1 + 2μ_eff⁻/(μ_eff + 2),
    (1 − c_1 − c_μ)/(n c_μ)); the last bound (Hansen 2016) keeps one update positive
    definite with the √n/|z| rescaling, and binds only for large populations."""
    out = w.copy()
    out[w < 0] *= min(1.0 + c1 / cmu, 1.0 + 2.0 * mu_eff_neg / (mu_eff + 2.0),
                      (1.0 - c1 - cmu) / (n * cmu))
    return out


@dataclass(frozen=True)
class Rates:
    """Weights and per-block learning rates of the adaptive search (see module docstring).

    Build with :meth:`default`; every field may be overridden with
    ``dataclasses.replace`` (e.g. ``replace(rates, c_m=0.5)``).
    """

    n: int
    popsize: int
    weights: np.ndarray
    weights_d: np.ndarray
    mu_eff: float
    c_m: float
    c_sigma: float
    d_sigma: float
    c_c: float
    c_1: float
    c_mu: float
    c_dc: float
    c_d1: float
    c_dmu: float
    full: bool
    eigen_every: int

    @classmethod
    def default(cls, n: int, popsize: int, *, full: bool = True) -> Rates:
        """dd-CMA's learning rates for dimension n, population λ; ``full=False`` for the
        diagonal model (no correlation block)."""
        w, mu_eff, mu_eff_neg = recombination_weights(popsize)
        c1, cmu, cc = _rates(n * (n + 1) // 2, n, mu_eff, popsize)
        cd1, cdmu, cdc = _rates(n, n, mu_eff, popsize)
        c_sigma = (mu_eff + 2.0) / (n + mu_eff + 5.0)
        d_sigma = 1.0 + c_sigma + 2.0 * max(0.0, math.sqrt((mu_eff - 1.0) / (n + 1.0)) - 1.0)
        every = max(1, int(1.0 / (n * (c1 + cmu)))) if full else 1
        return cls(
            n=n, popsize=popsize, weights=_active(w, c1, cmu, mu_eff, mu_eff_neg, n),
            weights_d=_active(w, cd1, cdmu, mu_eff, mu_eff_neg, n), mu_eff=mu_eff, c_m=1.0,
            c_sigma=c_sigma, d_sigma=d_sigma, c_c=cc, c_1=c1, c_mu=cmu, c_dc=cdc, c_d1=cd1,
            c_dmu=cdmu, full=full, eigen_every=every,
        )


@dataclass
class Frame:
    """The state of the adaptive search: the model in its local frame plus the paths.

    ``K`` is C (chart η) or C⁻¹ (chart θ), updated additively every iteration in O(λn²);
    ``B`` and ``axes`` are the eigenvectors of C and the square roots of its eigenvalues
    at the last decomposition and ``sqrt_C`` = B diag(axes) Bᵀ its symmetric root
    (``None``/ones for the diagonal model).  The sample is y = C^{1/2} z: the symmetric
    root keeps z the whitened sample (C^{−1/2} y = z) and makes the sample independent of
    the arbitrary eigenvectors of repeated eigenvalues (so runs are exactly invariant).

    The arrays live on ``device`` (:mod:`relax.backend`: ``"cpu"`` numpy, ``"gpu"`` cupy);
    every formula is written once over its namespace.
    """

    mean: np.ndarray
    sigma: float
    D: np.ndarray
    chart: str
    K: np.ndarray | None
    B: np.ndarray | None
    sqrt_C: np.ndarray | None
    axes: np.ndarray
    p_sigma: np.ndarray
    p_c: np.ndarray
    p_d: np.ndarray
    g_sigma: float = 0.0  # γ = E|p|²/n of each path: 1 − (1 − c)^{2t}
    g_c: float = 0.0
    g_d: float = 0.0
    beta: float = 1.0
    t: int = 0
    K_last: np.ndarray | None = None  # K after the last decomposition
    device: str = "cpu"

    #: The array fields, moved together by :meth:`to`.
    ARRAYS = ("mean", "D", "K", "B", "sqrt_C", "axes", "p_sigma", "p_c", "p_d", "K_last")

    @classmethod
    def from_moments(cls, mean: np.ndarray, cov: np.ndarray | None, var: np.ndarray,
                     chart: str = "eta", bk: Backend = CPU) -> Frame:
        """Split Σ into σ² D C D with D = √diag Σ / σ, σ the geometric mean of √diag Σ
        (numpy arrays in; the frame's arrays on ``bk``)."""
        n = mean.size
        std = np.sqrt(var)
        sigma = float(np.exp(np.mean(np.log(std))))
        zero = np.zeros(n)
        K = None
        if cov is not None:
            C = cov / np.outer(std, std)
            K = C if chart == "eta" else linalg.inv(C, check_finite=False)
        frame = cls(mean.copy(), sigma, std / sigma, chart, K, None, None, np.ones(n), zero,
                    zero.copy(), zero.copy())
        frame = frame.to(bk)
        if cov is not None:
            frame.decompose()
        return frame

    def to(self, bk: Backend) -> Frame:
        """This frame with its arrays on the backend ``bk`` (a new frame; numpy copies)."""
        moved = {name: None if getattr(self, name) is None else bk.asarray(getattr(self, name))
                 for name in self.ARRAYS}
        return replace(self, device=bk.name, **moved)

    @property
    def bk(self) -> Backend:
        return backend.get(self.device)

    # ---------------------------------------------------------------- views
    @property
    def full(self) -> bool:
        return self.K is not None

    def scale(self) -> np.ndarray:
        """σD: the coordinate scales of the sample before correlation."""
        return self.sigma * self.D

    def correlation(self) -> np.ndarray:
        """C (O(n³) in chart θ, where the precision is what is kept)."""
        return self.K if self.chart == "eta" else self.bk.inv(self.K)

    def covariance(self) -> np.ndarray:
        """Σ = σ² D C D."""
        s, bk = self.scale(), self.bk
        return bk.diag_matrix(s * s) if self.K is None else self.correlation() * bk.outer(s, s)

    def variances(self) -> np.ndarray:
        """diag Σ at the last decomposition's correlations, σ²D²diag C (C's diagonal is 1
        after each decomposition and drifts by at most the learning rates in between)."""
        s = self.scale()
        if self.K is None or self.chart == "theta":
            return s * s
        return s * s * self.bk.diagonal(self.K)

    # ------------------------------------------------------------- sampling
    def sample(self, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(X, Y, Z): y_i = C^{1/2} z_i and x_i = m + σD ⊙ y_i."""
        Y = Z if self.sqrt_C is None else Z @ self.sqrt_C
        X = self.scale() * Y
        X += self.mean
        return X, Y, Z

    def whiten(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(Y, W): y_i = (x_i − m)/(σD), w_i = C^{−1/2} y_i."""
        Y = (X - self.mean) / self.scale()
        if self.B is None:
            return Y, Y
        return Y, ((Y @ self.B) / self.axes) @ self.B.T

    def inv_sqrt(self, v: np.ndarray) -> np.ndarray:
        """C^{−1/2} v."""
        return v if self.B is None else self.B @ ((self.B.T @ v) / self.axes)

    # --------------------------------------------------------------- update
    def update(self, rates: Rates, Y: np.ndarray, W: np.ndarray, w: np.ndarray,
               wd: np.ndarray) -> None:
        """One iteration from the sample in the frame (rows y_i = (x_i − m)/(σD) and
        w_i = C^{−1/2} y_i, see :meth:`whiten`) and per-row weights ``w`` (mean and
        correlations) and ``wd`` (diagonal); the module docstring gives every formula."""
        bk = self.bk
        pos = bk.xp.maximum(w, 0.0)
        dy = pos @ Y
        dx = self.D * dy  # the mean shift in units of σ, before D changes
        self.mean = self.mean + rates.c_m * self.sigma * dx
        hsig = self._step_size(rates, pos @ W)
        shrink = rates.n / bk.xp.maximum(bk.rowdot(W, W), 1e-300)
        if self.full:
            self._correlations(rates, Y, w, shrink, dx, hsig)
        self._diagonal(rates, W, wd, shrink, dx, hsig)
        self.t += 1
        if self.full and self.t % rates.eigen_every == 0:
            self.decompose()

    def _step_size(self, rates: Rates, dz: np.ndarray) -> bool:
        """CSA: update p_σ and σ; return h_σ (False stalls the rank-one paths)."""
        c, n = rates.c_sigma, rates.n
        self.p_sigma = (1 - c) * self.p_sigma + math.sqrt(c * (2 - c) * rates.mu_eff) * dz
        self.g_sigma = (1 - c) ** 2 * self.g_sigma + c * (2 - c)
        norm2 = float(self.p_sigma @ self.p_sigma)
        log_change = (math.sqrt(norm2) / expected_norm(n) - math.sqrt(self.g_sigma)) \
            * c / rates.d_sigma
        self.sigma *= math.exp(min(1.0, log_change))
        return norm2 / self.g_sigma / n < 2.0 + 4.0 / (n + 1)

    def _path(self, p: np.ndarray, g: float, c: float, dx: np.ndarray, mu_eff: float,
              hsig: bool) -> tuple[np.ndarray, float]:
        p = (1 - c) * p + (math.sqrt(c * (2 - c) * mu_eff) * dx if hsig else 0.0)
        return p, (1 - c) ** 2 * g + (c * (2 - c) if hsig else 0.0)

    def _correlations(self, rates, Y, w, shrink, dx, hsig) -> None:
        """K += ±[c_μ Σ w_i (ỹ ỹᵀ − C) + c_1 (q qᵀ − γ_c C)] in chart η, and the same
        increment pulled to the precision, −C⁻¹(·)C⁻¹, in chart θ (q = p_c/D)."""
        bk = self.bk
        self.p_c, self.g_c = self._path(self.p_c, self.g_c, rates.c_c, dx, rates.mu_eff, hsig)
        wz = bk.xp.where(w < 0, w * shrink, w)
        q = self.p_c / self.D
        decay = rates.c_mu * float(bk.sum(w)) + rates.c_1 * self.g_c
        if self.chart == "theta":
            Y, q = Y @ self.K, self.K @ q
        sign = 1.0 if self.chart == "eta" else -1.0
        K = (1.0 - sign * decay) * self.K  # a new array: K_last keeps the decomposed K
        K += (Y.T * ((sign * rates.c_mu) * wz)) @ Y
        K += bk.outer((sign * rates.c_1) * q, q)
        self.K = K

    def _diagonal(self, rates, W, wd, shrink, dx, hsig) -> None:
        """D ← D exp(β/2 [c_dμ Σ wd_i (w̃_i² − 1) + c_d1 ((C^{−1/2}p_d/D)² − γ_d)])."""
        bk = self.bk
        xp = bk.xp
        self.p_d, self.g_d = self._path(self.p_d, self.g_d, rates.c_dc, dx, rates.mu_eff, hsig)
        wz = xp.where(wd < 0, wd * shrink, wd)
        q = self.inv_sqrt(self.p_d / self.D)
        delta = rates.c_dmu * (wz @ (W * W) - float(bk.sum(wd))) \
            + rates.c_d1 * (q * q - self.g_d)
        self.D = self.D * xp.exp(0.5 * self.beta * delta)

    # -------------------------------------------------------- decomposition
    def decompose(self) -> None:
        """Move diag C into D and eigendecompose C (the only O(n³) work).

        Should the updates since the last decomposition have left C indefinite (not seen
        with the bounded active weights, kept as a safeguard), they are dropped: C returns
        to its value at the last decomposition, under the current D.
        """
        bk = self.bk
        xp = bk.xp
        d = self._diagonal_of_C()
        if d is None:
            self.K, d = self.K_last, xp.ones(self.D.shape[0], dtype=bk.float)
        scale = bk.outer(d, d)
        self.K = self.K / scale if self.chart == "eta" else self.K * scale
        self.D = self.D * d
        values, B = _eigh(self.K, bk)
        if not float(values[0]) > 1e-14 * float(values[-1]) and self.K_last is not None:
            self.K = self.K_last
            values, B = _eigh(self.K, bk)
        self.K_last = self.K
        if self.chart == "theta":
            values, B = 1.0 / xp.flip(values), xp.flip(B, axis=1)
        self.B = B
        self.axes = xp.sqrt(xp.maximum(values, 1e-300))
        with single_thread_blas(bk.is_numpy and B.shape[0] >= BLAS_PIN_N):
            self.sqrt_C = (B * self.axes) @ B.T
        self.beta = 1.0 / max(1.0, float(self.axes[-1] / self.axes[0]) - 1.0)

    def _diagonal_of_C(self) -> np.ndarray | None:
        """√diag C, or None when C is no longer positive definite."""
        bk = self.bk
        try:
            c = bk.diagonal(self.K) if self.chart == "eta" else _diag_inverse(self.K, bk)
        except (linalg.LinAlgError, ValueError):
            return None
        if not bool(bk.xp.all(bk.xp.isfinite(c) & (c > 0))):
            return None
        return bk.xp.sqrt(c)


def _diag_inverse(P: np.ndarray, bk: Backend = CPU) -> np.ndarray:
    """diag(P⁻¹) = squared column norms of L⁻¹ for P = LLᵀ (O(n³/3) twice)."""
    with single_thread_blas(bk.is_numpy and P.shape[0] >= BLAS_PIN_N):
        L = bk.cholesky(P)
        Linv = bk.solve_triangular(L, bk.xp.eye(P.shape[0], dtype=bk.float), lower=True)
    return bk.coldot(Linv, Linv)


def _eigh(K: np.ndarray, bk: Backend = CPU) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (ascending) and eigenvectors of the symmetric K."""
    with single_thread_blas(bk.is_numpy and K.shape[0] >= BLAS_PIN_N):
        return bk.eigh(0.5 * (K + K.T))  # numpy's: less call overhead than scipy's
