"""relax: black-box optimization by stochastic relaxation on exponential families."""
