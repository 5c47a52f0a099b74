"""The stochastic optimizer as a noisy Euler scheme of the exact flow.

:class:`relax.Optimizer` with a fixed step ρ and ``shaping="centered"`` steps
ξ ← ξ − ρ d̂, where d̂ is the (gradient, param) direction computed from the unbiased
sample covariance Cov̂(f, T) = Σ_i (f_i − f̄)(T(x_i) − η)/(N − 1) (and the model's exact
Fisher for g_η).  So after k iterations it is the explicit Euler scheme of the flow
dξ/dt = −d(ξ) at time t = ρk, plus noise: each step adds ρ times an error of standard
deviation O(1/√N).  With a large popsize N and a small ρ its path stays near the exact
flow — :func:`monte_carlo` records it as a :class:`~relax.flows.Trajectory` to compare.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from relax.exact import expectation
from relax.flows.trajectory import Trajectory
from relax.models.base import ExponentialFamily
from relax.optimizer import Optimizer
from relax.step import Fixed


def monte_carlo(
    model: ExponentialFamily,
    f: Callable,
    gradient: str = "natural",
    param: str = "theta",
    *,
    rho: float = 0.01,
    iterations: int = 100,
    popsize: int = 10_000,
    seed: int | np.random.Generator | None = 0,
    vectorized: bool = False,
) -> Trajectory:
    """Run the optimizer (fixed step ρ, centered shaping) and record its path at t = ρk.

    Parameters
    ----------
    model : ExponentialFamily
        The start.
    f : callable
        f(x), or f(X) for a batch with ``vectorized=True``.
    gradient, param : str
        The direction and the chart of the steps, as for :class:`relax.Optimizer`
        (``param`` in {"theta", "eta"}).
    rho : float
        The fixed step; the flow time after k iterations is ρk.
    iterations : int
        Number of ask/tell iterations.
    popsize : int
        Sample size N per iteration.
    seed : int or Generator, optional
        Seed of the optimizer's generator.

    Returns
    -------
    Trajectory
        ``status="monte-carlo"``, with the exact F = E_ξk[f] at every iterate.
    """
    margins = {"theta_max": 18.0} if model.domain == "binary" else {}  # as the exact flow
    opt = Optimizer(model, gradient=gradient, param=param, popsize=popsize,
                    step=Fixed(rho), shaping="centered", seed=seed, **margins)
    models = [model]
    for _ in range(int(iterations)):
        X = opt.ask()
        fX = f(X) if vectorized else np.array([f(x) for x in X])
        opt.tell(X, fX)
        models.append(opt.model)
    t = rho * np.arange(len(models))
    xi = np.array([m.param(param) for m in models])
    F = [expectation(m, f, vectorized=vectorized) for m in models]
    message = (f"Optimizer({gradient} in {param}, popsize={popsize}, step=Fixed({rho:g}), "
               f"shaping='centered'): {iterations} iterations, t = rho * iteration")
    return Trajectory.from_models(t, xi, models, F, chart=param, gradient=gradient,
                                  status="monte-carlo", message=message, template=model)
