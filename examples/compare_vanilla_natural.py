"""Vanilla versus natural gradients, in theta and in eta, on one problem.

The same Monte Carlo estimate Cov(f, T) feeds all four directions (relax.DUALITY); only
the chart the step is taken in and whether I_theta^-1 is applied differ.
"""

import numpy as np

import relax
import relax.problems as rp

problem = rp.get("ellipsoid", 6)
for gradient, param in relax.DUALITY:
    finals = []
    for seed in range(3):
        res = relax.minimize(problem.f, relax.Gaussian(problem.x0, problem.sigma0**2),
                             gradient=gradient, param=param, seed=seed, vectorized=True,
                             maxfev=20_000, target=1e-8)
        finals.append(res.fun)
    print(f"{gradient:>7}-{param:<5}  median final f = {np.median(finals):.3g}")
