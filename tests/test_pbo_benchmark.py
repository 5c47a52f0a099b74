"""The PBO / spin-glass benchmark (benchmarks/pbo.py, peers_binary.py, spinglass.py): the
textbook algorithms, the counted objective they run on, the MILP ground states against
enumeration, ioh's interaction graphs, the cells ioh does not define, ERT, and the script
end to end in --quick mode.

Needs ioh (test extra); the nevergrad parts need the bench extra and are skipped without.
"""

from __future__ import annotations

import importlib
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ioh = pytest.importorskip("ioh")

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))
peers = importlib.import_module("peers_binary")
spinglass = importlib.import_module("spinglass")
pbo = importlib.import_module("pbo")


def onemax(X):
    """−(number of +1 entries): minimum −n at all +1."""
    return -np.sum(np.asarray(X) > 0, axis=1).astype(float)


def leading_ones(X):
    """−(length of the leading run of +1 entries)."""
    X = np.asarray(X) > 0
    return -np.argmin(np.c_[X, np.zeros(len(X), bool)], axis=1).astype(float)


def all_spins(n: int) -> np.ndarray:
    return 1.0 - 2.0 * ((np.arange(2**n)[:, None] >> np.arange(n)) & 1)


# ------------------------------------------------------------------- counted objective
def test_run_counts_up_to_the_first_hit_in_a_batch():
    def loop(ev):
        ev(-np.ones((4, 3)))                                   # 4 evaluations, f = 0
        ev(np.array([[-1, -1, -1], [1, 1, -1], [1, 1, 1], [1, 1, 1]]))   # hit at row 3
        raise AssertionError("the run goes on after the target was reached")

    out = peers.run(loop, onemax, budget=100, target=-3)
    assert (out.hit, out.nfev, out.best) == (7, 7, -3.0)


def test_run_truncates_the_last_batch_to_the_budget():
    seen = []

    def loop(ev):
        while True:
            seen.append(len(ev(-np.ones((4, 3)))))

    out = peers.run(loop, onemax, budget=10, target=-3)
    assert (out.hit, out.nfev, out.best, seen) == (None, 10, 0.0, [4, 4])


def test_run_rejects_a_bad_budget():
    with pytest.raises(ValueError, match="budget"):
        peers.run(lambda ev: None, onemax, budget=0, target=0)


# ----------------------------------------------------------------- textbook algorithms
@pytest.mark.parametrize("name", sorted(peers.TEXTBOOK))
def test_textbook_algorithms_solve_onemax_32(name):
    out = peers.TEXTBOOK[name](onemax, 32, 20_000, -32.0, np.random.default_rng(1))
    assert out.hit is not None and out.hit == out.nfev and out.best == -32.0
    # OneMax from a uniform start needs more than the 1 + n/2 flips of a lucky first
    # sample; far fewer than the budget for all four (e n ln n ≈ 300 for the EA)
    assert 20 < out.hit < 5_000


@pytest.mark.parametrize("name", sorted(peers.TEXTBOOK))
def test_textbook_algorithms_stop_at_the_budget(name):
    out = peers.TEXTBOOK[name](leading_ones, 64, 300, -64.0, np.random.default_rng(2))
    assert out.hit is None and out.nfev == 300 and -64.0 < out.best < 0.0


def test_textbook_algorithms_are_reproducible():
    a = peers.umda(onemax, 32, 5_000, -32.0, np.random.default_rng(7))
    b = peers.umda(onemax, 32, 5_000, -32.0, np.random.default_rng(7))
    assert a == b


def test_default_sizes_and_bad_input():
    assert peers.umda_sizes(64) == (13, 52) and peers.cga_k(64) == 34
    with pytest.raises(ValueError, match="mu must be at most lam"):
        peers.umda(onemax, 8, 100, -8.0, np.random.default_rng(0), mu=10, lam=5)
    with pytest.raises(ValueError, match="rate"):
        peers.pbil(onemax, 8, 100, -8.0, np.random.default_rng(0), rate=1.5)
    with pytest.raises(ValueError, match="n must be"):
        peers.cga(onemax, 1, 100, -1.0, np.random.default_rng(0))


# ------------------------------------------------------------------------ spin glasses
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_milp_ground_state_equals_enumeration_on_4x4(seed):
    edges, J = spinglass.couplings(4, seed)
    proof = spinglass.ground_state(4, edges, J)
    energies = spinglass.energy(all_spins(16), edges, J)
    assert proof.proved and proof.energy == energies.min()
    assert spinglass.energy(proof.state, edges, J)[0] == proof.energy


def test_energy_matches_relax_spin_glass():
    import relax.problems as rp

    edges, J = spinglass.couplings(5, 3)
    X = np.random.default_rng(0).choice([-1.0, 1.0], size=(50, 25))
    p = rp.spin_glass([tuple(e) for e in edges], J)
    np.testing.assert_array_equal(spinglass.energy(X, edges, J), p.f(X))


def test_plaquettes_are_the_4_cycles_of_the_torus():
    L = 5
    edges = np.array(spinglass.couplings(L, 0)[0])
    squares = spinglass.plaquettes(L)
    assert len(squares) == L * L
    used = np.zeros(len(edges), int)
    for sq in squares:
        degree = np.bincount(edges[list(sq)].ravel(), minlength=L * L)
        assert sorted(degree[degree > 0]) == [2, 2, 2, 2]     # a simple 4-cycle
        used[list(sq)] += 1
    assert np.all(used == 2)                                  # each edge in two squares


@pytest.mark.parametrize("file", sorted(spinglass.DATA.glob("spinglass_L*_s*.json")),
                         ids=lambda p: p.stem)
def test_cached_ground_states_are_checked(file):
    rec = json.loads(file.read_text())
    inst = spinglass.load_instance(rec["L"], rec["seed"])
    assert inst(inst.state)[0] == inst.energy == rec["energy"]
    assert rec["solver"]["proved"] and rec["solver"]["mip_gap"] == 0.0
    # the proof: HiGHS's dual bound is within 1 of the energy, and E is an integer
    assert math.ceil(rec["solver"]["dual_bound_energy"] - 1e-6) == inst.energy


def test_tampered_cache_is_rejected(tmp_path):
    file = spinglass.path(10, 1)
    rec = json.loads(file.read_text())
    rec["energy"] -= 4.0
    (tmp_path / file.name).write_text(json.dumps(rec))
    with pytest.raises(ValueError, match="does not have the stored energy"):
        spinglass.load_instance(10, 1, tmp_path)
    rec["energy"] += 4.0
    rec["solver"]["dual_bound_energy"] -= 2.0          # HiGHS would not have proved it
    (tmp_path / file.name).write_text(json.dumps(rec))
    with pytest.raises(ValueError, match="does not prove"):
        spinglass.load_instance(10, 1, tmp_path)
    with pytest.raises(FileNotFoundError, match="spinglass.py --sizes 12"):
        spinglass.load_instance(12, 1, tmp_path)
    with pytest.raises(ValueError, match="L must be an integer >= 3"):
        spinglass.couplings(2, 0)


# ------------------------------------------------------------------------------- PBO
@pytest.mark.parametrize("fid", [19, 20, 21])
def test_ioh_ising_problems_live_on_the_graphs_given_to_relax(fid):
    """ioh's f(z) counts agreeing neighbours: f = Σ_edges (1 + x_i x_j)/2."""
    prob = pbo.pbo_problem(fid, 64)
    e = np.array(prob.interactions)
    X = np.random.default_rng(fid).choice([-1.0, 1.0], size=(200, 64))
    agree = (len(e) + np.sum(X[:, e[:, 0]] * X[:, e[:, 1]], axis=1)) / 2.0
    np.testing.assert_array_equal(-prob.f(X), agree)
    assert prob.optimum == len(e) and prob.f(np.ones((1, 64)))[0] <= prob.target


def test_undefined_cells():
    assert pbo.undefined(1, 64) is None and pbo.undefined(24, 100) is None
    assert "no optimum" in pbo.undefined(18, 64) and "no optimum" in pbo.undefined(25, 100)
    assert "L*L" in pbo.undefined(20, 50) and "L*L" in pbo.undefined(23, 8)
    assert "not the maximum" in pbo.undefined(24, 64)
    with pytest.raises(ValueError, match="1..25"):
        pbo.undefined(26, 64)


def test_ioh_concatenated_trap_optimum_is_wrong_when_5_does_not_divide_n():
    p = ioh.get_problem(24, instance=1, dimension=64, problem_class=ioh.ProblemClass.PBO)
    z = np.ones(64, dtype=int)
    z[48:] = 0
    assert p(z.tolist()) > p.optimum.y


def test_cell_ert_and_median():
    cell = pbo.Cell.of([100, None, 300], budget=1000)
    assert (cell.solved, cell.runs, cell.ert, cell.median) == (2, 3, 700.0, 300)
    assert cell.text() == "2/3 · 700 · 300"
    none = pbo.Cell.of([None, None], budget=50)
    assert math.isinf(none.ert) and math.isinf(none.median)
    cells = {"ea": pbo.Cell.of([10, 20], 100), "umda": pbo.Cell.of([5, None], 100),
             "relax-bernoulli": pbo.Cell.of([1, 1], 100)}
    assert pbo.best_peer(cells) == "ea"                   # ERT 15 < 105; relax is no peer


def test_relax_runs_are_counted_by_the_harness():
    rec = pbo.run_one(pbo.Spec("pbo", 1, 36), "relax-bernoulli", 1, 5_000, {})
    assert rec["end"] == "target" and rec["hit"] == rec["nfev"] and rec["best"] <= -36


@pytest.mark.slow
def test_quick_run_end_to_end(tmp_path):
    pytest.importorskip("nevergrad")
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\n## Other\n\nkept\n")
    raw = tmp_path / "raw.json"
    proc = subprocess.run([sys.executable, str(BENCH / "pbo.py"), "--quick", "--jobs", "2",
                           "--results", str(results), "--raw", str(raw)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = results.read_text()
    assert "## Other\n\nkept\n" in text and text.count(pbo.SECTION) == 1
    runs = json.loads(raw.read_text())["runs"]
    # 3 problems x 9 methods (relax Ising on the torus and the spin glass only) x 2 seeds
    assert len(runs) == (3 * 9 + 2) * 2
    for r in runs:
        assert r["nfev"] <= 500 and (r["hit"] is None or r["hit"] == r["nfev"])
    assert all(r["end"] == "target" for r in runs
               if r["problem"] == "OneMax" and r["method"] in ("ea", "umda"))
