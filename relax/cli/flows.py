"""``relax flows``: the slides' vanilla versus natural gradient flows, as PNG files."""

from __future__ import annotations

from pathlib import Path

import click

from relax.cli.common import UserError, user_errors
from relax.flows.cases import CASES, get_case


@click.command()
@click.argument("case", required=False)
@click.option("--out", "-o", type=click.Path(file_okay=False), default="flows",
              show_default=True, help="Directory the PNG files are written to.")
@click.option("--list", "list_cases", is_flag=True, help="List the cases and their pictures.")
@click.option("--monte-carlo", is_flag=True,
              help="Overlay the stochastic optimizer's path (large popsize, small fixed "
                   "step) on the exact flow.")
@click.option("--draft", is_flag=True,
              help="Every fifth start on a coarser grid (quick look).")
@user_errors
def flows(case, out, list_cases, monte_carlo, draft):
    """Draw the exact gradient flows of CASE (or `all`): the vector field and the
    trajectories over the level sets of F, vanilla and natural side by side, in the
    charts of the slides (needs relax[plot])."""
    if list_cases:
        for name in CASES:
            c = get_case(name)
            pictures = ", ".join(p.name for p in c.pictures)
            click.echo(f"{name:12s} {c.title}\n{'':12s} pictures: {pictures}")
        return
    if case is None:
        raise UserError(f"give a case ({', '.join(CASES)} or all), or --list")
    names = list(CASES) if case == "all" else [get_case(case).name]
    from relax.plot import case as draw_case
    from relax.plot import pyplot

    for name in names:
        figures = draw_case(name, out, monte_carlo=monte_carlo, draft=draft)
        for picture, fig in figures.items():
            pyplot().close(fig)
            click.echo(str(Path(out) / f"{picture}.png"))
