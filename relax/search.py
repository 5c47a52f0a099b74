"""How the optimizer samples from a model and steps it: one search per kind of model.

- :class:`AdaptiveSearch` — Gaussians, the default: natural-gradient steps in the local
  frame with per-block learning rates, step-size control, evolution paths, active weights
  and diagonal decoding (:mod:`relax.adapt`).
- :class:`FrameSearch` — Gaussians with an explicit (gradient, param, step rule): the four
  directions of the duality table as local-frame increments (:mod:`relax.frame`).
- :class:`FlatSearch` — every other model (Bernoulli, Ising): g_θ = Cov(f, T) from the flat
  statistics, g_η by the exact or empirical Fisher, a step in chart θ or η.

Each search holds its own state (picklable), samples with ``ask(popsize, rng)``, updates with
``tell(X, values, valid, t)`` (returning the step's ρ and KL for the history) and reports
what the stopping rules read (``spread``, ``condition``, ``noeffect``).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from relax.adapt import Frame, Rates
from relax.direction import needs_g_eta, select
from relax.estimate import EmpiricalFisher, cov_f_T
from relax.frame import local_frame
from relax.models import DiagonalGaussian, Gaussian
from relax.models.base import ExponentialFamily
from relax.shaping import shape, tied_rank_weights
from relax.step import (
    Metric,
    StepRule,
    TrustAdaptation,
    TrustRegion,
    line_search,
    take_step,
)

#: Largest dimension for which the history keeps the mean and the principal axes per
#: iteration (O(n) each).
TRACE_MAX_N = 200


def shaped_weights(values: np.ndarray, valid: np.ndarray, shaping: str) -> np.ndarray:
    """Shaped weights ω of the valid rows (invalid rows are ranked last, weight dropped)."""
    if shaping == "ranks":
        return shape(values, "ranks")[valid]
    return shape(values[valid], shaping)


class AdaptiveSearch:
    """The default Gaussian search (see :mod:`relax.adapt`); ``param`` is the chart in which
    the correlation increments are applied, ``mirrored`` draws the second half of each
    population as the negated first half."""

    def __init__(self, model: Gaussian | DiagonalGaussian, popsize: int, param: str,
                 mirrored: bool = True):
        self.mirrored = mirrored
        full = isinstance(model, Gaussian)
        self.rates = Rates.default(model.n, popsize, full=full)
        self.param = param
        self.frame = Frame.from_moments(np.array(model.mean()),
                                        np.array(model.cov) if full else None,
                                        np.array(model.var if not full else np.diag(model.cov)),
                                        chart=param)
        self._model = model
        self._asked = None
        self._principal = self._principal_axes()

    @property
    def model(self) -> ExponentialFamily:
        if self._model is None:
            f = self.frame
            if f.full:
                self._model = Gaussian.from_covariance(f.mean, f.covariance())
            else:
                self._model = DiagonalGaussian(f.mean, f.variances())
        return self._model

    def ask(self, popsize: int, rng: np.random.Generator) -> np.ndarray:
        Z = rng.standard_normal((popsize, self.rates.n))
        if self.mirrored:
            half = popsize // 2
            Z[half : 2 * half] = -Z[:half]
        X, Y, W = self.frame.sample(Z)
        self._asked = (X.copy(), Y, W)
        return X

    def _frame_rows(self, X, valid) -> tuple[np.ndarray, np.ndarray]:
        """(Y, Z) of the valid rows: those drawn by :meth:`ask` when X is unchanged (no
        rounding from re-whitening), else whitened from X."""
        asked = self._asked
        self._asked = None
        if asked is not None and asked[0].shape == X.shape and np.array_equal(asked[0], X):
            return asked[1][valid], asked[2][valid]
        return self.frame.whiten(X[valid])

    def tell(self, X, values, valid, t) -> tuple[float, float]:
        f, rates = self.frame, self.rates
        Y, Z = self._frame_rows(X, valid)
        v = values[valid]
        w = tied_rank_weights(v, rates.weights)
        wd = tied_rank_weights(v, rates.weights_d)
        s = np.sort(v)
        if s.size > 1 and s[0] == s[min(s.size - 1, int(math.ceil(0.1 + rates.popsize / 4)))]:
            f.sigma *= math.exp(0.2 + rates.c_sigma / rates.d_sigma)  # flat: look further
        decompositions = f.t // rates.eigen_every
        f.update(rates, Y, Z, w, wd)
        if f.full and f.t // rates.eigen_every != decompositions:
            self._principal = self._principal_axes()
        self._model = None
        return np.nan, np.nan

    def _principal_axes(self) -> np.ndarray | None:
        """√eigenvalues of D C D (sorted), kept for the history when n is small."""
        f = self.frame
        if f.D.size > TRACE_MAX_N:
            return None
        if not f.full:
            return np.sort(f.D)
        # D C D = (D B diag(axes))(D B diag(axes))ᵀ at the decomposition just made
        return np.sort(np.linalg.svd(f.D[:, None] * f.B * f.axes, compute_uv=False))

    def spread(self, X) -> float:
        return float(np.sqrt(np.max(self.frame.variances())))

    def condition(self) -> float:
        f = self.frame
        return float(max((f.axes[-1] / f.axes[0]) ** 2, (f.D.max() / f.D.min()) ** 2))

    def noeffect(self) -> bool:
        m = self.frame.mean
        return bool(np.all(m + 0.2 * np.sqrt(self.frame.variances()) == m))

    def trace(self) -> dict:
        f = self.frame
        out = {"sigma": f.sigma}
        if self._principal is not None:
            out["axes"] = np.sort(f.sigma * (self._principal if f.full else f.D))
            out["mean"] = f.mean
        return out


class FrameSearch:
    """Gaussian steps for any (gradient, param) and step rule, in the local frame."""

    def __init__(self, model, gradient: str, param: str, rule: StepRule, shaping: str):
        self.frame = local_frame(model)
        self.gradient, self.param, self.rule, self.shaping = gradient, param, rule, shaping
        self._model = model

    @property
    def model(self) -> ExponentialFamily:
        if self._model is None:
            self._model = self.frame.model()
        return self._model

    def ask(self, popsize: int, rng: np.random.Generator) -> np.ndarray:
        return self.frame.sample(rng.standard_normal((popsize, self.frame.mean.size)))

    def tell(self, X, values, valid, t) -> tuple[float, float]:
        fr = self.frame
        w = shaped_weights(values, valid, self.shaping)
        d = fr.direction(self.gradient, self.param, *fr.gradients(fr.whiten(X[valid]), w))

        def candidate(rho):
            inc = fr.increment(d, self.param, rho)
            kl = None if inc is None else fr.kl(*inc)
            return None if kl is None else (inc, kl)

        if not (np.any(d.delta) or np.any(d.M)):
            return 0.0, 0.0
        inc, rho, kl, _ = line_search(self.rule, t, d.quadratic(), candidate)
        if inc is None:
            return 0.0, 0.0
        self.frame = fr.moved(*inc)
        self._model = None
        return rho, kl

    def spread(self, X) -> float:
        return self.frame.spread()

    def condition(self) -> float:
        return 1.0

    def noeffect(self) -> bool:
        m = self.frame.mean
        return bool(np.all(m + 0.2 * self.frame.spread() == m))

    def trace(self) -> dict:
        return {}


def interaction_blocks(model) -> list[np.ndarray]:
    """Index blocks of θ: the fields, then the interactions of each order."""
    sizes = np.array([len(S) for S in model.interactions])
    blocks = [np.arange(model.n)]
    for r in np.unique(sizes):
        blocks.append(model.n + np.flatnonzero(sizes == r))
    return blocks


def _halves(N: int) -> list[np.ndarray]:
    """Masks of the even and odd rows (two independent halves of the sample)."""
    even = np.arange(N) % 2 == 0
    return [even, ~even]


def block_shrunk(g: np.ndarray, halves: list[np.ndarray], blocks, fisher_apply):
    """g with each block b scaled by its split-half James–Stein factor

        c_b = clip(⟨g¹_b, g²_b⟩_I / ⟨ḡ_b, ḡ_b⟩_I, 0, 1),   ḡ = (g¹ + g²)/2,

    where g¹, g² are the natural gradients of the two halves of the sample: their noise is
    independent, so ⟨g¹_b, g²_b⟩ estimates the squared signal of the block and ‖ḡ_b‖² the
    signal plus half the noise.  A block of pure noise (the fields of a problem without
    field terms, say) is frozen instead of drifting at the pace the trust region gives
    the informative blocks.
    """
    g1, g2 = halves
    out = g.copy()
    for b in blocks:
        e1, e2 = np.zeros_like(g), np.zeros_like(g)
        e1[b], e2[b] = g1[b], g2[b]
        mean = 0.5 * (e1 + e2)
        total = float(mean @ fisher_apply(mean))
        c = float(e1 @ fisher_apply(e2)) / total if total > 0 else 0.0
        out[b] *= min(max(c, 0.0), 1.0)
    return out


class FlatSearch:
    """g_θ = Σ ω_i (T(x_i) − η) from the flat statistics, g_η = I_θ⁻¹ g_θ when the
    direction needs it, and a step in chart θ or η (:func:`relax.step.take_step`)."""

    def __init__(self, model, gradient, param, rule, shaping, fisher, ridge, theta_max,
                 shrinkage="auto"):
        self.model = model
        self.gradient, self.param, self.rule, self.shaping = gradient, param, rule, shaping
        self.fisher, self.ridge, self.theta_max = fisher, ridge, theta_max
        self.shrinkage = shrinkage
        adaptive = isinstance(rule, TrustRegion) and rule.adapt
        self.trust = TrustAdaptation.start(rule.epsilon, model.k) if adaptive else None
        self.chains = None
        self.blocks = (interaction_blocks(model) if model.k > model.n and gradient == "natural"
                       and adaptive else None)

    def ask(self, popsize: int, rng: np.random.Generator) -> np.ndarray:
        if hasattr(self.model, "sample_chains"):
            X, self.chains = self.model.sample_chains(popsize, rng, self.chains)
            return X
        return self.model.sample(popsize, rng)

    def tell(self, X, values, valid, t) -> tuple[float, float]:
        model = self.model
        T = model.stats(X[valid])
        base = model.eta if model.exact else T.mean(axis=0)
        w = shaped_weights(values, valid, self.shaping)
        g_theta = cov_f_T(w, T, base)
        metric = self._metric(T)  # one factorization of the Fisher system per iteration
        rule = self.rule if self.trust is None else replace(self.rule,
                                                            epsilon=self.trust.epsilon)
        if self.blocks is not None:  # natural θ-step along block-shrunk g_η
            g_eta = metric.solve(g_theta)
            halves = [metric.solve(cov_f_T(2.0 * w * m, T, base)) for m in _halves(w.size)]
            d = block_shrunk(g_eta, halves, self.blocks, metric.apply)
            step = take_step(model, "theta", d, rule, t, metric, theta_max=self.theta_max)
        else:
            g_eta = metric.solve(g_theta) if needs_g_eta(self.gradient, self.param) else None
            d = select(self.gradient, self.param, g_theta, g_eta)
            step = take_step(model, self.param, d, rule, t, metric, theta_max=self.theta_max)
        if self.trust is not None and step.rho > 0:
            self.trust.update(step.model.theta - model.theta, metric.apply,
                              self.rule.epsilon)
        self.model = step.model
        return step.rho, step.kl

    def _metric(self, T) -> Metric:
        model = self.model
        if self.fisher == "exact":
            return Metric(model.fisher_vector, model.natural_from_vanilla)
        fisher = EmpiricalFisher(T, ridge=self.ridge, shrinkage=self.shrinkage)
        return Metric(fisher.apply, fisher.solve)

    def spread(self, X) -> float:
        if self.model.exact:
            return float(self.model.spread())
        p = np.clip((1.0 + X.mean(axis=0)) / 2.0, 1e-300, 1.0)
        q = np.clip(1.0 - p, 1e-300, 1.0)
        return float(-np.sum(p * np.log(p) + q * np.log(q)))

    def condition(self) -> float:
        return 1.0

    def noeffect(self) -> bool:
        return False

    def trace(self) -> dict:
        return {}
