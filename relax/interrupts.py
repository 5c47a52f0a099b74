"""Ctrl-C and SIGTERM during a run: between two steps, never inside one.

Inside :func:`guard`, SIGINT — and SIGTERM when its handler is Python's
``default_int_handler``, as ``relax run`` sets it up — raise :class:`Interrupted` (a
``KeyboardInterrupt``), except within a :func:`critical` section (``ask``, ``tell``, a
checkpoint write), where the signal is held and raised as soon as the section ends.  An
interrupted run's optimizer is therefore always in the state between two iterations
(possibly with a batch pending), ready to be checkpointed or reported.

Signals reach Python in the main thread only; elsewhere :func:`guard` changes nothing.
Guards nest: the outermost one installs the handlers, and the critical sections of every
level share one count.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """A run stopped by SIGINT or SIGTERM; ``result`` is the best result so far (set by the
    loop that was interrupted)."""

    def __init__(self, signum: int = signal.SIGINT, result=None):
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)
        self.result = result

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name


_depth = 0  # open critical sections
_held: list[int] = []  # signals received inside them
_guards = 0  # open guards (the outermost installs the handlers)
_saved: dict = {}


def _handler(signum, frame) -> None:
    if _depth:
        _held.append(signum)
        return
    raise Interrupted(signum)


@contextlib.contextmanager
def guard() -> Iterator[None]:
    """Turn SIGINT (and a SIGTERM that raises KeyboardInterrupt) into :class:`Interrupted`,
    held back inside :func:`critical` sections."""
    global _guards
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if not _guards:
        for sig in SIGNALS:
            if signal.getsignal(sig) is signal.default_int_handler:
                _saved[sig] = signal.signal(sig, _handler)
    _guards += 1
    try:
        yield
    finally:
        _guards -= 1
        if not _guards:
            for sig, previous in _saved.items():
                signal.signal(sig, previous)
            _saved.clear()


@contextlib.contextmanager
def critical() -> Iterator[None]:
    """A section that a signal does not interrupt; a signal received inside it is raised
    (as :class:`Interrupted`) when it ends."""
    global _depth
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if not _depth and _held:
            signum = _held[0]
            _held.clear()
            raise Interrupted(signum)
