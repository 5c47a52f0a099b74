"""Checkpoints: an optimizer, with what its loop needs to go on, in one file that a crash
never leaves half written.

A checkpoint holds the whole :class:`~relax.optimizer.Optimizer` — model, search state,
the random generator's state, counters, best point, history and the batch asked but not
yet told — so that a run resumed from it ends exactly as the uninterrupted run would have,
bit for bit.  Beside it, a ``context`` dict: what the loop needs to continue (f itself when
it pickles, ``vectorized``; the command line's run record for ``relax run --resume``).

Writing (:func:`write`) goes to a temporary file in the same folder, which is flushed and
fsynced, then renamed over the checkpoint (``os.replace``: atomic), then the folder is
fsynced: a kill at any moment leaves either the previous checkpoint or the new one.

Reading (:func:`read`) turns every way a file can be wrong — missing, empty, truncated,
garbage, another pickle — into a :class:`CheckpointError` naming the file.

Checkpoints are pickles, and unpickling can run arbitrary code: load only files you
trust (your own runs').
"""

from __future__ import annotations

import os
import pickle
import time
from dataclasses import dataclass, field
from pathlib import Path

FORMAT = "relax-checkpoint"
VERSION = 1
#: Without ``every``, a :class:`Checkpointer` writes at most this often (seconds).
DEFAULT_INTERVAL = 60.0


class CheckpointError(ValueError):
    """A file that is not a readable relax checkpoint (the message names it)."""


@dataclass
class Checkpoint:
    """What a checkpoint file holds."""

    optimizer: object
    context: dict = field(default_factory=dict)


def write(path: str | Path, optimizer, **context) -> None:
    """Write a checkpoint of ``optimizer`` (and ``context``) to ``path`` atomically."""
    path = Path(path)
    data = pickle.dumps({"format": FORMAT, "version": VERSION, "optimizer": optimizer,
                         "context": context}, protocol=pickle.HIGHEST_PROTOCOL)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder if str(folder) else ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read(path: str | Path) -> Checkpoint:
    """The checkpoint in ``path``; :class:`CheckpointError` naming the file when it is
    missing, unreadable, empty, truncated or not a relax checkpoint.  Files written by
    ``Optimizer.save`` of earlier versions (a bare pickled optimizer) are read too."""
    from relax.optimizer import Optimizer

    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(f"checkpoint {str(path)!r} does not exist") from None
    except OSError as e:
        raise CheckpointError(f"checkpoint {str(path)!r} cannot be read: "
                              f"{e.strerror or e}") from None
    if not data:
        raise CheckpointError(f"checkpoint {str(path)!r} is empty")
    try:
        obj = pickle.loads(data)
    except Exception as e:  # noqa: BLE001 - a corrupt pickle raises anything
        raise CheckpointError(f"{str(path)!r} is not a readable relax checkpoint (truncated "
                              f"or corrupt: {type(e).__name__}: {e})") from None
    if isinstance(obj, Optimizer):
        return Checkpoint(obj)
    if not (isinstance(obj, dict) and obj.get("format") == FORMAT):
        raise CheckpointError(f"{str(path)!r} is not a relax checkpoint (it holds a "
                              f"{type(obj).__name__})")
    if obj.get("version", 0) > VERSION or not isinstance(obj.get("optimizer"), Optimizer):
        raise CheckpointError(f"{str(path)!r} is a relax checkpoint of a newer or unknown "
                              f"version ({obj.get('version')!r}); this relax reads version "
                              f"{VERSION}")
    return Checkpoint(obj["optimizer"], dict(obj.get("context") or {}))


class Checkpointer:
    """Writes the checkpoint of a running loop: after every ``every``-th iteration (by
    default at most once a minute) and whenever :meth:`write` is called (the loop does at
    the end of a run, on Ctrl-C/SIGTERM and on a failure under ``invalid="raise"``).

    The folder of ``path`` must exist and be writable; this is checked here, before the
    run starts.
    """

    def __init__(self, path: str | Path, every: int | None = None, **context):
        from relax import validate

        self.path = Path(path)
        folder = self.path.parent if str(self.path.parent) else Path(".")
        if self.path.is_dir():
            raise ValueError(f"checkpoint {str(self.path)!r} is a folder; give a file name")
        if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
            raise ValueError(f"checkpoint {str(self.path)!r}: folder {str(folder)!r} does not "
                             "exist or is not writable")
        self.every = validate.optional_integer("checkpoint_every", every, 1)
        self.context = context
        self.last = time.monotonic()

    def after_tell(self, optimizer) -> None:
        """Write if this iteration is due."""
        t = optimizer.state.t
        due = (t % self.every == 0 if self.every is not None
               else time.monotonic() - self.last >= DEFAULT_INTERVAL)
        if due:
            self.write(optimizer)

    def write(self, optimizer) -> None:
        write(self.path, optimizer, **self.context)
        self.last = time.monotonic()
