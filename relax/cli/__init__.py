"""The ``relax`` command.

Each subcommand lives in its own module of this package and is registered here.
Errors that are the user's (unknown problem, bad dimension, a model that does not fit the
domain) print one line ``error: ...`` and exit with status 2, never a traceback.
"""

from __future__ import annotations

import click

from relax.cli.compare import compare
from relax.cli.flows import flows
from relax.cli.listing import list_problems
from relax.cli.run import run
from relax.cli.suites import bbob, pbo


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="relax")
def main() -> None:
    """Black-box optimization by stochastic relaxation (natural and vanilla gradients)."""


main.add_command(list_problems)
main.add_command(run)
main.add_command(compare)
main.add_command(bbob)
main.add_command(pbo)
main.add_command(flows)
