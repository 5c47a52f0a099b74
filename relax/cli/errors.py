"""User errors of the ``relax`` command: one line ``error: ...``, exit status 2, never a
traceback.

Three sources, one format:

- mistakes the commands detect themselves (:class:`UserError`);
- the library's ``ValueError``/``OSError`` on bad input (:func:`user_errors` turns them
  into a :class:`UserError`);
- click's usage errors (unknown option, bad value), which click would print with the
  usage text (:class:`OneLineErrors` reformats them).

A missing optional dependency names the fix as a command quoted with double quotes,
``pip install "relax[plot]"``, which pastes unchanged into bash, zsh, fish, PowerShell
and cmd (square brackets are glob patterns in zsh, and cmd does not strip single
quotes).
"""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Callable
from types import ModuleType

import click


class UserError(click.ClickException):
    """A mistake in the command line: printed as one line ``error: ...``, exit status 2."""

    exit_code = 2

    def show(self, file=None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


def install_hint(extra: str) -> str:
    """The command that installs relax's optional ``extra``, quoted for any shell."""
    return f'pip install "relax[{extra}]"'


def require(module: str, extra: str, purpose: str) -> ModuleType:
    """Import ``module`` or fail with ``error: <purpose> needs <module>: pip install ...``.

    Called before a run starts, so that a missing dependency costs nothing.
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        raise UserError(f"{purpose} needs {module.split('.')[0]}: "
                        f"{install_hint(extra)}") from None


def user_errors(command: Callable) -> Callable:
    """Turn the library's ValueErrors and OSErrors (bad dimension, bad option, unreadable
    file) raised inside ``command`` into one-line :class:`UserError`."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (ValueError, OSError) as e:
            raise UserError(str(e).strip('"')) from None

    return wrapper


class OneLineErrors(click.Group):
    """A click group whose usage errors (unknown option, invalid value, missing argument)
    print as ``error: <message> (see 'relax CMD --help')`` on one line, exit status 2."""

    def main(self, *args, standalone_mode: bool = True, **kwargs):
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except click.exceptions.Abort:
            click.echo("error: interrupted", err=True)
            sys.exit(130)
        except click.UsageError as e:
            where = e.ctx.command_path if e.ctx is not None else "relax"
            message = e.format_message().replace("\n", " ")
            click.echo(f"error: {message} (see '{where} --help')", err=True)
            sys.exit(e.exit_code)
        except click.ClickException as e:
            e.show()
            sys.exit(e.exit_code)
        sys.exit(code if isinstance(code, int) else 0)  # --help and --version return 0
