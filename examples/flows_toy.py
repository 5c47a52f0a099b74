"""The slides' toy problem: vanilla versus natural gradient flows on {-1,+1}^2.

Minimize f(x) = x1 + 2 x2 + 3 x1 x2 (global minimum -4 at (+1,-1), local minimum -2 at
(-1,+1)) by the exact gradient flows of F = E[f] over the independence model, in the
natural parameters theta, the expectation parameters eta and the marginals mu = P(x_i=+1).

Run: python examples/flows_toy.py [OUTDIR]   (the pictures need relax[plot])
"""

import sys

import numpy as np

from relax import Bernoulli
from relax.flows import flow
from relax.flows.cases import toy

start = Bernoulli(p=[0.3, 0.6])
print("from mu = (0.3, 0.6):")
for gradient in ("vanilla", "natural"):
    for chart in ("theta", "eta", "mu"):
        tr = flow(start, toy, gradient, chart, t_max=5000, vectorized=True)
        print(f"  {gradient:7s} in {chart:5s}: {tr.status:9s} t={tr.t[-1]:8.4g}  "
              f"mu={np.round(tr.mu[-1], 4)}  F={tr.F[-1]:+.4f}")

# The natural flow is one path whatever the chart; vanilla flows are not.
t = np.linspace(0, 2, 21)
paths = [flow(start, toy, "natural", c, t_eval=t, vectorized=True).mu
         for c in ("theta", "eta", "mu")]
print("natural flows in theta, eta, mu differ by at most",
      f"{max(np.abs(p - paths[0]).max() for p in paths):.1e}")

# The plateau: from theta = (4, 4) the vanilla gradient Cov(f, x) ~ sech^2(4) vanishes.
plateau = Bernoulli(theta=[4.0, 4.0])
nat = flow(plateau, toy, "natural", "theta", t_max=1e3, vectorized=True)
van = flow(plateau, toy, "vanilla", "theta", t_max=1e5, vectorized=True)
print(f"plateau theta=(4,4): F within 1e-3 of its limit at t={nat.t[-1]:.3g} (natural) "
      f"vs t={van.t[-1]:.3g} (vanilla): {van.t[-1] / nat.t[-1]:.0f}x faster")

if len(sys.argv) > 1:
    from relax import plot

    for name in plot.case("toy", sys.argv[1], monte_carlo=True):
        print(f"wrote {sys.argv[1]}/{name}.png")
