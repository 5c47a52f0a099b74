"""±J spin glasses on L × L tori with ground states proved by a mixed-integer program.

Instance: the periodic L × L lattice of :func:`relax.graphs.torus` (vertex (r, c) is
r·L + c, edges sorted), couplings J_e = ±1 with probability ½ drawn from
``numpy.random.default_rng(seed)``, energy

    E(x) = −Σ_{e=(i,j)} J_e x_i x_j,   x ∈ {−1,+1}^n,  n = L².

Exact solver (:func:`ground_state`): with s_i = (1 − x_i)/2 ∈ {0,1} and y_e = 1 when the
edge e = (i,j) is cut (x_i ≠ x_j), x_i x_j = 1 − 2 y_e and

    E = −Σ_e J_e + 2 Σ_e J_e y_e,

so a ground state minimizes Σ_e J_e y_e over cuts y.  The mixed-integer program has binary
s (s_0 = 0 removes the global flip symmetry), continuous y_e ∈ [0, 1] tied to the spins by
the four inequalities of y_e = s_i XOR s_j

    y_e ≥ s_i − s_j,  y_e ≥ s_j − s_i,  y_e ≤ s_i + s_j,  y_e ≤ 2 − s_i − s_j,

and, to tighten the linear relaxation, the cycle inequalities of every plaquette (the
4-cycle C of a unit square): Σ_{e∈F} y_e − Σ_{e∈C∖F} y_e ≤ |F| − 1 for every odd F ⊆ C
(a cut meets every cycle in an even number of edges; Barahona & Mahjoub 1986, "On the cut
polytope", Math. Programming 36).  scipy.optimize.milp (HiGHS) solves it with a zero
relative gap; the objective is an integer, so the optimum is proved when HiGHS reports
optimality and its dual bound rounds up to the objective.

Proved optima are cached in ``benchmarks/data/spinglass_L{L}_s{seed}.json`` (couplings,
energy, one ground state, solver report); :func:`load_instance` re-checks a cached file
(the couplings are those the seed draws, the stored state has the stored energy) before
it is used.
"""

from __future__ import annotations

import datetime
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path

import _common  # noqa: F401  (the checkout's relax first on sys.path)
import numpy as np
import scipy
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

from relax import graphs

DATA = Path(__file__).with_name("data")


@dataclass(frozen=True)
class Instance:
    """A ±J spin glass on the L × L torus and its proved ground state."""

    L: int
    seed: int
    edges: np.ndarray       # (m, 2) int, sorted pairs i < j
    J: np.ndarray           # (m,) couplings ±1
    energy: float           # proved minimum of E
    state: np.ndarray       # (n,) a ground state in {−1,+1}^n

    @property
    def n(self) -> int:
        return self.L * self.L

    @property
    def interactions(self) -> list[tuple[int, int]]:
        """The torus edges, for ``relax.Ising(n, interactions)``."""
        return [(int(i), int(j)) for i, j in self.edges]

    def __call__(self, X: np.ndarray) -> np.ndarray:
        """E(x) for each row of X (shape (N, n) or (n,))."""
        return energy(X, self.edges, self.J)


def check_side(L: int) -> int:
    """L as an int ≥ 3 (the torus needs three rows to have simple 4-cycles)."""
    if isinstance(L, bool) or int(L) != L or L < 3:
        raise ValueError(f"the torus side L must be an integer >= 3; got {L!r}")
    return int(L)


def couplings(L: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Edges of the L × L torus and J_e = ±1 drawn from ``default_rng(seed)``."""
    edges = np.array(graphs.torus(check_side(L)).edges, dtype=np.int64)
    J = np.random.default_rng(seed).choice(np.array([-1.0, 1.0]), size=len(edges))
    return edges, J


def energy(X: np.ndarray, edges: np.ndarray, J: np.ndarray) -> np.ndarray:
    """E(x) = −Σ_e J_e x_i x_j for each row of X."""
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    return -(X[:, edges[:, 0]] * X[:, edges[:, 1]]) @ J


def plaquettes(L: int) -> list[tuple[int, int, int, int]]:
    """Edge indices (into the sorted torus edges) of the L² unit squares of the torus."""
    index = {e: k for k, e in enumerate(graphs.torus(check_side(L)).edges)}

    def edge(a: int, b: int) -> int:
        return index[(min(a, b), max(a, b))]

    squares = []
    for r, c in itertools.product(range(L), range(L)):
        v = r * L + c
        right, down = r * L + (c + 1) % L, ((r + 1) % L) * L + c
        diag = ((r + 1) % L) * L + (c + 1) % L
        squares.append((edge(v, right), edge(right, diag), edge(down, diag), edge(v, down)))
    return squares


def _rows(n: int, edges: np.ndarray, squares: list) -> tuple[coo_array, np.ndarray]:
    """Constraint matrix A z ≤ b over z = (s_0..s_{n−1}, y_0..y_{m−1})."""
    rows, cols, vals, rhs = [], [], [], []

    def add(terms: list[tuple[int, float]], b: float) -> None:
        r = len(rhs)
        for c, v in terms:
            rows.append(r)
            cols.append(c)
            vals.append(v)
        rhs.append(b)

    for k, (i, j) in enumerate(edges):
        y = n + k
        add([(i, 1.0), (j, -1.0), (y, -1.0)], 0.0)      # y ≥ s_i − s_j
        add([(j, 1.0), (i, -1.0), (y, -1.0)], 0.0)      # y ≥ s_j − s_i
        add([(y, 1.0), (i, -1.0), (j, -1.0)], 0.0)      # y ≤ s_i + s_j
        add([(y, 1.0), (i, 1.0), (j, 1.0)], 2.0)        # y ≤ 2 − s_i − s_j
    for square in squares:
        for size in (1, 3):
            for odd in itertools.combinations(square, size):
                add([(n + e, 1.0 if e in odd else -1.0) for e in square], size - 1.0)
    A = coo_array((vals, (rows, cols)), shape=(len(rhs), n + len(edges)))
    return A, np.array(rhs)


@dataclass(frozen=True)
class Proof:
    """What HiGHS reported for one solve."""

    energy: float
    state: np.ndarray
    proved: bool
    status: int
    message: str
    mip_gap: float
    dual_bound_energy: float
    nodes: int


def ground_state(L: int, edges: np.ndarray, J: np.ndarray,
                 time_limit: float | None = None) -> Proof:
    """Minimize E over {−1,+1}^{L²} exactly with scipy.optimize.milp (HiGHS).

    ``proved`` is True when HiGHS reports an optimal solution and its dual bound, rounded
    up (E is an integer for ±1 couplings), equals the objective.
    """
    n, m = L * L, len(edges)
    A, b = _rows(n, edges, plaquettes(L))
    lower, upper = np.zeros(n + m), np.ones(n + m)
    upper[0] = 0.0                                      # s_0 = 0: x_0 = +1
    options = {"mip_rel_gap": 0.0, "disp": False}
    if time_limit is not None:
        options["time_limit"] = float(time_limit)
    res = milp(np.concatenate([np.zeros(n), J]), integrality=np.r_[np.ones(n), np.zeros(m)],
               bounds=Bounds(lower, upper), constraints=LinearConstraint(A, -np.inf, b),
               options=options)
    if res.x is None:
        raise RuntimeError(f"HiGHS found no solution for L={L}: {res.message}")
    state = 1.0 - 2.0 * np.round(res.x[:n])
    e = float(energy(state, edges, J)[0])
    constant = -float(J.sum())
    dual = constant + 2.0 * float(getattr(res, "mip_dual_bound", -np.inf))
    proved = bool(res.status == 0 and e == constant + 2.0 * round(res.fun)
                  and math.ceil(dual - 1e-6) >= e)
    return Proof(e, state, proved, int(res.status), str(res.message),
                 float(getattr(res, "mip_gap", np.nan)), dual,
                 int(getattr(res, "mip_node_count", -1)))


def path(L: int, seed: int, data: Path = DATA) -> Path:
    """Cache file of one instance."""
    return Path(data) / f"spinglass_L{L}_s{seed}.json"


def solve_and_store(L: int, seed: int, data: Path = DATA,
                    time_limit: float | None = None) -> Proof:
    """Solve one instance and write its cache file when the optimum is proved."""
    edges, J = couplings(L, seed)
    proof = ground_state(L, edges, J, time_limit)
    if proof.proved:
        record = {
            "L": L, "seed": seed, "n": L * L,
            "energy_formula": "E(x) = -sum_e J_e x_i x_j, x in {-1,+1}^n",
            "edges": edges.tolist(), "J": J.astype(int).tolist(),
            "energy": proof.energy, "state": proof.state.astype(int).tolist(),
            "solver": {"name": "scipy.optimize.milp (HiGHS)", "scipy": scipy.__version__,
                       "proved": proof.proved, "status": proof.status, "message": proof.message,
                       "mip_gap": proof.mip_gap, "dual_bound_energy": proof.dual_bound_energy,
                       "nodes": proof.nodes},
            "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d"),
        }
        Path(data).mkdir(parents=True, exist_ok=True)
        lines = (f" {json.dumps(k)}: {json.dumps(v, separators=(',', ':'))}"
                 for k, v in record.items())
        path(L, seed, data).write_text("{\n" + ",\n".join(lines) + "\n}\n")
    return proof


def load_instance(L: int, seed: int, data: Path = DATA) -> Instance:
    """The cached instance, checked: couplings as drawn from the seed, the stored state at
    the stored energy, and a solver report of a proved optimum."""
    file = path(L, seed, data)
    if not file.exists():
        raise FileNotFoundError(
            f"no proved ground state for L={L}, seed={seed} in {file.parent}; run "
            f"`python benchmarks/spinglass.py --sizes {L} --seeds {seed}` first")
    rec = json.loads(file.read_text())
    edges, J = couplings(L, seed)
    if not (np.array_equal(edges, rec["edges"]) and np.array_equal(J, rec["J"])):
        raise ValueError(f"{file}: couplings differ from those seed {seed} draws")
    state = np.array(rec["state"], dtype=np.float64)
    if energy(state, edges, J)[0] != rec["energy"]:
        raise ValueError(f"{file}: the stored state does not have the stored energy")
    solver = rec["solver"]
    if not (solver["proved"] and solver["mip_gap"] == 0.0
            and math.ceil(solver["dual_bound_energy"] - 1e-6) >= rec["energy"]):
        raise ValueError(f"{file}: the solver report does not prove the stored energy optimal")
    return Instance(L, seed, edges, J, float(rec["energy"]), state)


def main(argv: list[str] | None = None) -> int:
    """Solve and cache ground states: ``python benchmarks/spinglass.py --sizes 10,16``."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--sizes", default="10,16,20", help="torus sides L, e.g. 10,16")
    parser.add_argument("--seeds", default="1", help="instance seeds, e.g. 1,2")
    parser.add_argument("--time-limit", type=float, default=None, help="seconds per solve")
    args = parser.parse_args(argv)
    for L in (int(v) for v in args.sizes.split(",")):
        for seed in (int(v) for v in args.seeds.split(",")):
            p = solve_and_store(L, seed, time_limit=args.time_limit)
            print(f"L={L} seed={seed}: E={p.energy:g} proved={p.proved} gap={p.mip_gap:g} "
                  f"nodes={p.nodes} ({p.message})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
