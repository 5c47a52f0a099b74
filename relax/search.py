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

import copy
import math
from dataclasses import replace

import numpy as np

from relax import backend
from relax.adapt import Frame, Rates
from relax.backend import CPU, Backend, to_numpy
from relax.direction import needs_g_eta, select
from relax.enumeration import MAX_ENUMERATION_N
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
    population as the negated first half.  The frame, the sample and the rank weights live
    on the backend ``bk`` (:mod:`relax.backend`); the model is built on the host."""

    def __init__(self, model: Gaussian | DiagonalGaussian, popsize: int, param: str,
                 mirrored: bool = True, bk: Backend = CPU):
        self.mirrored = mirrored
        full = isinstance(model, Gaussian)
        self.rates = Rates.default(model.n, popsize, full=full)
        self.param = param
        self.frame = Frame.from_moments(np.array(model.mean()),
                                        np.array(model.cov) if full else None,
                                        np.array(model.var if not full else np.diag(model.cov)),
                                        chart=param, bk=bk)
        self._model = model
        self._asked = None
        self._principal = self._principal_axes()

    @property
    def model(self) -> ExponentialFamily:
        if self._model is None:
            f = self.frame
            mean = to_numpy(f.mean)
            if f.full:
                self._model = Gaussian.from_covariance(mean, to_numpy(f.covariance()))
            else:
                self._model = DiagonalGaussian(mean, to_numpy(f.variances()))
        return self._model

    def to(self, bk: Backend) -> AdaptiveSearch:
        """This search with its arrays on ``bk`` (a new search)."""
        twin = copy.copy(self)
        twin.frame = self.frame.to(bk)
        if self._asked is not None:
            twin._asked = tuple(bk.asarray(a) for a in self._asked)
        twin._weights = None
        return twin

    def _rank_weights(self) -> tuple:
        """The weights of ranks 1..λ (mean and correlations; diagonal) on the frame's
        backend."""
        cached = getattr(self, "_weights", None)
        if cached is None:
            bk = self.frame.bk
            cached = (bk.asarray(self.rates.weights), bk.asarray(self.rates.weights_d))
            self._weights = cached
        return cached

    def ask(self, popsize: int, rng: np.random.Generator) -> np.ndarray:
        """λ points x_i = m + σD ⊙ C^{1/2} z_i; mirrored, rows λ/2..λ−1 take −z of rows
        0..λ/2−1, so only ⌈λ/2⌉ vectors are drawn.  The caller must not change X in place
        (:meth:`Optimizer.ask` hands out copies): :meth:`tell` recognises it unchanged."""
        bk = self.frame.bk
        n = self.rates.n
        if self.mirrored and popsize > 1:
            half = popsize // 2
            Z0 = bk.normal(rng, (popsize - half, n))
            Z = bk.concat((Z0[:half, ...], -Z0[:half, ...], Z0[half:, ...]))
        else:
            Z = bk.normal(rng, (popsize, n))
        X, Y, W = self.frame.sample(Z)
        self._asked = (X, Y, W)
        return X

    def _frame_rows(self, X, valid) -> tuple[np.ndarray, np.ndarray]:
        """(Y, Z) of the valid rows: those drawn by :meth:`ask` when X is unchanged (no
        rounding from re-whitening), else whitened from X."""
        asked = self._asked
        self._asked = None
        bk = self.frame.bk
        if asked is not None and asked[0].shape == X.shape and bk.array_equal(asked[0], X):
            return bk.rows(asked[1], valid), bk.rows(asked[2], valid)
        return self.frame.whiten(bk.rows(X, valid))

    def tell(self, X, values, valid, t) -> tuple[float, float]:
        f, rates = self.frame, self.rates
        Y, Z = self._frame_rows(X, valid)
        v = values[valid]
        weights, weights_d = self._rank_weights()
        vd = v if f.bk.is_numpy else f.bk.asarray(v)
        w = tied_rank_weights(vd, weights)
        wd = tied_rank_weights(vd, weights_d)
        if v.size > 1:
            k = min(v.size - 1, int(math.ceil(0.1 + rates.popsize / 4)))
            # the order statistics 0 and k (a partition for large λ: same values, O(λ))
            s = np.sort(v) if v.size <= 4096 else np.partition(v, (0, k))
            if s[0] == s[k]:
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
        if f.D.shape[0] > TRACE_MAX_N:
            return None
        D = to_numpy(f.D)
        if not f.full:
            return np.sort(D)
        # eigenvalues of D C D at the decomposition just made (K = C in chart η, C⁻¹ in θ);
        # eigenvalues only, about half the cost of the singular values of D B diag(axes)
        DD = np.outer(D, D)
        K = to_numpy(f.K)
        if f.chart == "eta":
            values = np.linalg.eigvalsh(K * DD)
        else:
            values = 1.0 / np.linalg.eigvalsh(K / DD)
        return np.sort(np.sqrt(np.maximum(values, 0.0)))

    def spread(self, X) -> float:
        xp = self.frame.bk.xp
        return float(xp.sqrt(xp.max(self.frame.variances())))

    def condition(self) -> float:
        f = self.frame
        xp = f.bk.xp
        return float(max((f.axes[-1] / f.axes[0]) ** 2, (xp.max(f.D) / xp.min(f.D)) ** 2))

    def noeffect(self) -> bool:
        m = self.frame.mean
        xp = self.frame.bk.xp
        return bool(xp.all(m + 0.2 * xp.sqrt(self.frame.variances()) == m))

    def trace(self) -> dict:
        f = self.frame
        out = {"sigma": f.sigma}
        if self._principal is not None:
            out["axes"] = np.sort(f.sigma * (self._principal if f.full else to_numpy(f.D)))
            out["mean"] = to_numpy(f.mean)
        return out


class FrameSearch:
    """Gaussian steps for any (gradient, param) and step rule, in the local frame (its
    arrays on the backend ``bk``)."""

    def __init__(self, model, gradient: str, param: str, rule: StepRule, shaping: str,
                 bk: Backend = CPU):
        self.frame = local_frame(model, bk)
        self.gradient, self.param, self.rule, self.shaping = gradient, param, rule, shaping
        self._model = model

    @property
    def model(self) -> ExponentialFamily:
        if self._model is None:
            self._model = self.frame.model()
        return self._model

    def to(self, bk: Backend) -> FrameSearch:
        twin = copy.copy(self)
        twin.frame = self.frame.to(bk)
        return twin

    def ask(self, popsize: int, rng: np.random.Generator) -> np.ndarray:
        fr = self.frame
        return fr.sample(fr.bk.normal(rng, (popsize, fr.mean.shape[0])))

    def tell(self, X, values, valid, t) -> tuple[float, float]:
        fr = self.frame
        bk = fr.bk
        w = bk.asarray(shaped_weights(values, valid, self.shaping))
        d = fr.direction(self.gradient, self.param, *fr.gradients(fr.whiten(bk.rows(X, valid)),
                                                                 w))

        def candidate(rho):
            inc = fr.increment(d, self.param, rho)
            kl = None if inc is None else fr.kl(*inc)
            return None if kl is None else (inc, kl)

        if not (bk.any_nonzero(d.delta) or bk.any_nonzero(d.M)):
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
        return bool(self.frame.bk.xp.all(m + 0.2 * self.frame.spread() == m))

    def trace(self) -> dict:
        return {}


def interaction_blocks(model) -> list[np.ndarray]:
    """Index blocks of θ: the fields, then the interactions of each order."""
    sizes = np.array([len(S) for S in model.interactions])
    blocks = [np.arange(model.n)]
    for r in np.unique(sizes):
        blocks.append(model.n + np.flatnonzero(sizes == r))
    return blocks


def _halves(N: int, bk: Backend = CPU) -> list[np.ndarray]:
    """Masks of the even and odd rows (two independent halves of the sample); as 0/1
    floats on a backend other than numpy."""
    even = np.arange(N) % 2 == 0
    if bk.is_numpy:
        return [even, ~even]
    return [bk.asarray(even), bk.asarray(~even)]


def block_shrunk(g: np.ndarray, halves: list[np.ndarray], blocks, fisher_apply):
    """g with each block b scaled by its split-half James–Stein factor

        c_b = clip(⟨g¹_b, g²_b⟩_I / ⟨ḡ_b, ḡ_b⟩_I, 0, 1),   ḡ = (g¹ + g²)/2,

    where g¹, g² are the natural gradients of the two halves of the sample: their noise is
    independent, so ⟨g¹_b, g²_b⟩ estimates the squared signal of the block and ‖ḡ_b‖² the
    signal plus half the noise.  A block of pure noise (the fields of a problem without
    field terms, say) is frozen instead of drifting at the pace the trust region gives
    the informative blocks.  ``blocks`` are index arrays (numpy) or boolean masks of the
    namespace of g (masks select exactly the same entries, with the same arithmetic).
    """
    g1, g2 = halves
    if isinstance(g, np.ndarray):
        out = g.copy()
        for b in blocks:
            e1, e2 = np.zeros_like(g), np.zeros_like(g)
            e1[b], e2[b] = g1[b], g2[b]
            out[b] *= _shrink_factor(e1, e2, fisher_apply)
        return out
    xp = backend.namespace_of(g)
    out = g
    for mask in blocks:
        e1, e2 = xp.where(mask, g1, 0.0), xp.where(mask, g2, 0.0)
        out = xp.where(mask, out * _shrink_factor(e1, e2, fisher_apply), out)
    return out


def _shrink_factor(e1, e2, fisher_apply) -> float:
    mean = 0.5 * (e1 + e2)
    total = float(mean @ fisher_apply(mean))
    c = float(e1 @ fisher_apply(e2)) / total if total > 0 else 0.0
    return min(max(c, 0.0), 1.0)


class FlatSearch:
    """g_θ = Σ ω_i (T(x_i) − η) from the flat statistics, g_η = I_θ⁻¹ g_θ when the
    direction needs it, and a step in chart θ or η (:func:`relax.step.take_step`).

    On a backend other than numpy (``bk``) the model's θ, the sample, the statistics, the
    estimates, the Fisher solves and the step live there; the weights are shaped on the
    host (a vector of λ values).  Ising models there need Gibbs sampling (n > 20): their
    exact moments come from an enumeration on the CPU."""

    def __init__(self, model, gradient, param, rule, shaping, fisher, ridge, theta_max,
                 shrinkage="auto", bk: Backend = CPU):
        if not bk.is_numpy and model.k > model.n and model.exact:
            raise ValueError(
                f"device={bk.name!r} runs Ising models by Gibbs sampling, n > "
                f"{MAX_ENUMERATION_N}; {model!r} is enumerated exactly on the CPU: use "
                "device='cpu'")
        self.model = model.on(bk)
        self.gradient, self.param, self.rule, self.shaping = gradient, param, rule, shaping
        self.fisher, self.ridge, self.theta_max = fisher, ridge, theta_max
        self.shrinkage = shrinkage
        adaptive = isinstance(rule, TrustRegion) and rule.adapt
        self.trust = TrustAdaptation.start(rule.epsilon, model.k, bk) if adaptive else None
        self.chains = None
        self.blocks = (interaction_blocks(model) if model.k > model.n and gradient == "natural"
                       and adaptive else None)
        self.device = bk.name

    @property
    def bk(self) -> Backend:
        return backend.get(getattr(self, "device", "cpu"))

    def to(self, bk: Backend) -> FlatSearch:
        """This search with its arrays (θ, chains, the trust region's path) on ``bk``."""
        twin = copy.copy(self)
        twin.model, twin.device = self.model.on(bk), bk.name
        if self.chains is not None:
            from relax import gibbs

            twin.chains = gibbs.on(self.chains, bk)
        if self.trust is not None:
            twin.trust = replace(self.trust, path=bk.asarray(self.trust.path))
        return twin

    def ask(self, popsize: int, rng: np.random.Generator) -> np.ndarray:
        if hasattr(self.model, "sample_chains"):
            X, self.chains = self.model.sample_chains(popsize, rng, self.chains)
            return X
        return self.model.sample(popsize, rng)

    def tell(self, X, values, valid, t) -> tuple[float, float]:
        model, bk = self.model, self.bk
        T = model.stats(bk.rows(X, valid))
        base = model.eta if model.exact else bk.xp.mean(T, axis=0)
        w = shaped_weights(values, valid, self.shaping)
        w = w if bk.is_numpy else bk.asarray(w)
        g_theta = cov_f_T(w, T, base)
        metric = self._metric(T)  # one factorization of the Fisher system per iteration
        rule = self.rule if self.trust is None else replace(self.rule,
                                                            epsilon=self.trust.epsilon)
        if self.blocks is not None:  # natural θ-step along block-shrunk g_η
            halves = [metric.solve(cov_f_T(2.0 * w * m, T, base))
                      for m in _halves(w.shape[0], bk)]
            g_eta = 0.5 * (halves[0] + halves[1])  # = Î⁻¹ g_θ: g_θ is linear in w
            d = block_shrunk(g_eta, halves, self._blocks(), metric.apply)
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

    def _blocks(self):
        """The blocks of θ: index arrays on numpy, boolean masks elsewhere."""
        bk = self.bk
        if bk.is_numpy:
            return self.blocks
        k = self.model.k
        masks = []
        for b in self.blocks:
            m = np.zeros(k, dtype=bool)
            m[b] = True
            masks.append(bk.asarray(m, dtype=bk.bool))
        return masks

    def _metric(self, T) -> Metric:
        model = self.model
        if self.fisher == "exact":
            return Metric(model.fisher_vector, model.natural_from_vanilla)
        fisher = EmpiricalFisher(T, ridge=self.ridge, shrinkage=self.shrinkage)
        return Metric(fisher.apply, fisher.solve)

    def spread(self, X) -> float:
        if self.model.exact:
            return float(self.model.spread())
        xp = self.bk.xp
        p = xp.clip((1.0 + xp.mean(X, axis=0)) / 2.0, 1e-300, 1.0)
        q = xp.clip(1.0 - p, 1e-300, 1.0)
        return float(-xp.sum(p * xp.log(p) + q * xp.log(q)))

    def condition(self) -> float:
        return 1.0

    def noeffect(self) -> bool:
        return False

    def trace(self) -> dict:
        return {}
