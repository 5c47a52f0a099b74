"""What every relax figure shares: lazy matplotlib, the style (colour-blind-safe colours,
readable fonts) and saving in PNG, PDF or SVG.

Colours are Okabe and Ito's palette ("Color Universal Design", 2008), distinguishable with
every common form of colour blindness; colour maps are viridis/cividis (perceptually
uniform, readable in grey).  Fonts: 10 pt text, 9 pt legends, 11–12 pt titles.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path

#: Okabe–Ito colours by name.
OKABE_ITO = {"blue": "#0072B2", "orange": "#E69F00", "green": "#009E73",
             "vermillion": "#D55E00", "sky": "#56B4E9", "purple": "#CC79A7",
             "yellow": "#F0E442", "black": "#000000"}
#: The order in which methods, coordinates and basins get colours.
CYCLE = tuple(OKABE_ITO[k] for k in ("blue", "orange", "green", "purple", "vermillion",
                                     "sky", "black", "yellow"))
FORMATS = ("png", "pdf", "svg")
STYLE = {"font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10, "legend.fontsize": 9,
         "xtick.labelsize": 9, "ytick.labelsize": 9, "figure.titlesize": 12,
         "axes.prop_cycle": None}


def pyplot():
    """matplotlib.pyplot, imported lazily (Agg backend when there is no display).

    Raises ImportError with the install command when matplotlib is missing.
    """
    try:
        import matplotlib
    except ImportError as err:
        raise ImportError('relax.plot needs matplotlib: pip install "relax[plot]"') from err
    headless = sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if headless and "MPLBACKEND" not in os.environ and "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


@contextmanager
def style():
    """Matplotlib settings for the figures built inside the block (fonts, colour cycle);
    the caller's rcParams are restored afterwards."""
    plt = pyplot()
    from cycler import cycler

    with plt.rc_context(STYLE | {"axes.prop_cycle": cycler(color=CYCLE)}):
        yield plt


def save(fig, path: str | Path | None, fmt: str | None = None, dpi: int = 200):
    """Save ``fig`` at ``path`` (parent folders created) when a path is given; return fig.

    The format is ``fmt``, else the suffix of ``path`` (png, pdf or svg); ``dpi`` sets the
    resolution of PNG files and of the raster parts of PDF and SVG.
    """
    if path is None:
        return fig
    path = Path(path)
    fmt = fmt or path.suffix.lower().lstrip(".") or "png"
    if fmt not in FORMATS:
        raise ValueError(f"figure format must be one of {', '.join(FORMATS)}; got {fmt!r} "
                         f"(from {str(path)!r})")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format=fmt, dpi=dpi, bbox_inches="tight")
    return fig
