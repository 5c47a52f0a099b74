"""``relax list``: the registered benchmark problems, sized to the terminal."""

from __future__ import annotations

import json
import textwrap

import click

import relax.problems as rp

#: Terminals at least this wide get a table; narrower ones one block per problem.
WIDE = 100


def rows(domain: str | None) -> list[dict]:
    """One dict per problem: name, domain, allowed dimensions, options, description."""
    return [{**r._asdict(), "options": rp.options(r.name)} for r in rp.describe()
            if domain is None or r.domain == domain]


@click.command(name="list")
@click.option("--domain", type=click.Choice(["real", "binary"]), default=None,
              help="Only problems of this domain.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def list_problems(domain, as_json):
    """List the benchmark problems: name, domain, allowed dimensions, options (-o KEY=VALUE
    of `relax run`) and description.

    The output takes the terminal's width (or $COLUMNS): a table from 100 columns, one
    wrapped block per problem below.
    """
    table_rows = rows(domain)
    if as_json:
        click.echo(json.dumps(table_rows, indent=2))
        return
    from rich.console import Console

    console = Console(soft_wrap=False)
    if console.width >= WIDE:
        console.print(table(table_rows))
        return
    for r in table_rows:  # narrow terminals: one block per problem, wrapped
        console.print(f"[bold]{r['name']}[/bold] ({r['domain']}; dims: {r['dims']})",
                      highlight=False)
        for label, text in (("options", ", ".join(r["options"]) or "-"),
                            ("", r["description"])):
            console.print(textwrap.fill(text, console.width, initial_indent="  " + (
                f"{label}: " if label else ""), subsequent_indent="    "), highlight=False,
                markup=False)


def table(table_rows: list[dict]):
    """The rows as a rich table whose long cells wrap."""
    from rich.table import Table

    out = Table(title="relax problems (all minimized)")
    out.add_column("name", no_wrap=True)
    out.add_column("domain", no_wrap=True)
    out.add_column("dims", ratio=3)
    out.add_column("options", ratio=2)
    out.add_column("description", ratio=6)
    for r in table_rows:
        out.add_row(r["name"], r["domain"], r["dims"], ", ".join(r["options"]) or "-",
                    r["description"])
    return out
