"""Step-size rules and the step itself: ξ ← ξ − ρ d in chart θ or η, landing on a valid model.

Rules:

- :class:`Fixed` — ρ_t = ρ.
- :class:`Decay` — ρ_t = ρ₀ / (1 + t/τ)^a.
- :class:`TrustRegion` — ρ_t such that KL(p_t ‖ p_{t+1}) ≈ ε.  The first guess comes from
  the quadratic approximation KL ≈ ½ρ² dᵀ I d (I = I_θ in chart θ, I_η = I_θ⁻¹ in chart
  η), then ρ ← ρ √(ε / KL) is iterated on the exact KL until it is within 10 % of ε.

Whatever the rule, a step that leaves the family (Σ not positive definite, |η_i| ≥ 1, …)
is halved until it lands on a valid model (backtracking).  Binary models additionally keep
|θ_i| ≤ ``theta_max`` (by clipping, in either chart), so that no probability is rounded to
exactly 0 or 1.

A step in chart η is taken exactly where the η chart is cheap and convex (independence
models, k = n: the η-step is PBIL and stays inside the cube).  For models with
interactions (Ising) it is taken to first order, θ ← θ + I_θ⁻¹ Δη = θ − ρ I_θ⁻¹ d, with the
exact Fisher (n ≤ 20) or the empirical one: one solve per iteration instead of a
moment-matching Newton iteration per trial step, and η stays strictly inside the marginal
polytope because θ stays finite.  The Fisher system is solved once per step and the
result reused by the trust region.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from relax import backend
from relax.backend import CPU, Backend
from relax.models.base import ExponentialFamily

MAX_BACKTRACKS = 60


@dataclass(frozen=True)
class Fixed:
    """Constant step size ρ."""

    rho: float = 0.1

    def __post_init__(self):
        _positive("rho", self.rho)

    def propose(self, t: int) -> float:
        return self.rho


@dataclass(frozen=True)
class Decay:
    """ρ_t = ρ₀ / (1 + t/τ)^a."""

    rho0: float = 0.5
    tau: float = 100.0
    power: float = 1.0

    def __post_init__(self):
        _positive("rho0", self.rho0)
        _positive("tau", self.tau)
        if self.power < 0:
            raise ValueError(f"power must be >= 0; got {self.power}")

    def propose(self, t: int) -> float:
        return self.rho0 / (1.0 + t / self.tau) ** self.power


@dataclass(frozen=True)
class TrustRegion:
    """ρ_t with KL(p_t ‖ p_{t+1}) ≈ ε, capped at ``rho_max``.

    ``adapt=True`` makes ε itself adapt to the signal-to-noise ratio of the steps
    (:class:`TrustAdaptation`): it grows while successive steps agree and shrinks while
    they cancel, as when the estimated gradient is mostly sampling noise.
    """

    epsilon: float = 0.1
    rho_max: float = np.inf
    adapt: bool = False

    def __post_init__(self):
        _positive("epsilon", self.epsilon)
        _positive("rho_max", self.rho_max)

    def propose(self, t: int) -> float:
        return self.rho_max


@dataclass
class TrustAdaptation:
    """ε of an adaptive trust region, after ASNG (Akimoto, Shirakawa, Yoshinari, Uchida,
    Saito, Nishida, ICML 2019), in the Fisher metric of the model:

        s ← (1 − β) s + √(β(2 − β)) u,    γ ← (1 − β)² γ + β(2 − β),
        ε ← ε · exp(2β (‖s‖²_I / α − γ)),

    where u = Δθ/‖Δθ‖_I is the unit step just taken.  Steps in random directions keep
    E‖s‖² = γ and shrink ε; steps that agree make ‖s‖² ≈ γ/β and grow it; α = 1.5
    sets the balance.  β = min(0.1, 1/√k); ε stays within [10⁻⁴, 10] × its initial value.
    """

    epsilon: float
    beta: float
    path: np.ndarray
    gamma: float = 0.0
    alpha: float = 1.5

    @classmethod
    def start(cls, epsilon: float, k: int, bk: Backend = CPU) -> TrustAdaptation:
        return cls(epsilon, float(min(0.1, 1.0 / np.sqrt(k))), bk.xp.zeros(k, dtype=bk.float),
                   0.0)

    def update(self, step: np.ndarray, fisher_apply, epsilon0: float) -> None:
        """Account for the step Δθ just taken (``fisher_apply(v) = I_θ v``)."""
        norm2 = float(step @ fisher_apply(step))
        if not norm2 > 0:
            return
        b = self.beta
        self.path = (1 - b) * self.path + float(np.sqrt(b * (2 - b))) * step \
            / float(np.sqrt(norm2))
        self.gamma = (1 - b) ** 2 * self.gamma + b * (2 - b)
        r = float(self.path @ fisher_apply(self.path))
        change = np.exp(2 * b * (r / self.alpha - self.gamma))
        self.epsilon = float(np.clip(self.epsilon * change, 1e-4 * epsilon0, 10 * epsilon0))


StepRule = Fixed | Decay | TrustRegion


def _positive(name: str, value: float) -> None:
    if not (value > 0):
        raise ValueError(f"{name} must be > 0; got {value}")


def as_rule(step) -> StepRule:
    """A step rule from a rule object, a float (fixed ρ) or a name."""
    if isinstance(step, Fixed | Decay | TrustRegion):
        return step
    if isinstance(step, int | float) and not isinstance(step, bool):
        return Fixed(float(step))
    names = {"fixed": Fixed, "decay": Decay, "trust-region": TrustRegion, "kl": TrustRegion}
    if isinstance(step, str) and step in names:
        return names[step]()
    raise ValueError(
        "step must be a positive float (fixed rho), 'fixed', 'decay', 'trust-region', "
        f"or a relax.step.Fixed/Decay/TrustRegion; got {step!r}"
    )


@dataclass(frozen=True)
class Metric:
    """The Fisher information at the current model, as two actions.

    ``apply(v) = I_θ v`` and ``solve(g) = I_θ⁻¹ g`` — the model's own structured forms or
    the sample's Cov̂(T, T) (+ ridge).
    """

    apply: Callable[[np.ndarray], np.ndarray]
    solve: Callable[[np.ndarray], np.ndarray]

    def quadratic(self, chart: str, d: np.ndarray) -> float:
        """dᵀ I d with I = I_θ in chart θ and I_η = I_θ⁻¹ in chart η."""
        return float(d @ (self.apply(d) if chart == "theta" else self.solve(d)))


@dataclass(frozen=True)
class Step:
    """The outcome of one step."""

    model: ExponentialFamily
    rho: float
    kl: float
    backtracks: int


def _exact_eta(model: ExponentialFamily, chart: str) -> bool:
    """Whether a step in ``chart`` moves η itself (else θ, possibly to first order)."""
    return chart == "eta" and model.exact and not (model.domain == "binary"
                                                   and model.k > model.n)


def _candidate(model, exact_eta, direction, rho, theta_max):
    """The model at θ + ρ·direction (or η + ρ·direction when ``exact_eta``), or None
    when it is outside the family."""
    bk = backend.of(direction)
    if exact_eta:
        value = model.eta + rho * direction
        if model.domain == "binary":
            bound = float(np.tanh(theta_max))
            value = bk.xp.clip(value, -bound, bound)
    else:
        value = model.theta + rho * direction
        if model.domain == "binary":
            value = bk.xp.clip(value, -theta_max, theta_max)
    if not bk.all_finite(value):
        return None
    try:
        return model.from_param("eta" if exact_eta else "theta", value)
    except ValueError:
        return None


def take_step(
    model: ExponentialFamily,
    chart: str,
    d: np.ndarray,
    rule: StepRule,
    t: int,
    metric: Metric,
    *,
    theta_max: float = 15.0,
) -> Step:
    """Move ``model`` by −ρd in ``chart`` with ρ from ``rule`` (see module docstring).

    Returns the old model with ρ = 0 when d is zero or no valid step was found.
    """
    if not backend.of(d).any_nonzero(d):
        return Step(model, 0.0, 0.0, 0)
    exact_eta = _exact_eta(model, chart)
    if chart == "theta":
        direction, q = -d, float(d @ metric.apply(d))
    else:
        solved = metric.solve(d)  # I_θ⁻¹ d: the θ-direction of an η-step, solved once
        direction, q = (-d if exact_eta else -solved), float(d @ solved)

    def candidate(rho):
        new = _candidate(model, exact_eta, direction, rho, theta_max)
        if new is None:
            return None
        return new, (model.kl(new) if model.exact else 0.5 * rho * rho * q)

    found = line_search(rule, t, q, candidate, refine=model.exact)
    return Step(model, 0.0, 0.0, found[3]) if found[0] is None else Step(*found)


def line_search(rule: StepRule, t: int, q: float, candidate, *, refine: bool = True):
    """ρ for ``rule`` given the second-order KL coefficient q (KL ≈ ½ρ²q) and
    ``candidate(ρ) -> (new, kl)`` or None when ρ leaves the family.

    Invalid steps are halved; a trust region then iterates ρ ← ρ√(ε/KL) on the exact KL
    until it is within 10 % of ε (``refine=False`` accepts the first valid step).  Returns
    ``(new, rho, kl, backtracks)``, with ``new = None`` when no valid step was found.
    """
    rho = rule.propose(t)
    if isinstance(rule, TrustRegion) and q > 0 and np.isfinite(q):
        rho = min(rho, float(np.sqrt(2.0 * rule.epsilon / q)))
    backtracks = 0
    for _ in range(MAX_BACKTRACKS):
        found = candidate(rho)
        if found is None:
            rho *= 0.5
            backtracks += 1
            continue
        new, kl = found
        if not isinstance(rule, TrustRegion) or not refine:
            return new, rho, kl, backtracks
        ratio = kl / rule.epsilon
        if 0.9 <= ratio <= 1.1 or (ratio < 1 and rho >= rule.rho_max) or backtracks >= 8:
            return new, rho, kl, backtracks
        rho = min(rho / float(np.sqrt(max(ratio, 1e-12))), rule.rho_max)  # KL grows like ρ²
        backtracks += 1
    return None, 0.0, 0.0, backtracks
