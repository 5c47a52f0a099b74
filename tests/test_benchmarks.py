"""The benchmark scripts of benchmarks/: their pieces in-process (evaluation counting,
ERT, restart schedules, the RESULTS.md section writer, cocoex instances and f_opt) and
each script end to end on a tiny grid in a subprocess.

Needs the ``bench`` extra (cma, cmaes, coco-experiment, threadpoolctl); skipped without.
"""

from __future__ import annotations

import importlib
import inspect
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

for _package in ("cma", "cmaes", "cocoex", "threadpoolctl"):
    pytest.importorskip(_package)

import relax  # noqa: E402

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))
common = importlib.import_module("_common")
bbob = importlib.import_module("bbob")


def script(name: str, *args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BENCH / name), *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def sphere_plus_5(x):
    return float(np.sum(np.square(x))) + 5.0


# ------------------------------------------------------------------ evaluation counting
def test_objective_counts_and_stops_at_the_first_hit():
    obj = common.Objective(sphere_plus_5, fopt=5.0, budget=10, delta=1e-8)
    assert obj(np.ones(2)) == 7.0 and obj(np.full(2, 0.5)) == 5.5
    with pytest.raises(common.Stop) as stop:
        obj(np.zeros(2))
    assert stop.value.reason == "target" and (obj.hit, obj.count, obj.best) == (3, 3, 0.0)


def test_objective_budget_and_stop_passes_except_exception():
    obj = common.Objective(sphere_plus_5, fopt=5.0, budget=2)

    def swallowing_optimizer():
        for _ in range(5):
            try:
                obj(np.ones(2))
            except Exception:  # noqa: BLE001 - what optimizers do around f
                pass

    assert obj.run(swallowing_optimizer) == "budget"
    assert (obj.count, obj.hit) == (2, None)
    assert common.Objective(sphere_plus_5, 5.0, 9).run(lambda: None) == "optimizer"


def test_batch_objective_hit_row_budget_truncation_and_ladder():
    obj = common.BatchObjective(lambda X: np.sum(X**2, axis=1), 0.0, budget=7,
                                ladder=[1.0, 1e-2])
    obj.batch(np.array([[3.0], [2.0], [0.5]]))             # f = 9, 4, 0.25
    assert obj.count == 3 and obj.ladder_hits[1.0][0] == 3
    with pytest.raises(common.Stop) as stop:
        obj.batch(np.array([[1.0], [0.05], [0.0], [0.0]]))  # f = 1, 0.0025, 0, 0
    assert stop.value.reason == "target" and obj.hit == 6 == obj.count
    assert obj.ladder_hits[1e-2][0] == 5 and obj.ladder_hits[1e-8][0] == 6
    short = common.BatchObjective(lambda X: np.sum(X**2, axis=1), 0.0, budget=4)
    short.batch(np.ones((3, 2)))
    with pytest.raises(common.Stop, match="budget"):
        short.batch(np.ones((3, 2)))
    assert short.count == 4


# ------------------------------------------------------------------ statistics
def record(hit, evals):
    return {"hit": hit, "evals": evals}


def test_cell_stats_ert_counts_failures_at_their_spent_evaluations():
    cell = bbob.cell_stats([record(100, 100), record(300, 300), record(None, 1000)])
    assert (cell.runs, cell.solved, cell.median) == (3, 2, 200.0)
    assert cell.ert == (100 + 300 + 1000) / 2
    none = bbob.cell_stats([record(None, 50)])
    assert none.solved == 0 and none.median is None and math.isinf(none.ert)


def test_ratio_to_pycma_and_summaries():
    assert bbob.ratio(2.0, 4.0) == 0.5 and math.isinf(bbob.ratio(None, 4.0))
    assert math.isnan(bbob.ratio(3.0, None)) and math.isnan(bbob.ratio(3.0, math.inf))
    C = bbob.CellStats
    cells = {(1, 10): {"relax": C(3, 3, 80.0, 90.0), "pycma": C(3, 3, 100.0, 100.0)},
             (8, 10): {"relax": C(3, 2, 250.0, 900.0), "pycma": C(3, 3, 200.0, 200.0)},
             (15, 10): {"relax": C(3, 0, None, math.inf), "pycma": C(3, 1, 5.0, 50.0)}}
    core = bbob.core_summary(cells, "relax")
    assert f"geometric mean {math.sqrt(0.8 * 1.25):.2f} over 2 of 2 cells" in core
    assert "largest 1.25 (f8, d = 10)" in core and "unsolved: 1 of 6" in core
    outliers = bbob.ert_outliers(cells, "relax")
    assert "(2)" in outliers and "f8 d = 10 (4.50×)" in outliers and "f15 d = 10 (∞×)" in outliers
    assert bbob.f15_summary(cells, ["relax", "pycma"]) == ["f15, d = 10: relax 0/3, pycma 1/3"]


# ------------------------------------------------------------------ restarts
def test_ipop_doubles_the_population_up_to_the_restart_count():
    s = bbob.RestartSchedule(6, 2.0, 3, "ipop", np.random.default_rng(0))
    sizes = []
    while (run := s.next()) is not None:
        sizes.append(run[0])
        assert run[1] == 2.0 and math.isinf(run[2])
        s.record(run[3], 100)
    assert sizes == [6, 12, 24, 48]


def test_bipop_alternates_regimes_by_evaluations_spent():
    s = bbob.RestartSchedule(6, 2.0, 2, "bipop", np.random.default_rng(1))
    assert s.next() == (6, 2.0, math.inf, "first")
    s.record("first", 1000)                                  # counts as small budget
    assert s.next() == (12, 2.0, math.inf, "large")
    s.record("large", 3000)
    for spent in (1500, 600):                                # small: 1000 → 2500 → 3100
        lam, sigma, cap, regime = s.next()
        assert regime == "small" and 6 <= lam <= 12 and 0.02 <= sigma <= 2.0 and cap == 1500
        s.record(regime, spent)
    assert s.next() == (24, 2.0, math.inf, "large")          # 3100 >= 3000
    s.record("large", 5000)
    assert s.next() is None                                  # 2 large restarts made


def test_start_points_are_shared_and_in_the_box():
    a, b = bbob.start_points(0, 3, 5, 2), bbob.start_points(0, 3, 5, 2)
    first = a()
    assert np.array_equal(first, b()) and np.all(np.abs(first) <= 4.0)
    assert not np.array_equal(first, a()) and not np.array_equal(
        first, bbob.start_points(0, 3, 5, 3)())
    assert bbob.run_seed(0, 3, 5, 2) == bbob.run_seed(0, 3, 5, 2) < 2**31


# ------------------------------------------------------------------ cocoex
def test_cocoex_suite_option_selects_instance_ids():
    import cocoex

    suite = cocoex.Suite("bbob", "instances: 1-15", "function_indices: 1 dimensions: 2")
    assert [p.id_instance for p in suite] == list(range(1, 16))


@pytest.mark.parametrize("function", [1, 8, 15, 24])
def test_fopt_is_the_value_at_the_known_optimum(function, tmp_path, monkeypatch):
    import cocoex

    monkeypatch.chdir(tmp_path)  # best_parameter() writes ._bbob_problem_best_parameter.txt
    f, fopt = bbob.bbob_problem(function, 5, 7)
    assert f.id == f"bbob_f{function:03d}_i07_d05"
    xopt = np.asarray(cocoex.BareProblem("bbob", function, 5, 7).best_parameter())
    assert f(xopt) == pytest.approx(fopt, abs=1e-12)
    X = np.random.default_rng(0).uniform(-5, 5, (200, 5))
    assert min(f(x) for x in X) > fopt


# ------------------------------------------------------------------ RESULTS.md sections
def test_write_section_replaces_only_its_own_section(tmp_path):
    path = tmp_path / "R.md"
    path.write_text("# Benchmark results\n\n## A\n\nkeep a\n\n## B\n\nold b\n\n## C\n\nkeep c\n")
    common.write_section(path, "## B", "## B\n\nnew b\n")
    assert path.read_text() == ("# Benchmark results\n\n## A\n\nkeep a\n\n## B\n\nnew b\n"
                                "\n## C\n\nkeep c\n")
    common.write_section(path, "## D", "## D\n\nd\n")
    assert path.read_text().endswith("## C\n\nkeep c\n\n## D\n\nd\n")


def test_parse_ids():
    assert common.parse_ids("3,1-2, 7", "x") == [1, 2, 3, 7]
    for bad in ("a", "0-2", ""):
        with pytest.raises(Exception, match="--x"):
            common.parse_ids(bad, "x")


# ------------------------------------------------------------------ the scripts
@pytest.mark.parametrize("name", ["bbob.py", "overhead.py", "largescale.py"])
def test_help(name, tmp_path):
    proc = script(name, "--help", cwd=tmp_path)
    assert proc.returncode == 0 and "--quick" in proc.stdout


@pytest.mark.parametrize("args, message", [
    (["--dims", "7"], "--dims"), (["--functions", "25"], "--functions"),
    (["--methods", "nevergrad"], "--methods"), (["--budget", "0"], "--budget"),
    (["--instances", "x"], "--instances")])
def test_bbob_bad_input(args, message, tmp_path):
    proc = script("bbob.py", "--quick", "--jobs", "1", *args, cwd=tmp_path)
    assert proc.returncode == 2 and message in proc.stderr


def test_bbob_quick_writes_its_section_and_raw_records(tmp_path):
    results, raw = tmp_path / "R.md", tmp_path / "raw.json"
    results.write_text("# Benchmark results\n\n## Other\n\nuntouched\n")
    proc = script("bbob.py", "--quick", "--jobs", "1", "--results", results, "--raw", raw,
                  cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    text = results.read_text()
    assert text.startswith("# Benchmark results\n\n## Other\n\nuntouched\n\n")
    assert bbob.SECTION in text and "| f1 | 2 |" in text and "- command: `python" in text
    records = json.loads(raw.read_text())["records"]
    assert len(records) == 2 * 2 * 3                       # f1, f2 × i1, i2 × 3 methods
    pycma_f1 = [r for r in records if r["method"] == "pycma" and r["function"] == 1]
    assert all(r["stop"] == "target" and r["hit"] == r["evals"] <= 1000 for r in pycma_f1)
    assert {r["instance"] for r in records} == {1, 2}
    assert not (tmp_path / "outcmaes").exists()


def test_bbob_restarts_of_pycma_and_cmaes(tmp_path):
    raw = tmp_path / "raw.json"
    proc = script("bbob.py", "--functions", "15", "--dims", "2", "--instances", "1",
                  "--methods", "pycma,cmaes", "--budget", "1500", "--jobs", "1", "--no-write",
                  "--raw", raw, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    records = json.loads(raw.read_text())["records"]
    assert [r["restarts"] for r in records] == [9, 9]
    assert all(r["stop"] in ("target", "budget") and r["evals"] <= 3000 for r in records)


def test_bbob_relax_restarts_need_support(tmp_path):
    proc = script("bbob.py", "--functions", "15", "--dims", "2", "--instances", "1",
                  "--methods", "relax", "--budget", "50", "--jobs", "1", "--no-write",
                  cwd=tmp_path)
    if "restarts" in inspect.signature(relax.minimize).parameters:
        assert proc.returncode == 0, proc.stderr
    else:
        assert proc.returncode == 2 and "--restarts-on" in proc.stderr


@pytest.mark.slow
def test_bbob_is_deterministic_across_job_counts(tmp_path):
    runs = []
    for jobs in (1, 2):
        raw = tmp_path / f"raw{jobs}.json"
        proc = script("bbob.py", "--quick", "--jobs", jobs, "--no-write", "--raw", raw,
                      cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        runs.append(json.loads(raw.read_text())["records"])
    assert runs[0] == runs[1]


def test_overhead_quick(tmp_path):
    results = tmp_path / "R.md"
    proc = script("overhead.py", "--quick", "--results", results, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    text = results.read_text()
    assert "## Optimizer overhead" in text and "| 20 |" in text and "peak memory" in text


@pytest.mark.slow
def test_largescale_quick(tmp_path):
    results, raw = tmp_path / "R.md", tmp_path / "raw.json"
    proc = script("largescale.py", "--quick", "--results", results, "--raw", raw, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "| ellipsoid | 50 |" in results.read_text()
    records = json.loads(raw.read_text())["records"]
    pycma_sphere = [r for r in records if r["method"] == "pycma" and r["function"] == "sphere"]
    assert all(r["stop"] == "target" and r["hit"] == r["evals"] for r in pycma_sphere)
