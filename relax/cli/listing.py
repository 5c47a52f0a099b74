"""``relax list``: the registered benchmark problems."""

from __future__ import annotations

import json

import click

import relax.problems as rp


@click.command(name="list")
@click.option("--domain", type=click.Choice(["real", "binary"]), default=None,
              help="Only problems of this domain.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def list_problems(domain, as_json):
    """List the benchmark problems: name, domain, allowed dimensions, description."""
    rows = [r for r in rp.describe() if domain is None or r.domain == domain]
    if as_json:
        click.echo(json.dumps([r._asdict() for r in rows], indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="relax problems (all minimized)")
    for col in ("name", "domain", "dims", "description"):
        table.add_column(col)
    for r in rows:
        table.add_row(r.name, r.domain, r.dims, r.description)
    Console(width=120).print(table)
