"""``relax flows``: vanilla versus natural exact gradient flows, as figure files."""

from __future__ import annotations

import click

from relax.cli.errors import UserError, require, user_errors
from relax.cli.options import FORMATS, dpi_option, format_option
from relax.cli.outputs import check_folder


@click.command()
@click.argument("case", required=False)
@click.option("--out", "-o", type=click.Path(file_okay=False), default="flows",
              show_default=True, help="Folder the figures are written to.")
@format_option
@dpi_option
@click.option("--list", "list_cases", is_flag=True, help="List the cases and their figures.")
@click.option("--monte-carlo", is_flag=True,
              help="Overlay the stochastic optimizer's path (large popsize, small fixed "
                   "step) on the exact flow.")
@click.option("--draft", is_flag=True,
              help="Every fifth start on a coarser grid (quick look).")
@user_errors
def flows(case, out, fmt, dpi, list_cases, monte_carlo, draft):
    """Draw the exact gradient flows of CASE (or `all`): the vector field and the
    trajectories over the level sets of F = E[f], vanilla and natural side by side, in
    the θ, η, μ and (μ, σ) charts (needs relax[plot]).

    \b
    relax flows --list
    relax flows toy --out figs
    relax flows all --out figs --format pdf --monte-carlo
    """
    from relax.flows.cases import CASES, get_case

    if list_cases:
        for name in CASES:
            c = get_case(name)
            pictures = ", ".join(p.name for p in c.pictures)
            click.echo(f"{name:12s} {c.title}\n{'':12s} figures: {pictures}")
        return
    if case is None:
        raise UserError(f"give a case ({', '.join(CASES)} or all), or --list")
    names = list(CASES) if case == "all" else [get_case(case).name]
    require("matplotlib", "plot", "relax flows")
    folder = check_folder(out, "--out")
    fmt = fmt or FORMATS[0]
    from relax.plot import case as draw_case
    from relax.plot import pyplot

    for name in names:
        figures = draw_case(name, folder, monte_carlo=monte_carlo, draft=draft, fmt=fmt,
                            dpi=dpi)
        for picture, fig in figures.items():
            pyplot().close(fig)
            click.echo(str(folder / f"{picture}.{fmt}"))
