"""The relax command through its real entry point, in a subprocess."""

import csv
import json
import shutil
import subprocess
import sys

import pytest

COMMANDS = ("list", "run", "compare", "bbob", "pbo")


def relax(*args, check=True, cwd=None):
    proc = subprocess.run([sys.executable, "-m", "relax", *map(str, args)], capture_output=True,
                          text=True, timeout=300, cwd=cwd)
    if check and proc.returncode != 0:
        raise AssertionError(f"relax {' '.join(map(str, args))} failed:\n{proc.stderr}")
    return proc


def test_help_lists_every_command():
    out = relax("--help").stdout
    for cmd in COMMANDS:
        assert cmd in out
    for cmd in COMMANDS:
        sub = relax(cmd, "--help").stdout
        assert "Usage: relax " + cmd in sub and "--help" in sub


def test_console_script_is_installed():
    exe = shutil.which("relax")
    if exe is None:
        pytest.skip("the relax console script is not on PATH (package not installed)")
    assert subprocess.run([exe, "--version"], capture_output=True, text=True).returncode == 0


def test_list_json_has_every_problem():
    rows = json.loads(relax("list", "--json").stdout)
    names = {r["name"] for r in rows}
    assert {"sphere", "rosenbrock", "onemax", "maxsat", "spin_glass"} <= names
    assert {r["domain"] for r in rows} == {"real", "binary"}
    assert "rosenbrock" in relax("list", "--domain", "real").stdout


def test_run_json_history_and_reproducibility(tmp_path):
    args = ("run", "sphere", "--dim", 5, "--seed", 3, "--json")
    out = json.loads(relax(*args, "--history", tmp_path / "h.csv").stdout)
    assert out["problem"] == "sphere" and out["dim"] == 5 and out["success"]
    assert out["fun"] <= 1e-8 and len(out["x"]) == 5 and out["nfev"] > 0
    with open(tmp_path / "h.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == out["nit"]
    assert set(rows[0]) == {"iteration", "nfev", "best_f", "mean_f", "rho", "kl", "spread"}
    assert int(rows[-1]["nfev"]) == out["nfev"]
    assert float(rows[-1]["best_f"]) == out["fun"]
    again = json.loads(relax(*args).stdout)
    assert again["x"] == out["x"] and again["nfev"] == out["nfev"]


def test_run_binary_with_options_and_text_output():
    p = relax("run", "trap", "-n", 10, "--seed", 0, "-o", "k=5", "--maxfev", 20000)
    assert "best f =" in p.stdout and "known optimum 0" in p.stdout
    # not a terminal: progress degrades to plain lines on stderr
    assert "trap[10]" in p.stderr and "\r" not in p.stderr


@pytest.mark.parametrize("gradient,param", [("vanilla", "theta"), ("natural", "eta")])
def test_run_each_direction(gradient, param):
    out = json.loads(relax("run", "onemax", "-n", 30, "--gradient", gradient, "--param", param,
                           "--seed", 1, "--json").stdout)
    assert out["gradient"] == gradient and out["param"] == param and out["fun"] == 0


@pytest.mark.parametrize("args,message", [
    (("run", "spherez", "-n", 3), "unknown problem 'spherez'; did you mean 'sphere'"),
    (("run", "rosenbrock", "-n", 1), "rosenbrock"),
    (("run", "rosenbrock", "-n", 3, "--model", "bernoulli"), "does not fit the real domain"),
    (("run", "onemax", "-n", 3, "--model", "gaussian"), "does not fit the binary domain"),
    (("run", "sphere", "-n", 3, "-o", "nonsense"), "--option expects key=value"),
    (("run", "sphere", "-n", 3, "--step", "huge"), "step must be"),
    (("compare", "sphere", "-n", 3, "--methods", "natural-mu"), "unknown method 'natural-mu'"),
    (("run", "maxsat", "-o", "path=/nonexistent.cnf"), "nonexistent"),
])
def test_user_errors_are_one_line(args, message):
    p = relax(*args, check=False)
    assert p.returncode == 2
    assert "Traceback" not in p.stderr
    lines = [line for line in p.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], p.stderr


def test_click_usage_errors_exit_non_zero_without_traceback():
    p = relax("run", "sphere", "--dim", 0, check=False)
    assert p.returncode == 2 and "Traceback" not in p.stderr and "--dim" in p.stderr


def test_compare_json_table():
    rows = json.loads(relax("compare", "onemax", "-n", 20, "--seeds", 2, "--json").stdout)
    assert [r["method"] for r in rows] == ["vanilla-theta", "natural-theta", "vanilla-eta",
                                           "natural-eta"]
    for r in rows:
        assert r["runs"] == 2 and 0 <= r["success"] <= 1
    natural_eta = rows[-1]
    assert natural_eta["success"] == 1 and natural_eta["median_final_f"] == 0
    text = relax("compare", "sphere", "-n", 3, "--seeds", 2, "--methods", "natural-theta").stdout
    assert "natural-theta" in text and "100%" in text


def test_pbo_with_ioh_logger(tmp_path):
    pytest.importorskip("ioh")
    p = relax("pbo", "--functions", "1", "--dims", 12, "--instances", 1, "--out", tmp_path)
    assert "OneMax n=12 i=1: best 12 (optimum 12)" in p.stdout
    assert list(tmp_path.glob("relax-*/IOHprofiler_f1_OneMax.json"))


def test_bbob_with_coco_observer(tmp_path):
    pytest.importorskip("cocoex")
    p = relax("bbob", "--functions", "1", "--dims", 2, "--instances", 1, "--budget", 2000,
              "--out", tmp_path)
    assert "bbob_f001_i01_d02" in p.stdout and "final target hit" in p.stdout
    assert list(tmp_path.glob("exdata/relax-*/bbobexp_f1.info"))
