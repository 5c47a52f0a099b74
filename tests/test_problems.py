"""Tests of relax.problems: known optima, vectorization, seeds, {0,1} views, polynomials,
the DIMACS reader and the registry's error messages."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

import relax.problems as rp
from relax import graphs
from relax.enumeration import all_points
from relax.problems.base import enumerate_minimum

DATA = Path(__file__).parent / "data"
SAT = DATA / "sat_small.cnf"
UNSAT = DATA / "unsat_small.cnf"


def close(value: float, target: float, rtol: float = 1e-9) -> bool:
    """|value − target| ≤ rtol · max(1, |target|)."""
    return abs(value - target) <= rtol * max(1.0, abs(target))


# ------------------------------------------------------------------- instances
REAL = rp.names("real")
REAL_CASES = [(name, 5, {}) for name in REAL] + [
    (name, 7, {"shift": True, "rotate": True, "seed": 11}) for name in REAL
]
BINARY_CASES = [
    ("onemax", 10, {}),
    ("leadingones", 9, {}),
    ("linear", 11, {"seed": 4}),
    ("binval", 10, {}),
    ("trap", 10, {}),
    ("trap", 12, {"k": 3}),
    ("nk", 10, {"seed": 5}),
    ("nk", 9, {"k": 4, "seed": 6}),
    ("ising_chain", 8, {}),
    ("ising_torus", 9, {}),
    ("ising_torus", 12, {"rows": 3}),
    ("spin_glass", 9, {"seed": 7}),
    ("spin_glass", 9, {"lattice": "grid", "couplings": "gaussian", "seed": 8}),
    ("maxcut", 10, {"seed": 9}),
    ("maxcut", 11, {"p": 0.3, "weights": "uniform", "seed": 10}),
    ("qubo", 10, {"seed": 12}),
    ("maxsat", None, {"path": str(SAT)}),
    ("maxsat", None, {"path": str(UNSAT)}),
]
CASES = REAL_CASES + BINARY_CASES


def ids(case) -> str:
    name, dim, opts = case
    return f"{name}-{dim}-" + "-".join(f"{k}={Path(str(v)).name}" for k, v in opts.items())


@pytest.fixture(params=CASES, ids=[ids(c) for c in CASES])
def problem(request) -> rp.Problem:
    name, dim, opts = request.param
    return rp.get(name, dim, **opts)


def sample(p: rp.Problem, rng: np.random.Generator, size: int) -> np.ndarray:
    """Random points of the domain: half uniform, half near x_opt (bit flips or noise)."""
    if p.domain == "binary":
        X = rng.choice([-1.0, 1.0], size=(size, p.dim))
        flips = rng.random((size // 2, p.dim)) < 1.5 / p.dim
        X[: size // 2] = np.where(flips, -p.x_opt, p.x_opt)
        return X
    lo, hi = p.bounds
    X = rng.uniform(lo, hi, size=(size, p.dim))
    X[: size // 2] = p.x_opt + 0.05 * rng.standard_normal((size // 2, p.dim))
    return X


# ------------------------------------------------------------- known optima
def test_optimum_attained_at_x_opt(problem):
    assert problem.optimum is not None and problem.x_opt is not None
    assert problem.x_opt.shape == (problem.dim,)
    assert close(problem(problem.x_opt), problem.optimum)


def test_no_sampled_point_beats_the_optimum(problem):
    values = problem.f(sample(problem, np.random.default_rng(0), 10_000))
    assert values.min() >= problem.optimum - 1e-9 * max(1.0, abs(problem.optimum))


@pytest.mark.parametrize("case", BINARY_CASES, ids=[ids(c) for c in BINARY_CASES])
def test_binary_optimum_by_exhaustive_enumeration(case):
    name, dim, opts = case
    p = rp.get(name, dim, **opts)
    assert p.dim <= 12
    values = p.f(all_points(p.dim))
    assert close(values.min(), p.optimum)


def _rows(X: np.ndarray, Y: np.ndarray) -> list[int]:
    """Index in X of each row of Y."""
    return [int(np.flatnonzero((X == y).all(axis=1))[0]) for y in Y]


@pytest.mark.parametrize("chunk", [1, 5, 64, 1 << 16])
def test_enumerate_minimum_visits_every_point(chunk):
    X = all_points(6)
    shuffled = np.random.default_rng(0).permutation(64).astype(float)
    for values in (shuffled, np.arange(64.0), np.arange(64.0)[::-1].copy()):
        best, x = enumerate_minimum(lambda Y, v=values: v[_rows(X, Y)], 6, chunk=chunk)
        assert best == 0.0 and np.array_equal(x, X[np.argmin(values)])
    ties = np.ones(64)
    ties[[3, 40]] = 0.0  # ties go to the first minimizer in all_points order
    assert np.array_equal(enumerate_minimum(lambda Y: ties[_rows(X, Y)], 6, chunk)[1], X[3])
    # the unique minimizer of Σ z_i is the last point visited, all −1
    assert rp.qubo(np.eye(3)).x_opt.tolist() == [-1.0, -1.0, -1.0]


def test_optimum_is_lazy_up_to_20_and_unknown_beyond():
    assert rp.get("nk", 16, seed=1).optimum is not None
    big = rp.get("nk", 21, seed=1)
    assert big.optimum is None and big.x_opt is None
    assert rp.get("spin_glass", 25, seed=1).optimum is None
    assert rp.get("qubo", 21, seed=1).optimum is None


# ------------------------------------------------------------- vectorization
def test_batch_equals_per_point_calls(problem):
    X = sample(problem, np.random.default_rng(1), 40)
    batch = problem.f(X)
    assert batch.shape == (40,) and batch.dtype == np.float64
    rows = np.array([problem(x) for x in X])
    np.testing.assert_array_equal(batch, rows)
    assert isinstance(problem(X[0]), float)
    np.testing.assert_array_equal(problem(X), batch)
    np.testing.assert_array_equal(problem.f(np.asfortranarray(X)), batch)
    np.testing.assert_array_equal(np.r_[problem.f(X[:13]), problem.f(X[13:])], batch)


def test_empty_batch(problem):
    assert problem.f(np.empty((0, problem.dim))).shape == (0,)


def test_problem_pickles(problem):
    X = sample(problem, np.random.default_rng(2), 20)
    clone = pickle.loads(pickle.dumps(problem))
    np.testing.assert_array_equal(clone.f(X), problem.f(X))
    assert clone.optimum == problem.optimum


def test_problem_is_immutable():
    p = rp.sphere(3)
    with pytest.raises(AttributeError):
        p.dim = 4
    with pytest.raises(ValueError):
        p.x_opt[0] = 1.0


# ---------------------------------------------------------------- shape errors
def test_shape_errors_name_the_argument_and_shape():
    p = rp.sphere(4)
    with pytest.raises(ValueError, match=r"X must have shape \(size, 4\).*got shape \(4,\)"):
        p.f(np.zeros(4))
    with pytest.raises(ValueError, match=r"X must have shape \(size, 4\).*\(3, 5\)"):
        p.f(np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"x must have shape \(4,\) or \(size, 4\)"):
        p(np.zeros(3))
    with pytest.raises(ValueError, match=r"X must have shape"):
        p(np.zeros((2, 2, 4)))


def test_binary_problems_reject_points_outside_pm1():
    p = rp.onemax(4)
    with pytest.raises(ValueError, match="f01"):
        p.f(np.array([[0.0, 1.0, 1.0, 0.0]]))
    with pytest.raises(ValueError, match=r"Z must take values in \{0, 1\}"):
        p.f01(np.array([[-1.0, 1.0, 1.0, 1.0]]))
    with pytest.raises(TypeError, match="binary"):
        rp.sphere(4).f01(np.zeros((1, 4)))


# ---------------------------------------------------------------- {0,1} view
@pytest.mark.parametrize("case", BINARY_CASES, ids=[ids(c) for c in BINARY_CASES])
def test_f01_is_f_at_x_equals_2z_minus_1(case):
    name, dim, opts = case
    p = rp.get(name, dim, **opts)
    Z = np.random.default_rng(3).integers(0, 2, size=(64, p.dim)).astype(float)
    np.testing.assert_array_equal(p.f01(Z), p.f(2 * Z - 1))
    np.testing.assert_array_equal(p.f01(np.ones((1, p.dim))), p.f(np.ones((1, p.dim))))


def test_qubo_f01_is_zQz():
    Q = np.random.default_rng(4).standard_normal((6, 6))
    Z = all_points(6) * -0.5 + 0.5  # every z in {0,1}^6
    np.testing.assert_allclose(rp.qubo(Q).f01(Z), np.einsum("si,ij,sj->s", Z, Q, Z), atol=1e-12)


# --------------------------------------------------------- closed-form values
def test_continuous_values_by_hand():
    n = 4
    e = np.eye(n)
    assert rp.rosenbrock(n)(np.zeros(n)) == n - 1
    assert rp.rastrigin(n)(np.array([1.0, -2.0, 0.0, 3.0])) == pytest.approx(14.0, abs=1e-12)
    assert rp.schwefel_1_2(n)(np.ones(n)) == 1 + 4 + 9 + 16
    assert rp.different_powers(n)(np.full(n, 2.0)) == pytest.approx(
        4 + 2 ** (10 / 3) + 2 ** (14 / 3) + 64
    )
    assert rp.ellipsoid(n)(e[-1]) == pytest.approx(1e6)
    assert rp.ellipsoid(n, cond=100.0)(e[1]) == pytest.approx(100 ** (1 / 3))
    assert rp.bent_cigar(n)(e[0]) == 1.0 and rp.bent_cigar(n)(e[2]) == 1e6
    x = np.array([1.0, 2.0, -1.0, 0.5])
    expected = -20 * np.exp(-0.2 * np.sqrt(np.mean(x**2))) - np.exp(np.mean(np.cos(2 * np.pi * x)))
    assert rp.ackley(n)(x) == pytest.approx(expected + 20 + np.e, rel=1e-12)
    assert rp.sphere(n)(x) == pytest.approx(6.25)


def test_styblinski_tang_minimizer_is_stationary():
    g = rp.styblinski_tang(1)
    x, h = rp.styblinski_tang(1).x_opt[0], 1e-5
    slope = (g(np.array([x + h])) - g(np.array([x - h]))) / (2 * h)
    curvature = (g(np.array([x + h])) - 2 * g(np.array([x])) + g(np.array([x - h]))) / h**2
    assert abs(slope) < 1e-6 and curvature > 0
    assert rp.styblinski_tang(3).optimum == pytest.approx(-39.16616570377142 * 3, rel=1e-15)


def test_binary_values_by_hand():
    x = np.array([1.0, 1.0, -1.0, 1.0, -1.0])
    assert rp.onemax(5)(x) == 2
    assert rp.leadingones(5)(x) == 3
    assert rp.binval(5)(x) == 2**2 + 2**0
    assert rp.linear(3, weights=[1.0, -2.0, 0.5])(np.array([1.0, 1.0, -1.0])) == -1.5
    trap = rp.trap(10)
    assert trap(-np.ones(10)) == 2  # the deceptive attractor: 1 per block
    assert trap(np.r_[np.ones(5), 1, 1, 1, 1, -1]) == 5  # u = 4 → 1 + 4
    assert rp.ising_chain(4)(np.array([1.0, -1.0, -1.0, 1.0])) == 1.0
    assert rp.ising_torus(9)(-np.ones(9)) == -18


def test_nk_matches_a_loop_over_its_definition():
    p = rp.nk(7, k=2, seed=3)
    tables = p._func.tables
    X = np.random.default_rng(5).choice([-1.0, 1.0], size=(30, 7))
    for x in X:
        z = (x > 0).astype(int)
        idx = [z[i] + 2 * z[(i + 1) % 7] + 4 * z[(i + 2) % 7] for i in range(7)]
        assert p(x) == pytest.approx(np.mean([tables[i, idx[i]] for i in range(7)]), abs=1e-15)


def test_binval_is_exact_up_to_53_bits():
    x = -np.ones(53)
    assert rp.binval(53)(x) == 2.0**53 - 1


# ------------------------------------------------------------------ seeds
@pytest.mark.parametrize("name", REAL)
def test_shift_and_rotation_are_reproducible_and_move_x_opt(name):
    a = rp.get(name, 6, shift=True, rotate=True, seed=1)
    b = rp.get(name, 6, shift=True, rotate=True, seed=1)
    c = rp.get(name, 6, shift=True, rotate=True, seed=2)
    base = rp.get(name, 6, seed=1)
    X = np.random.default_rng(0).uniform(-3, 3, (20, 6))
    np.testing.assert_array_equal(a.f(X), b.f(X))
    np.testing.assert_array_equal(a.x_opt, b.x_opt)
    assert not np.allclose(a.f(X), c.f(X))
    assert not np.allclose(a.x_opt, c.x_opt) and not np.allclose(a.x_opt, base.x_opt)
    assert np.all(np.abs(a.x_opt) <= 4)
    assert a.params["seed"] == 1


def test_shift_does_not_depend_on_rotation():
    shifted = rp.rastrigin(5, shift=True, seed=3)
    both = rp.rastrigin(5, shift=True, rotate=True, seed=3)
    np.testing.assert_array_equal(shifted.x_opt, both.x_opt)


def test_rotation_keeps_x_opt_and_changes_the_function():
    plain, rotated = rp.ellipsoid(5), rp.ellipsoid(5, rotate=True, seed=4)
    np.testing.assert_array_equal(rotated.x_opt, plain.x_opt)
    X = np.random.default_rng(0).standard_normal((10, 5))
    assert not np.allclose(plain.f(X), rotated.f(X))
    # the sphere is rotation invariant, which checks that R is orthogonal
    np.testing.assert_allclose(rp.sphere(5, rotate=True, seed=4).f(X), rp.sphere(5).f(X))


def test_random_rotation_is_a_rotation():
    R = rp.random_rotation(6, np.random.default_rng(0))
    np.testing.assert_allclose(R @ R.T, np.eye(6), atol=1e-12)
    assert np.linalg.det(R) == pytest.approx(1.0)


def test_seed_none_is_recorded_and_reproduces_the_instance():
    p = rp.get("qubo", 6)
    q = rp.get("qubo", 6, seed=p.params["seed"])
    X = all_points(6)
    np.testing.assert_array_equal(p.f(X), q.f(X))
    assert not np.array_equal(rp.get("qubo", 6).f(X), p.f(X))


def test_random_instances_depend_on_the_seed():
    X = all_points(9)
    for name in ("linear", "nk", "spin_glass", "maxcut", "qubo"):
        same = rp.get(name, 9, seed=1).f(X), rp.get(name, 9, seed=1).f(X)
        np.testing.assert_array_equal(*same)
        assert not np.array_equal(same[0], rp.get(name, 9, seed=2).f(X)), name


# ------------------------------------------------------------- polynomials
def naive_polynomial(p: rp.Problem, x: np.ndarray) -> float:
    """const + Σ a_i x_i + Σ c_S ∏_{i∈S} x_i, term by term."""
    value = p.constant + sum(a * xi for a, xi in zip(p.linear, x, strict=True))
    for S, c in zip(p.interactions, p.coefficients, strict=True):
        value += c * np.prod([x[i] for i in S])
    return value


POLY_CASES = [c for c in BINARY_CASES if c[0] not in ("leadingones", "maxsat")]


@pytest.mark.parametrize("case", POLY_CASES, ids=[ids(c) for c in POLY_CASES])
def test_f_equals_its_polynomial(case):
    name, dim, opts = case
    p = rp.get(name, dim, **opts)
    X = np.random.default_rng(6).choice([-1.0, 1.0], size=(30, p.dim))
    naive = np.array([naive_polynomial(p, x) for x in X])
    np.testing.assert_allclose(p.f(X), naive, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(p.polynomial(X), naive, rtol=1e-12, atol=1e-12)
    assert all(len(S) >= 2 and list(S) == sorted(set(S)) for S in p.interactions)


def test_problems_without_a_polynomial_say_so():
    assert rp.leadingones(4).polynomial is None and rp.leadingones(4).interactions is None
    assert rp.maxsat(SAT).coefficients is None


def test_mrf_polynomials_are_pairwise_on_the_graph():
    g = graphs.torus(3)
    J = np.random.default_rng(7).standard_normal(len(g.edges))
    p = rp.spin_glass(g, J)
    assert p.interactions == tuple(g.edges)
    np.testing.assert_array_equal(p.coefficients, -J)
    m = rp.maxcut(g, np.abs(J))
    np.testing.assert_array_equal(m.coefficients, np.abs(J) / 2)
    assert m.constant == pytest.approx(-np.abs(J).sum() / 2)


def test_walsh_polynomial_of_a_single_table():
    # g(x0, x1) = [x0 = +1 and x1 = +1] = (1 + x0)(1 + x1)/4; bit j ↔ x_j = +1
    poly = rp.walsh_polynomial(2, [[0, 1]], [[0.0, 0.0, 0.0, 1.0]])
    assert poly.constant == 0.25
    np.testing.assert_array_equal(poly.linear, [0.25, 0.25])
    assert poly.interactions == ((0, 1),) and poly.coefficients.tolist() == [0.25]


def test_polynomial_rejects_bad_terms():
    with pytest.raises(ValueError, match="repeats"):
        rp.Polynomial(3, 0.0, np.zeros(3), ((0, 0),), [1.0])
    with pytest.raises(ValueError, match="coefficients"):
        rp.Polynomial(3, 0.0, np.zeros(3), ((0, 1),), [1.0, 2.0])


# -------------------------------------------------------- MRF constructors
def test_spin_glass_energy_by_hand():
    p = rp.spin_glass([(0, 1), (1, 2)], [1.0, -2.0], fields=[0.5, 0.0, -1.0])
    x = np.array([1.0, -1.0, 1.0])
    assert p(x) == -(1 * -1) - (-2 * -1) - (0.5 - 1.0)
    assert p.optimum == min(p.f(all_points(3)))


def test_maxcut_of_a_weighted_triangle():
    p = rp.maxcut(graphs.cycle(3), [1.0, 2.0, 3.0])
    assert p.optimum == -5.0  # cut the two heaviest edges
    assert p(np.array([1.0, 1.0, 1.0])) == 0.0


def test_qubo_by_hand():
    Q = np.array([[1.0, -3.0], [0.0, 1.0]])  # z0 + z1 − 3 z0 z1
    p = rp.qubo(Q)
    assert p.f01(np.array([[1.0, 1.0], [1.0, 0.0], [0.0, 0.0]])).tolist() == [-1.0, 1.0, 0.0]
    assert p.optimum == -1.0 and p.x_opt.tolist() == [1.0, 1.0]


def test_mrf_constructor_errors():
    with pytest.raises(ValueError, match=r"couplings must have one value per edge, shape \(2,\)"):
        rp.spin_glass([(0, 1), (1, 2)], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="square"):
        rp.qubo(np.ones((2, 3)))
    with pytest.raises(ValueError, match="fields"):
        rp.spin_glass([(0, 1)], 1.0, fields=[1.0])


# ------------------------------------------------------------------- DIMACS
def unsatisfied(cnf: rp.CNF, x: np.ndarray) -> float:
    """Weight of unsatisfied clauses, clause by clause."""
    truth = {v + 1: xv > 0 for v, xv in enumerate(x)}
    sat = [any(truth[abs(lit)] == (lit > 0) for lit in c) for c in cnf.clauses]
    return sum(w for w, s in zip(cnf.weights, sat, strict=True) if not s)


def test_reads_the_satisfiable_file():
    cnf = rp.read_dimacs(SAT)
    assert cnf.n_vars == 6 and len(cnf.clauses) == 7 and cnf.satisfiable is True
    assert cnf.clauses[1] == (2, 3, -4) and cnf.clauses[3] == (-5, 6) and cnf.clauses[5] == (3, -6)
    p = rp.maxsat(SAT)
    assert p.optimum == 0 and unsatisfied(cnf, p.x_opt) == 0


def test_reads_the_unsatisfiable_file():
    cnf = rp.read_dimacs(UNSAT)
    assert cnf.n_vars == 6 and len(cnf.clauses) == 9 and cnf.satisfiable is False
    assert rp.maxsat(cnf).optimum == 1


@pytest.mark.parametrize("path", [SAT, UNSAT])
def test_maxsat_counts_unsatisfied_clauses(path):
    cnf, p = rp.read_dimacs(path), rp.maxsat(path)
    X = all_points(cnf.n_vars)
    np.testing.assert_array_equal(p.f(X), [unsatisfied(cnf, x) for x in X])


def test_weighted_cnf_duplicates_tautologies_and_empty_clauses():
    text = "p wcnf 3 4 10\n3 1 1 -2 0\n10 2 -2 0\n5 0\n2 -1 3 0\n"
    cnf = rp.parse_dimacs(text)
    assert cnf.weights == (3, 10, 5, 2) and cnf.clauses[0] == (1, 1, -2)
    p = rp.maxsat(cnf)
    X = all_points(3)
    np.testing.assert_array_equal(p.f(X), [unsatisfied(cnf, x) for x in X])
    assert p.optimum == 5  # the empty clause always fails
    assert "weight" in p.description


def test_large_formula_optimum_from_the_stated_status():
    clauses = "".join(f"{v} {v + 1} 0\n" for v in range(1, 25))
    stated = rp.maxsat(rp.parse_dimacs(f"c SAT\np cnf 25 24\n{clauses}"))
    assert stated.optimum == 0.0 and stated.x_opt is None
    assert rp.maxsat(rp.parse_dimacs(f"p cnf 25 24\n{clauses}")).optimum is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1 2 0\np cnf 2 1\n", r"line 1: clause before the 'p cnf' header"),
        ("p cnf 2 1\n1 x 0\n", r"line 2: expected an integer literal, got 'x'"),
        ("p cnf 2 1\nc ok\n1 3 0\n", r"line 3: literal 3 refers to variable 3.*declares 2"),
        ("p cnf 2 1\n1 2\n", r"line 2: the last clause is not terminated by 0"),
        ("p cnf 2 2\n1 2 0\n", r"line 2: the header declares 2 clauses but 1 were read"),
        ("p cnf 2 1\np cnf 2 1\n1 0\n", r"line 2: second 'p' line"),
        ("p cnf two 1\n1 0\n", r"line 1: malformed header"),
        ("p sat 2 1\n1 0\n", r"line 1: malformed header"),
        ("c only comments\n", r"no 'p cnf <vars> <clauses>' header"),
        ("p wcnf 2 1\n0 1 0\n", r"line 2: clause weight must be a positive integer"),
    ],
)
def test_malformed_dimacs_errors_name_the_line(text, message):
    with pytest.raises(ValueError, match=message):
        rp.parse_dimacs(text)


def test_malformed_file_error_names_the_file(tmp_path):
    path = tmp_path / "bad.cnf"
    path.write_text("p cnf 1 1\n1 -2 0\n")
    with pytest.raises(ValueError, match=r"bad\.cnf, line 2"):
        rp.maxsat(path)


# ----------------------------------------------------------------- registry
def test_names_cover_the_catalogue():
    expected_real = {
        "sphere",
        "ellipsoid",
        "rotated_ellipsoid",
        "rosenbrock",
        "rastrigin",
        "ackley",
        "bent_cigar",
        "different_powers",
        "styblinski_tang",
        "schwefel_1_2",
    }
    expected_binary = {
        "onemax",
        "leadingones",
        "linear",
        "binval",
        "trap",
        "nk",
        "ising_chain",
        "ising_torus",
        "spin_glass",
        "maxcut",
        "qubo",
        "maxsat",
    }
    assert set(rp.names("real")) == expected_real
    assert set(rp.names("binary")) == expected_binary
    assert rp.names() == rp.names("real") + rp.names("binary")
    with pytest.raises(ValueError, match="domain"):
        rp.names("integer")


def test_describe_rows():
    rows = rp.describe()
    assert [r.name for r in rows] == rp.names()
    for name, domain, description, dims in rows:
        assert (
            rp.get(
                name,
                9 if name != "maxsat" else None,
                **({"path": str(SAT)} if name == "maxsat" else {}),
                **({"k": 3} if name == "trap" else {}),
            ).domain
            == domain
        )
        assert description and "\n" not in description and dims


def test_every_problem_has_a_one_line_description(problem):
    assert problem.description and "\n" not in problem.description
    assert problem.domain in ("real", "binary")


def test_continuous_problems_suggest_a_start_step_and_box():
    for name in rp.names("real"):
        p = rp.get(name, 4, shift=True, seed=0)
        lo, hi = p.bounds
        assert p.x0.shape == lo.shape == hi.shape == (4,) and p.sigma0 > 0
        assert np.all(lo <= p.x_opt) and np.all(p.x_opt <= hi)
        assert np.all(lo <= p.x0) and np.all(p.x0 <= hi)
        assert p(p.x0) > p.optimum
    assert rp.onemax(3).x0 is None and rp.onemax(3).bounds is None


def test_unknown_name_suggests_close_matches():
    with pytest.raises(ValueError, match="did you mean 'rosenbrock'"):
        rp.get("rosenbrok", 5)
    with pytest.raises(ValueError, match="unknown problem 'zzz'"):
        rp.get("zzz", 5)
    assert rp.get("Styblinski-Tang", 2).name == "styblinski_tang"


@pytest.mark.parametrize(
    ("name", "dim", "opts", "message"),
    [
        ("sphere", 0, {}, r"dim=0 is not allowed for problem 'sphere'; allowed: n >= 1"),
        ("rosenbrock", 1, {}, r"allowed: n >= 2"),
        ("sphere", 2.5, {}, r"dim must be an integer"),
        ("sphere", None, {}, r"needs a dimension"),
        ("trap", 7, {}, r"multiple of k=5"),
        ("trap", 6, {"k": 4}, r"multiple of k=4"),
        ("ising_torus", 10, {}, r"n = L\*L with L >= 3"),
        ("ising_torus", 4, {}, r"n = L\*L with L >= 3"),
        ("spin_glass", 10, {}, r"n = L\*L with L >= 3"),
        ("spin_glass", 9, {"lattice": "cube"}, r"lattice must be"),
        ("nk", 3, {"k": 3}, r"0 <= k < n"),
        ("maxcut", 1, {}, r"allowed: n >= 2"),
        ("rotated_ellipsoid", 3, {"rotate": False}, r"always rotated"),
        ("sphere", 3, {"shfit": True}, r"unknown option\(s\) shfit.*accepted: shift, rotate"),
        ("maxsat", None, {}, r"needs option\(s\) path="),
        ("maxsat", 5, {"path": str(SAT)}, r"dim=5 does not match the 6 variables"),
    ],
)
def test_bad_dims_and_options_say_what_is_allowed(name, dim, opts, message):
    with pytest.raises(ValueError, match=message):
        rp.get(name, dim, **opts)


def test_options_lists_what_get_accepts():
    assert rp.options("ellipsoid") == ["cond", "shift", "rotate"]
    assert rp.options("onemax") == []
