"""The slides' Gaussian flows: vanilla versus natural gradient in the (mu, sigma) chart.

The slides *maximize* f = x - 3x^2 and f = 6x + 8x^2 - x^3 - 2x^4 (and a 2-D quadratic);
relax always minimizes, so the flows here minimize -f, which draws the same pictures.

Run: python examples/flows_gaussian.py [OUTDIR]   (the pictures need relax[plot])
"""

import sys

import numpy as np

from relax import Gaussian
from relax.flows import flow
from relax.flows.cases import neg_quartic
from relax.flows.montecarlo import monte_carlo

for mu0, sigma0 in [(-2.5, 0.3), (0.25, 1.2), (2.5, 1.2)]:
    start = Gaussian([mu0], sigma0**2)
    print(f"minimize -(6x + 8x^2 - x^3 - 2x^4) from (mu, sigma) = ({mu0}, {sigma0}):")
    for gradient in ("vanilla", "natural"):
        for chart in ("theta", "eta", "mu_sigma"):
            tr = flow(start, neg_quartic, gradient, chart, t_max=20, vectorized=True)
            mu, sigma = tr.mu_sigma[-1]
            print(f"  {gradient:7s} in {chart:8s}: {tr.status:9s} t={tr.t[-1]:7.3g}  "
                  f"mu={mu:+.4f} sigma={sigma:.2e}")

# The optimizer with a large sample and a small fixed step follows the exact flow.
start, rho, K = Gaussian([-2.5], 0.09), 0.01, 100
mc = monte_carlo(start, neg_quartic, "natural", "eta", rho=rho, iterations=K,
                 popsize=20_000, seed=0, vectorized=True)
ex = flow(start, neg_quartic, "natural", "eta", t_eval=mc.t, vectorized=True)
print(f"optimizer (N=20000, rho={rho}) vs exact flow up to t={rho * K:g}: max distance in "
      f"(mu, sigma) {np.abs(mc.mu_sigma - ex.mu_sigma).max():.3f}")

if len(sys.argv) > 1:
    from relax import plot

    for case in ("cubic", "quartic", "quadratic2d"):
        for name in plot.case(case, sys.argv[1], monte_carlo=True):
            print(f"wrote {sys.argv[1]}/{name}.png")
