"""relax: black-box optimization by stochastic relaxation on exponential families.

Minimize f by moving a probability model p(x; ξ) so that F(ξ) = E_p[f] decreases:
sample → evaluate → estimate Cov(f, T) → vanilla or natural-gradient step in θ or η.
"""

import importlib

from relax import graphs
from relax.direction import DUALITY, gradient
from relax.evaluate import EvaluationError
from relax.exact import exact_gradient, expectation
from relax.interrupts import Interrupted
from relax.minimize import minimize, resume
from relax.models import Bernoulli, DiagonalGaussian, ExponentialFamily, Gaussian, Ising
from relax.optimizer import Optimizer
from relax.step import Decay, Fixed, TrustRegion

__version__ = "0.1.0"

__all__ = [
    "DUALITY", "Bernoulli", "Decay", "DiagonalGaussian", "EvaluationError", "Interrupted",
    "ExponentialFamily", "Fixed", "Gaussian", "Ising", "Optimizer", "TrustRegion", "exact_gradient",
    "expectation", "flows", "gradient", "graphs", "minimize", "problems", "resume",
]

#: Subpackages imported on first access (``relax.flows`` loads scipy.integrate).
LAZY_SUBMODULES = ("flows", "plot", "problems")


def __getattr__(name: str):
    """``relax.flows``, ``relax.plot`` and ``relax.problems``, imported on first access
    (PEP 562), so that ``import relax`` stays cheap."""
    if name in LAZY_SUBMODULES:
        return importlib.import_module(f"relax.{name}")
    raise AttributeError(f"module 'relax' has no attribute {name!r}")
