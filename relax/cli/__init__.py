"""The ``relax`` command.

Each subcommand lives in its own module of this package and is registered here.  Errors
that are the user's (unknown problem, bad dimension, an option the chosen model would
ignore, an unwritable output path, a missing optional dependency) print one line
``error: ...`` and exit with status 2 before anything runs, never a traceback
(:mod:`relax.cli.errors`).
"""

from __future__ import annotations

import click

from relax.cli.bbob import bbob
from relax.cli.compare import compare
from relax.cli.errors import OneLineErrors
from relax.cli.flows import flows
from relax.cli.listing import list_problems
from relax.cli.pbo import pbo
from relax.cli.run import run


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="relax")
def main() -> None:
    """Black-box optimization by stochastic relaxation (natural and vanilla gradients).

    Each command has a page with worked examples in docs/ (relax COMMAND --help for
    its options).
    """


for command in (list_problems, run, compare, bbob, pbo, flows):
    main.add_command(command)
