"""The ``relax`` command.

Each subcommand lives in its own module of this package and is registered here.
Errors that are the user's (unknown problem, bad dimension, a model that does not fit the
domain) print one line ``error: ...`` and exit with status 2, never a traceback.
"""

from __future__ import annotations

import click

from relax.cli.run import run


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="relax")
def main() -> None:
    """Black-box optimization by stochastic relaxation (natural and vanilla gradients)."""


main.add_command(run)
