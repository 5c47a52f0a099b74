"""``python -m relax`` runs the ``relax`` command."""

from relax.cli import main

main(prog_name="relax")
