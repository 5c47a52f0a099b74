"""Figures: exact gradient flows and optimizer runs (needs ``pip install "relax[plot]"``).

matplotlib is imported when a figure is first drawn, with the Agg backend when there is no
display.  Every function returns the matplotlib Figure and, given ``path``, also saves it
as PNG, PDF or SVG (``fmt``, else the suffix of ``path``) at ``dpi``.

- :func:`run_figure` — one run, after pycma's plot: f − f_opt on a log axis, step size and
  spread, principal axis ratios, coordinates of the mean (:mod:`relax.plot.runs`).
- :func:`compare_figure` — several methods over seeds: every seed, the median and the range.
- :func:`case`, :func:`compare`, :func:`flow_panel`, :func:`levels`, :func:`field`,
  :func:`draw`, :func:`overlay` — exact flows over the level sets of F
  (:mod:`relax.plot.flows`).
"""

from relax.plot.figure import FORMATS, pyplot, save, style
from relax.plot.flows import case, compare, draw, field, flow_panel, level_grid, levels, overlay
from relax.plot.runs import compare_figure, run_figure

__all__ = ["FORMATS", "case", "compare", "compare_figure", "draw", "field", "flow_panel",
           "level_grid", "levels", "overlay", "pyplot", "run_figure", "save", "style"]
