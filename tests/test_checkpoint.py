"""Checkpoints from Python: a checkpoint taken between ask and tell keeps the batch, a run
interrupted (Ctrl-C, a failure under invalid="raise") and resumed ends as the
uninterrupted run, bit for bit, and a wrong file is a clear error naming it."""

import os
import pickle

import numpy as np
import pytest

import relax
from relax import EvaluationError, Gaussian, Interrupted, Optimizer
from relax.checkpoint import CheckpointError, read, write


def rosenbrock(x):
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2))


RUN = {"seed": 4, "maxiter": 60}


def start():
    return Gaussian(np.zeros(4), 0.25)


def same(a, b):
    np.testing.assert_array_equal(a.x, b.x)
    assert (a.fun, a.nfev, a.nit, a.success) == (b.fun, b.nfev, b.nit, b.success)
    for key in a.history:
        np.testing.assert_array_equal(a.history[key], b.history[key])
    np.testing.assert_array_equal(a.model.mean(), b.model.mean())


class Stopper:
    """f that raises ``error`` on its ``at``-th call (once), else rosenbrock."""

    def __init__(self, at: int, error: BaseException):
        self.calls, self.at, self.error = 0, at, error

    def __call__(self, x):
        self.calls += 1
        if self.calls == self.at:
            raise self.error
        return rosenbrock(x)


def test_a_checkpoint_between_ask_and_tell_keeps_the_batch(tmp_path):
    a = Optimizer(start(), seed=1)
    for _ in range(3):
        X = a.ask()
        a.tell(X, [rosenbrock(x) for x in X])
    X = a.ask()
    a.save(tmp_path / "c.pkl")
    b = Optimizer.load(tmp_path / "c.pkl")
    np.testing.assert_array_equal(b.pending, X)
    np.testing.assert_array_equal(b.ask(), X)
    for opt in (a, b):
        for _ in range(5):
            X = opt.ask()
            opt.tell(X, [rosenbrock(x) for x in X])
    np.testing.assert_array_equal(a.model.cov, b.model.cov)
    assert a.state.nfev == b.state.nfev and a.ask().tobytes() == b.ask().tobytes()


@pytest.mark.parametrize("at", [1, 37, 200])
def test_ctrl_c_then_resume_ends_as_the_uninterrupted_run(tmp_path, at):
    full = relax.minimize(rosenbrock, start(), **RUN)
    path = tmp_path / "run.ckpt"
    with pytest.raises(Interrupted) as info:
        relax.minimize(Stopper(at, KeyboardInterrupt()), start(), checkpoint=path,
                       checkpoint_every=5, **RUN)
    partial = info.value.result
    assert not partial.success and "interrupted by SIGINT" in partial.message
    assert partial.nit == read(path).optimizer.state.t < full.nit
    same(full, relax.resume(path))  # f pickles: the checkpoint holds it
    same(full, relax.resume(path))  # a finished run resumes to itself


def test_resume_continues_checkpointing_to_the_same_file(tmp_path):
    path = tmp_path / "run.ckpt"
    with pytest.raises(Interrupted):
        relax.minimize(Stopper(100, KeyboardInterrupt()), start(), checkpoint=path,
                       checkpoint_every=1, **RUN)
    t = read(path).optimizer.state.t
    with pytest.raises(Interrupted):
        relax.resume(path, Stopper(100, KeyboardInterrupt()))
    assert read(path).optimizer.state.t > t
    same(relax.minimize(rosenbrock, start(), **RUN), relax.resume(path))


def test_a_failure_under_raise_is_checkpointed_with_its_batch(tmp_path):
    path = tmp_path / "run.ckpt"
    with pytest.raises(EvaluationError, match="simulator") as info:
        relax.minimize(Stopper(50, RuntimeError("simulator")), start(), checkpoint=path,
                       **RUN)
    error = info.value
    assert read(path).optimizer.pending is not None
    np.testing.assert_array_equal(read(path).optimizer.pending, error.optimizer.pending)
    assert error.result.fun <= error.optimizer.state.best_f
    same(relax.minimize(rosenbrock, start(), **RUN), relax.resume(path))


def test_resume_needs_f_when_it_did_not_pickle(tmp_path):
    path = tmp_path / "run.ckpt"
    relax.minimize(lambda x: rosenbrock(x), start(), checkpoint=path, seed=0, maxiter=3)
    with pytest.raises(ValueError, match="does not hold f.*relax.resume\\(path, f\\)"):
        relax.resume(path)
    assert relax.resume(path, rosenbrock).nit == 3


def test_checkpoints_of_runs_with_workers_resume_on_workers(tmp_path):
    path = tmp_path / "run.ckpt"
    with pytest.raises(Interrupted):
        relax.minimize(Stopper(120, KeyboardInterrupt()), start(), checkpoint=path, **RUN)
    same(relax.minimize(rosenbrock, start(), **RUN), relax.resume(path, workers=2))


def test_checkpoint_every_counts_iterations(tmp_path, monkeypatch):
    writes = []
    monkeypatch.setattr(relax.checkpoint, "write",
                        lambda path, opt, **context: writes.append(opt.state.t))
    relax.minimize(rosenbrock, start(), checkpoint=tmp_path / "c", checkpoint_every=7,
                   seed=0, maxiter=30)
    assert writes == [7, 14, 21, 28, 30]  # and once at the end


def test_a_failed_write_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "c.pkl"
    opt = Optimizer(start(), seed=0)
    opt.save(path)
    before = path.read_bytes()
    X = opt.ask()
    opt.tell(X, [rosenbrock(x) for x in X])

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space"):
        opt.save(path)
    assert path.read_bytes() == before


@pytest.mark.parametrize("content,match", [
    (None, "does not exist"),
    (b"", "is empty"),
    (b"garbage, not a pickle", "not a readable relax checkpoint"),
    ("truncated", "not a readable relax checkpoint \\(truncated or corrupt"),
    (pickle.dumps({"some": "dict"}), "not a relax checkpoint \\(it holds a dict\\)"),
    (pickle.dumps([1, 2, 3]), "not a relax checkpoint \\(it holds a list\\)"),
    (pickle.dumps({"format": "relax-checkpoint", "version": 99, "optimizer": None}),
     "newer or unknown version"),
])
def test_wrong_files_are_clear_errors_naming_the_file(tmp_path, content, match):
    path = tmp_path / "wrong.ckpt"
    if content == "truncated":
        write(path, Optimizer(start(), seed=0))
        content = path.read_bytes()[: len(path.read_bytes()) // 2]
    if content is not None:
        path.write_bytes(content)
    for load in (read, Optimizer.load, relax.resume):
        with pytest.raises(CheckpointError, match=match) as info:
            load(path)
        assert str(path) in str(info.value) and isinstance(info.value, ValueError)


def test_a_bare_pickled_optimizer_still_loads(tmp_path):
    """Optimizer.save of earlier versions pickled the optimizer alone."""
    opt = Optimizer(start(), seed=0)
    (tmp_path / "old.pkl").write_bytes(pickle.dumps(opt))
    assert Optimizer.load(tmp_path / "old.pkl").state.t == 0
