"""Quickstart: minimize a continuous function and a pseudo-Boolean one with relax.minimize."""

import numpy as np

import relax


def rosenbrock(x):
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2))


# A Gaussian search distribution N(x0, sigma0^2 I); natural gradient in eta with rank
# weights (the defaults) is CMA-ES's rank-mu update.
res = relax.minimize(rosenbrock, relax.Gaussian(np.zeros(5), 0.5**2), target=1e-10, seed=1)
print(f"Rosenbrock 5-d: f = {res.fun:.3g} at x = {np.round(res.x, 4)} ({res.nfev} evaluations)")


def onemax(x):
    """Number of -1 entries: minimized at all +1."""
    return float(np.sum(x < 0))


# The binary independence model on {-1,+1}^n; natural-eta with ranks is PBIL.
res = relax.minimize(onemax, relax.Bernoulli(50), target=0, seed=1)
print(f"OneMax 50: f = {res.fun:g} after {res.nfev} evaluations; final model entropy "
      f"{res.model.entropy():.3g} nats")
