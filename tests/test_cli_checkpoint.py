"""The command line under interruption: `relax run` killed (SIGKILL) anywhere — during a
checkpoint write included — and resumed ends as the uninterrupted run; SIGINT and SIGTERM
print the best result so far and exit 130; `relax compare` keeps its finished runs; f on
workers or a Dask cluster gives the serial result."""

import csv
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from test_cli import assert_one_line_error, invoke

from relax.checkpoint import read
from relax.cli.build import Method
from relax.cli.compare import run_all
from relax.cli.progress import Counter

RUN = ("run", "rosenbrock", "-n", 6, "--seed", 2, "--maxiter", 150)
#: A run of several seconds (about 800 iterations until tolx), so that random kills land
#: inside it: the default Gaussian search finishes RUN in well under a second.
LONG_RUN = ("run", "sphere", "-n", 60, "--seed", 2, "--maxiter", 3000, "--target", -1)
KEYS = ("fun", "x", "nfev", "nit", "success", "message", "nfailed", "seed")


def start(*args, code=None):
    """``relax ARGS`` as a child process (``python -c CODE ARGS`` with ``code``)."""
    head = ["-m", "relax"] if code is None else ["-c", code]
    return subprocess.Popen([sys.executable, *head, *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def rows(path):
    with open(path) as fh:
        return list(csv.reader(fh))


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted run: its JSON and its history CSV."""
    path = tmp_path_factory.mktemp("ref") / "h.csv"
    out = json.loads(invoke(*RUN, "--json", "--history", path).stdout)
    return out, rows(path)


def assert_same_run(reference, tmp_path, checkpoint):
    """Resume ``checkpoint`` to the end and compare with the uninterrupted run."""
    history = tmp_path / "resumed.csv"
    out = json.loads(invoke("run", "--resume", checkpoint, "--json", "--history",
                            history).stdout)
    ref, ref_rows = reference
    assert {k: out[k] for k in KEYS} == {k: ref[k] for k in KEYS}
    assert rows(history) == ref_rows


def killer(name: str, call: int) -> str:
    """Python code running relax with ``os.<name>`` replaced by a SIGKILL of the process
    on its ``call``-th use: a death in the middle of a checkpoint write."""
    return textwrap.dedent(f"""
        import os, signal
        real, calls = os.{name}, [0]
        def dying(*args):
            calls[0] += 1
            if calls[0] == {call}:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(*args)
        os.{name} = dying
        from relax.cli import main
        main()
    """)


@pytest.mark.parametrize("name,call", [("fsync", 41), ("replace", 20)],
                         ids=["after-writing-before-rename", "at-the-rename"])
def test_sigkill_during_a_checkpoint_write_then_resume(reference, tmp_path, name, call):
    """fsync is called twice per write (file, folder): call 41 is the 21st write's file."""
    ckpt = tmp_path / "run.ckpt"
    proc = start(*RUN, "--checkpoint", ckpt, "--checkpoint-every", 1, "-q",
                 code=killer(name, call))
    proc.communicate(timeout=300)
    assert proc.returncode == -signal.SIGKILL
    assert (tmp_path / ".run.ckpt.tmp").exists()  # the write that died
    assert read(ckpt).optimizer.state.t == (19 if name == "replace" else 20)
    assert_same_run(reference, tmp_path, ckpt)


@pytest.fixture(scope="module")
def long_reference(tmp_path_factory):
    """The uninterrupted :data:`LONG_RUN`: its JSON and its history CSV."""
    path = tmp_path_factory.mktemp("ref") / "h.csv"
    out = json.loads(invoke(*LONG_RUN, "--json", "--history", path).stdout)
    return out, rows(path)


@pytest.mark.slow
def test_sigkill_at_random_points_then_resume(long_reference, tmp_path):
    rng = np.random.default_rng(0)
    ckpt = tmp_path / "run.ckpt"
    kills = 0
    while kills < 4:
        args = (*LONG_RUN, "--checkpoint", ckpt, "--checkpoint-every", 1) \
            if not ckpt.exists() else ("run", "--resume", ckpt)
        proc = start(*args, "-q")
        time.sleep(rng.uniform(0.3, 3.0))
        if proc.poll() is not None:
            break  # finished before the kill
        proc.kill()
        proc.communicate(timeout=60)
        kills += 1
    assert kills >= 2
    assert_same_run(long_reference, tmp_path, ckpt)


def wait_for(path, proc, seconds=120):
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_prints_the_best_so_far_and_exits_130(reference, tmp_path, signum):
    ckpt, history = tmp_path / "run.ckpt", tmp_path / "h.csv"
    proc = start(*RUN, "--checkpoint", ckpt, "--checkpoint-every", 1, "--json",
                 "--history", history)
    wait_for(ckpt, proc)
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    out = json.loads(stdout)
    name = signal.Signals(signum).name
    assert f"interrupted by {name}" in out["message"] and not out["success"]
    assert np.isfinite(out["fun"]) and len(out["x"]) == 6 and 1 <= out["nit"] < 150
    assert f"interrupted by {name}" in stderr and "Traceback" not in stderr
    assert len(rows(history)) == out["nit"] + 1  # header, then one row per iteration
    assert read(ckpt).optimizer.state.t == out["nit"]
    if signum == signal.SIGINT:
        assert_same_run(reference, tmp_path, ckpt)


def test_text_output_after_sigint(tmp_path):
    ckpt = tmp_path / "run.ckpt"
    proc = start("run", "sphere", "-n", 40, "--seed", 1, "--maxiter", 10**6, "--checkpoint",
                 ckpt, "--checkpoint-every", 1, "-q")
    wait_for(ckpt, proc)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert stdout.startswith("interrupted by SIGINT after") and "best f = " in stdout


def test_workers_give_the_serial_result():
    args = ("run", "sphere", "-n", 5, "--seed", 3, "--json")
    serial = json.loads(invoke(*args).stdout)
    pooled = json.loads(invoke(*args, "--workers", 2, "--timeout", 60).stdout)
    assert {k: pooled[k] for k in KEYS} == {k: serial[k] for k in KEYS}
    assert pooled["workers"] == 2


def test_a_dask_scheduler_gives_the_serial_result():
    distributed = pytest.importorskip("distributed")
    args = ("run", "onemax", "-n", 20, "--seed", 3, "--json")
    serial = json.loads(invoke(*args).stdout)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  protocol="tcp", host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        remote = json.loads(invoke(*args, "--scheduler", cluster.scheduler_address).stdout)
    assert {k: remote[k] for k in KEYS} == {k: serial[k] for k in KEYS}


@pytest.mark.parametrize("args,message", [
    (("run", "sphere", "-n", 2, "--timeout", 5), "--timeout needs --workers N or --scheduler"),
    (("run", "sphere", "-n", 2, "--workers", 2, "--scheduler", "tcp://127.0.0.1:1"),
     "not both"),
    (("run", "sphere", "-n", 2, "--checkpoint-every", 3), "--checkpoint-every needs"),
    (("run", "sphere", "-n", 2, "--checkpoint", "c", "--restarts", 1),
     "--checkpoint cannot be combined with --restarts"),
    (("run", "sphere", "-n", 2, "--checkpoint", "/nonexistent/c"), "does not exist"),
    (("run",), "missing argument PROBLEM"),
    (("run", "--resume", "missing.ckpt"), "checkpoint 'missing.ckpt' does not exist"),
    (("run", "--resume", "garbage.ckpt"), "'garbage.ckpt' is not a readable relax"),
    (("run", "--resume", "python.ckpt"), "was not written by `relax run --checkpoint`"),
    (("run", "sphere", "--resume", "cli.ckpt"), "drop PROBLEM"),
    (("run", "--resume", "cli.ckpt", "--dim", 3, "--seed", 1), "drop --dim, --seed"),
])
def test_checkpoint_and_execution_errors_are_one_line(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "garbage.ckpt").write_bytes(b"\x80\x04garbage")
    import relax

    relax.Optimizer(relax.Gaussian([0.0], 1.0)).save(tmp_path / "python.ckpt")
    invoke("run", "sphere", "-n", 2, "--seed", 0, "--maxiter", 2, "--checkpoint", "cli.ckpt")
    result = invoke(*args, check=False)
    assert_one_line_error(result.exit_code, result.stderr, message)


def test_resume_keeps_the_recorded_outputs_unless_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    invoke("run", "sphere", "-n", 3, "--seed", 0, "--maxiter", 4, "--checkpoint", "c.ckpt",
           "--json")
    again = invoke("run", "--resume", "c.ckpt")
    assert json.loads(again.stdout)["nit"] == 4  # --json recorded
    invoke("run", "--resume", "c.ckpt", "--history", "h.csv")
    assert len(rows(tmp_path / "h.csv")) == 5


# ------------------------------------------------------------------------- compare
def crashes_or_raises(job):
    """A compare job: seed 1 kills its worker, seed 2 raises, the others finish."""
    if job["seed"] == 1:
        os._exit(9)
    if job["seed"] == 2:
        raise ValueError("bad options")
    return {"method": "natural-eta", "seed": job["seed"], "fun": 0.0, "nfev": 10,
            "reached": True, "seconds": 0.0, "history": None}


@pytest.mark.parametrize("workers", [1, 2])
def test_compare_keeps_every_run_when_one_fails_or_loses_its_worker(workers):
    jobs = [{"seed": s, "method": Method(gradient="natural", param="eta")} for s in range(5)]
    if workers == 1:
        jobs = [j for j in jobs if j["seed"] != 1]  # os._exit would end this process
    runs, interrupted = run_all(jobs, workers, Counter("t", len(jobs), quiet=True),
                                work=crashes_or_raises)
    assert not interrupted and all(r is not None for r in runs)
    by_seed = {r["seed"]: r for r in runs}
    assert "bad options" in by_seed[2]["error"]
    if workers == 2:
        assert "killed its worker" in by_seed[1]["error"]  # even alone: a failed run
    assert [by_seed[s]["fun"] for s in (0, 3, 4)] == [0.0, 0.0, 0.0]


def test_compare_sigint_prints_the_finished_runs_and_exits_130():
    proc = start("compare", "onemax", "-n", 30, "--seeds", 60, "--jobs", 2, "--json")
    finished = 0
    while finished < 3:
        line = proc.stderr.readline()
        assert line, proc.communicate()
        finished += "runs done" in line
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    table = json.loads(stdout)
    assert sum(r["runs"] for r in table) >= 3 and "interrupted: the table has the" in stderr
    assert "Traceback" not in stderr
