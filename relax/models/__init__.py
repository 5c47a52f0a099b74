from relax.models.base import ExponentialFamily
from relax.models.bernoulli import Bernoulli
from relax.models.gaussian import DiagonalGaussian, Gaussian
from relax.models.ising import Ising
