"""Exponential-family models: Bernoulli, DiagonalGaussian, Gaussian and Ising."""

from relax.models.base import ExponentialFamily
from relax.models.bernoulli import Bernoulli
from relax.models.gaussian import DiagonalGaussian, Gaussian
from relax.models.ising import Ising

__all__ = ["Bernoulli", "DiagonalGaussian", "ExponentialFamily", "Gaussian", "Ising"]
