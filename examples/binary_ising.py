"""Pseudo-Boolean minimization with the independence model and with an Ising model.

A ±J spin glass on a 4x4 torus: the Ising model whose interactions are the problem's own
couplings can represent p(x) ∝ exp(-β f(x)), the independence model cannot.
"""

import relax
import relax.problems as rp

problem = rp.get("spin_glass", 16, seed=3)   # ground state by enumeration: problem.optimum
for name, model in (("bernoulli", relax.Bernoulli(16)),
                    ("ising", relax.Ising(16, problem.interactions))):
    res = relax.minimize(problem.f, model, vectorized=True, seed=1, maxfev=5000,
                         target=problem.optimum)
    print(f"{name:>9}: best energy {res.fun:g} (ground state {problem.optimum:g}) "
          f"after {res.nfev} evaluations")
