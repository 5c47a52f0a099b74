"""The relax command through its entry point: a subprocess (``python -m relax``) where the
process matters (installation, missing packages, the terminal), click's runner on the same
``main`` otherwise.  Each trap of issue 16 that was a real output has a test here."""

import csv
import json
import os
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from relax.cli import main

COMMANDS = ("list", "run", "compare", "bbob", "pbo", "flows")
BLOCK_MATPLOTLIB = ("import sys; sys.modules['matplotlib'] = None; "
                    "from relax.cli import main; main()")


def relax(*args, check=True, cwd=None, env=None, code=None):
    """``python -m relax ARGS`` (or ``python -c CODE ARGS``) in a subprocess."""
    head = ["-m", "relax"] if code is None else ["-c", code]
    proc = subprocess.run([sys.executable, *head, *map(str, args)], capture_output=True,
                          text=True, timeout=600, cwd=cwd, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"relax {' '.join(map(str, args))} failed:\n{proc.stderr}")
    return proc


def invoke(*args, check=True):
    """``relax ARGS`` through click's runner (stdout and stderr kept apart)."""
    result = CliRunner().invoke(main, [str(a) for a in args], prog_name="relax")
    if check and result.exit_code != 0:
        raise AssertionError(f"relax {' '.join(map(str, args))} failed:\n{result.stderr}"
                             f"{result.exception!r}")
    return result


def assert_one_line_error(code, stderr, message):
    assert code == 2, stderr
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ") and message in lines[0], stderr


# ------------------------------------------------------------------ entry point
def test_help_lists_every_command():
    out = relax("--help").stdout
    for cmd in COMMANDS:
        assert cmd in out
    for cmd in COMMANDS:
        sub = invoke(cmd, "--help").stdout
        assert "Usage: relax " + cmd in sub and "--help" in sub


def test_console_script_is_installed():
    exe = shutil.which("relax")
    if exe is None:
        pytest.skip("the relax console script is not on PATH (package not installed)")
    assert subprocess.run([exe, "--version"], capture_output=True, text=True).returncode == 0


def test_compare_help_states_one_budget():
    """The option said 10^4·dim while the command said 5000·dim."""
    text = " ".join(invoke("compare", "--help").stdout.split())
    assert "5000 * dim per run" in text and "5000·dim" in text
    assert "10^4" not in text


def test_usage_errors_are_one_line_through_the_entry_point():
    p = relax("run", "sphere", "--dim", 0, check=False)
    assert_one_line_error(p.returncode, p.stderr, "--dim")
    assert "relax run --help" in p.stderr


# ------------------------------------------------------------- one-line errors
@pytest.mark.parametrize("args,message", [
    (("run", "spherez", "-n", 3), "unknown problem 'spherez'; did you mean 'sphere'"),
    (("run", "rosenbrock", "-n", 1), "rosenbrock"),
    (("run", "rosenbrock", "-n", 3, "--model", "bernoulli"), "does not fit the continuous"),
    (("run", "onemax", "-n", 3, "--model", "gaussian"), "does not fit the binary"),
    (("run", "sphere", "-n", 3, "-o", "nonsense"), "--option expects key=value"),
    (("run", "sphere", "-n", 3, "--step", "huge"), "step must be"),
    (("run", "maxsat", "-o", "path=/nonexistent.cnf"), "nonexistent"),
    (("run", "sphere", "-n", 3, "--bogus"), "No such option"),
    # options a model or a rule would ignore
    (("run", "onemax", "-n", 3, "--sigma0", 2), "--sigma0"),
    (("run", "onemax", "-n", 3, "--model", "ising", "--sigma0", 2), "--sigma0"),
    (("run", "onemax", "-n", 9, "--graph", "torus"), "--graph"),
    (("run", "sphere", "-n", 3, "--graph", "chain"), "--graph"),
    (("run", "sphere", "-n", 3, "--step", 0.5, "--epsilon", 0.1), "--epsilon"),
    (("run", "sphere", "-n", 3, "--step", "decay", "--epsilon", 0.1), "--epsilon"),
    (("run", "onemax", "-n", 10, "--model", "ising", "--graph", "torus"), "square"),
    (("compare", "sphere", "-n", 3, "--sigma0", 1, "--model", "bernoulli"), "does not fit"),
    (("compare", "sphere", "-n", 3, "--methods", "natural-mu"), "unknown method 'natural-mu'"),
    # output paths and formats, checked before the run
    (("run", "sphere", "-n", 3, "--history", "/nonexistent/dir/h.csv"), "does not exist"),
    (("run", "sphere", "-n", 3, "--plot", "/nonexistent/dir/p.png"), "does not exist"),
    (("run", "sphere", "-n", 3, "--plot", "p.xyz"), "unknown figure format '.xyz'"),
    (("run", "sphere", "-n", 3, "--plot", "p.png", "--format", "pdf"), "drop one"),
    (("run", "sphere", "-n", 3, "--format", "pdf"), "--format pdf applies"),
    (("compare", "sphere", "-n", 3, "--plot", "c.jpeg"), "unknown figure format"),
    # suites: every id checked against the suite
    (("bbob", "--functions", 25, "--dims", 3), "25 is not in BBOB's functions 1-24"),
    (("bbob", "--functions", 1, "--dims", 7), "7 is not in BBOB's dimensions"),
    (("bbob", "--instances", "0-3"), "positive ids"),
    (("bbob", "--instances", "5-1"), "empty range"),
    (("bbob", "--functions", "1,x"), "expects numbers and ranges"),
    (("bbob", "--model", "bernoulli"), "does not fit the continuous"),
    (("pbo", "--functions", 26), "26 is not in PBO's functions 1-25"),
    (("pbo", "--instances", 101), "101 is not in PBO's instances 1-100"),
    (("pbo", "--functions", 23, "--dims", 7), "NQueens"),
    (("pbo", "--model", "gaussian"), "does not fit the binary"),
    (("pbo", "--sigma0", 5), "No such option '--sigma0'"),
    (("pbo", "--model", "bernoulli", "--graph", "torus"), "--graph"),
    (("run", "sphere", "-n", 3, "--restart", "bipop"), "add --restarts"),
    (("bbob", "--restart", "bipop"), "add --restarts"),
    (("flows", "sextic"), "unknown case 'sextic'"),
    (("flows",), "--list"),
])
def test_user_errors_are_one_line(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke(*args, check=False)
    assert_one_line_error(result.exit_code, result.stderr, message)
    assert result.stdout == ""  # nothing ran
    assert list(tmp_path.iterdir()) == []  # and nothing was written


def test_suite_errors_come_before_the_output_folder(tmp_path):
    out = tmp_path / "results"
    result = invoke("bbob", "--functions", "1,25", "--out", out, check=False)
    assert_one_line_error(result.exit_code, result.stderr, "25")
    assert not out.exists()
    result = invoke("pbo", "--functions", "1,23", "--dims", "16,7", "--out", out, check=False)
    assert_one_line_error(result.exit_code, result.stderr, "does not accept --dims 7")
    assert not out.exists()


@pytest.mark.parametrize("args", [
    ("run", "sphere", "-n", 3, "--plot", "p.png"),
    ("compare", "sphere", "-n", 2, "--seeds", 1, "--plot", "c.png"),
    ("flows", "toy"),
])
def test_missing_matplotlib_fails_before_the_run_with_a_quoted_fix(args, tmp_path):
    p = relax(*args, check=False, cwd=tmp_path, code=BLOCK_MATPLOTLIB)
    assert_one_line_error(p.returncode, p.stderr, 'pip install "relax[plot]"')
    assert p.stdout == "" and list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------- run
def test_run_json_history_and_reproducibility(tmp_path):
    args = ("run", "sphere", "--dim", 5, "--seed", 3, "--json")
    out = json.loads(invoke(*args, "--history", tmp_path / "h.csv").stdout)
    assert out["problem"] == "sphere" and out["dim"] == 5 and out["success"]
    assert out["fun"] <= 1e-8 and len(out["x"]) == 5 and out["nfev"] > 0
    assert out["seed"] == 3 and out["seed_drawn"] is False
    assert out["model"] == "gaussian" and out["chart"] in ("theta", "eta")
    with open(tmp_path / "h.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == out["nit"]
    assert {"iteration", "nfev", "best_f", "mean_f", "rho", "kl", "spread"} <= set(rows[0])
    assert int(rows[-1]["nfev"]) == out["nfev"]
    assert float(rows[-1]["best_f"]) == out["fun"]
    again = json.loads(invoke(*args).stdout)
    assert again["x"] == out["x"] and again["nfev"] == out["nfev"]


def test_run_with_restarts_records_every_run():
    out = json.loads(invoke("run", "rastrigin", "-n", 6, "--seed", 1, "--restarts", 4,
                            "--restart", "bipop", "--maxfev", 20000, "--json").stdout)
    runs = out["restarts_run"]
    assert out["restarts"] == 4 and out["restart"] == "bipop" and len(runs) >= 2
    assert sum(r["nfev"] for r in runs) == out["nfev"] <= 20000
    assert {"regime", "popsize", "nfev", "nit", "best_f", "stop"} <= set(runs[0])


def test_unseeded_run_records_the_seed_it_drew():
    out = json.loads(invoke("run", "onemax", "-n", 20, "--json").stdout)
    assert out["seed_drawn"] is True and isinstance(out["seed"], int)
    again = json.loads(invoke("run", "onemax", "-n", 20, "--json", "--seed", out["seed"]).stdout)
    assert again["seed_drawn"] is False
    assert again["x"] == out["x"] and again["nfev"] == out["nfev"]
    text = invoke("run", "onemax", "-n", 20).stdout
    assert "(drawn; repeat with --seed " in text


def test_run_text_shows_x_abbreviated_for_large_n():
    small = invoke("run", "sphere", "-n", 3, "--seed", 0).stdout
    assert "x = [" in small and "…" not in small
    large = invoke("run", "onemax", "-n", 50, "--seed", 0).stdout
    assert "x = [+1, +1, +1, …, +1, +1, +1] (n = 50)" in large


def test_run_binary_with_options_and_text_output():
    p = relax("run", "trap", "-n", 10, "--seed", 0, "-o", "k=5", "--maxfev", 20000)
    assert "best f =" in p.stdout and "known optimum 0" in p.stdout
    # not a terminal: progress degrades to plain lines on stderr, in f - f_opt
    assert "trap[10]" in p.stderr and "\r" not in p.stderr and "f - f_opt" in p.stderr


@pytest.mark.parametrize("gradient,param", [("vanilla", "theta"), ("natural", "eta")])
def test_run_each_direction(gradient, param):
    out = json.loads(invoke("run", "onemax", "-n", 30, "--gradient", gradient, "--param", param,
                            "--seed", 1, "--json").stdout)
    assert out["gradient"] == gradient and out["param"] == param and out["fun"] == 0
    assert out["chart"] == param


def test_run_honours_the_model_and_records_it():
    out = json.loads(invoke("run", "onemax", "-n", 9, "--model", "ising", "--graph",
                            "torus", "--seed", 0, "--json", "--maxiter", 3).stdout)
    assert out["model"] == "ising" and out["graph"] == "torus" and "sigma0" not in out
    out = json.loads(invoke("run", "sphere", "-n", 4, "--model", "diagonal", "--sigma0", 0.3,
                            "--seed", 0, "--json", "--maxiter", 3).stdout)
    assert out["model"] == "diagonal" and out["sigma0"] == 0.3 and "graph" not in out


def test_run_writes_each_figure_format(tmp_path):
    pytest.importorskip("matplotlib")
    invoke("run", "sphere", "-n", 3, "--seed", 0, "--plot", tmp_path / "a.pdf")
    assert (tmp_path / "a.pdf").read_bytes()[:4] == b"%PDF"
    invoke("run", "sphere", "-n", 3, "--seed", 0, "--plot", tmp_path / "b", "--format", "svg")
    assert b"<svg" in (tmp_path / "b.svg").read_bytes()[:400]


# --------------------------------------------------------------------- compare
def test_compare_json_table_and_progress():
    result = invoke("compare", "onemax", "-n", 20, "--seeds", 2, "--json")
    rows = json.loads(result.stdout)
    assert [r["method"] for r in rows] == ["vanilla-theta", "natural-theta", "vanilla-eta",
                                           "natural-eta"]
    for r in rows:
        assert r["runs"] == 2 and r["seeds"] == [0, 1] and 0 <= r["success"] <= 1
    natural_eta = rows[-1]
    assert natural_eta["success"] == 1 and natural_eta["median_final_f"] == 0
    progress = [line for line in result.stderr.splitlines() if "runs done" in line]
    assert len(progress) == 8 and progress[-1].startswith("onemax[20]: 8/8 runs done")
    text = invoke("compare", "sphere", "-n", 3, "--seeds", 2, "--methods", "natural-theta",
                  "--quiet").stdout
    assert "natural-theta" in text and "100%" in text


def test_compare_figure_has_every_seed(tmp_path):
    pytest.importorskip("matplotlib")
    invoke("compare", "sphere", "-n", 2, "--seeds", 3, "--methods",
           "natural-theta,natural-eta", "--plot", tmp_path / "c.png", "--jobs", 1, "--quiet")
    assert (tmp_path / "c.png").stat().st_size > 10_000


# ------------------------------------------------------------------------ list
def test_list_json_has_every_problem_and_its_options():
    rows = json.loads(invoke("list", "--json").stdout)
    names = {r["name"] for r in rows}
    assert {"sphere", "rosenbrock", "onemax", "maxsat", "spin_glass"} <= names
    assert {r["domain"] for r in rows} == {"real", "binary"}
    options = {r["name"]: r["options"] for r in rows}
    assert options["sphere"] == ["shift", "rotate"] and options["onemax"] == []
    assert "rosenbrock" in invoke("list", "--domain", "real").stdout


@pytest.mark.parametrize("columns", [60, 160])
def test_list_fits_the_terminal_and_shows_options(columns):
    env = dict(os.environ, COLUMNS=str(columns))
    out = relax("list", env=env).stdout
    assert max(len(line) for line in out.splitlines()) <= columns
    assert "options" in out and "rotate" in out and "lattice" in out


# ------------------------------------------------------------------ the suites
def test_bbob_uses_coco_instance_ids_and_reports_f_minus_fopt(tmp_path):
    pytest.importorskip("cocoex")
    args = ("bbob", "--functions", 1, "--dims", 2, "--instances", "6,16", "--budget", 300,
            "--seed", 0, "--out", tmp_path)
    out = relax(*args).stdout
    assert "bbob_f001_i06_d02: f - f_opt = " in out and "bbob_f001_i16_d02" in out
    assert out.count("(final target hit)") == 2 and "best f =" not in out
    first = tmp_path / "exdata" / "relax-gaussian-natural-eta"
    assert f"COCO data in {first}\n" in out
    info = (first / "bbobexp_f1.info").read_text()
    assert "model=gaussian" in info and "seed=0" in info and "budget=300*dim" in info
    assert " 6:" in info and "16:" in info  # the instances COCO logged
    again = relax(*args).stdout  # COCO does not overwrite: it writes to <name>-0001
    assert f"COCO data in {first}-0001\n" in again
    assert (first.parent / f"{first.name}-0001").is_dir()


def test_bbob_records_the_chosen_model(tmp_path):
    pytest.importorskip("cocoex")
    out = relax("bbob", "--functions", 1, "--dims", 2, "--instances", 1, "--budget", 50,
                "--model", "diagonal", "--sigma0", 1.5, "--out", tmp_path).stdout
    (folder,) = (tmp_path / "exdata").iterdir()
    assert folder.name.startswith("relax-diagonal-natural-")
    info = (folder / "bbobexp_f1.info").read_text()
    assert "model=diagonal" in info and "sigma0=1.5" in info
    assert "seed " in out  # drawn and printed


@pytest.mark.slow
def test_bbob_default_instances_satisfy_cocopp(tmp_path):
    pytest.importorskip("cocoex")
    cocopp = pytest.importorskip("cocopp")
    relax("bbob", "--functions", 1, "--dims", 2, "--budget", 20, "--seed", 0,
          "--out", tmp_path)
    folder = tmp_path / "exdata" / "relax-gaussian-natural-eta"
    with pytest.warns() as caught:
        datasets = cocopp.load(str(folder))
    assert not [w for w in caught if "instances" in str(w.message)]
    (ds,) = datasets
    assert ds.funcId == 1 and ds.dim == 2 and ds.instancenumbers == list(range(1, 16))
    assert ds.consistency_check()


def test_pbo_honours_the_model_with_ioh_logger(tmp_path):
    pytest.importorskip("ioh")
    p = relax("pbo", "--functions", 1, "--dims", 9, "--instances", 1, "--model", "ising",
              "--graph", "torus", "--seed", 2, "--budget", 20, "--out", tmp_path)
    assert "OneMax n=9 i=1: best 9 (optimum 9) after" in p.stdout
    folder = tmp_path / "relax-ising-natural-eta"
    assert f"IOH data in {folder}\n" in p.stdout
    meta = json.loads((folder / "IOHprofiler_f1_OneMax.json").read_text())
    attributes = {k: v for d in meta["experiment_attributes"] for k, v in d.items()}
    assert attributes["model"] == "ising" and attributes["graph"] == "torus"
    assert attributes["seed"] == "2"


@pytest.mark.slow
def test_pbo_output_is_read_by_iohinspector(tmp_path):
    pytest.importorskip("ioh")
    iohinspector = pytest.importorskip("iohinspector")
    relax("pbo", "--functions", "1,2", "--dims", 16, "--instances", "1,2", "--budget", 30,
          "--seed", 0, "--out", tmp_path)
    manager = iohinspector.DataManager()
    manager.add_folder(str(tmp_path / "relax-bernoulli-natural-eta"))
    overview = manager.overview
    assert overview.height == 4
    assert sorted(overview["function_id"].to_list()) == [1, 1, 2, 2]
    assert set(overview["model"].to_list()) == {"bernoulli"}
    assert set(overview["algorithm_name"].to_list()) == {"relax-bernoulli-natural-eta"}
