"""Benchmark problems with known optima and vectorized implementations.

All problems are **minimized**.  Continuous problems live on R^n, binary (pseudo-Boolean)
problems on {−1,+1}^n with the {0,1} view z = (1 + x)/2.  Build one by name,

>>> import relax.problems as rp
>>> p = rp.get("rosenbrock", 10, shift=True, seed=1)
>>> p(p.x_opt) == p.optimum
True

or with a constructor (``rp.sphere(5)``, ``rp.spin_glass(graph, couplings)``,
``rp.qubo(Q)``, ``rp.maxcut(graph, weights)``, ``rp.maxsat("file.cnf")``).
:func:`names` lists the registry, :func:`describe` gives one row per problem.
"""

from relax.problems.base import (
    Polynomial,
    Problem,
    ProblemInfo,
    describe,
    get,
    names,
    options,
    register,
    walsh_polynomial,
)
from relax.problems.binary import binval, leadingones, linear, nk, onemax, trap  # noqa: I001
from relax.problems.continuous import (
    ackley,
    bent_cigar,
    different_powers,
    ellipsoid,
    random_rotation,
    rastrigin,
    rosenbrock,
    rotated_ellipsoid,
    schwefel_1_2,
    sphere,
    styblinski_tang,
)
from relax.problems.maxsat import CNF, maxsat, parse_dimacs, read_dimacs
from relax.problems.mrf import (
    ising_chain,
    ising_torus,
    maxcut,
    qubo,
    qubo_polynomial,
    random_maxcut,
    random_qubo,
    random_spin_glass,
    spin_glass,
)

__all__ = [
    "CNF",
    "Polynomial",
    "Problem",
    "ProblemInfo",
    "ackley",
    "bent_cigar",
    "binval",
    "describe",
    "different_powers",
    "ellipsoid",
    "get",
    "ising_chain",
    "ising_torus",
    "leadingones",
    "linear",
    "maxcut",
    "maxsat",
    "names",
    "nk",
    "onemax",
    "options",
    "parse_dimacs",
    "qubo",
    "qubo_polynomial",
    "random_maxcut",
    "random_qubo",
    "random_rotation",
    "random_spin_glass",
    "rastrigin",
    "read_dimacs",
    "register",
    "rosenbrock",
    "rotated_ellipsoid",
    "schwefel_1_2",
    "sphere",
    "spin_glass",
    "styblinski_tang",
    "trap",
    "walsh_polynomial",
]
