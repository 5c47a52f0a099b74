"""Exact gradient flows of F(ξ) = E_ξ[f], vanilla and natural, in the charts θ, η, μ, (μ, σ).

``flow(model, f, gradient="natural", param="theta", t_max=...)`` integrates
dξ/dt = −(gradient of F in chart ξ) on exact expectations and returns a
:class:`Trajectory` holding the path in every chart and F(t); ``monte_carlo`` records the
stochastic optimizer on the same footing, and :mod:`relax.flows.cases` holds the slides'
examples by name.
"""

from relax.flows.cases import CASES, get_case
from relax.flows.charts import CHARTS, Chart, get_chart
from relax.flows.gradient_flow import Field, flow
from relax.flows.montecarlo import monte_carlo
from relax.flows.trajectory import Trajectory

__all__ = ["CASES", "CHARTS", "Chart", "Field", "Trajectory", "flow", "get_case", "get_chart",
           "monte_carlo"]
