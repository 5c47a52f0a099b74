"""What the commands write: output paths checked before a run, the history CSV, JSON
values and the text form of a point.

Every path is checked before anything runs (:func:`check_file`, :func:`figure_path`,
:func:`check_folder`), so that a typo never costs a finished run.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

from relax.cli.errors import UserError, require
from relax.cli.options import FORMATS


def _writable_folder(folder: Path, option: str) -> None:
    """``folder`` exists, is a folder and can be written to."""
    if not folder.exists():
        raise UserError(f"{option}: folder {str(folder)!r} does not exist; create it first "
                        f"(mkdir -p {_quote(folder)})")
    if not folder.is_dir():
        raise UserError(f"{option}: {str(folder)!r} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UserError(f"{option}: folder {str(folder)!r} is not writable")


def _quote(path: Path) -> str:
    text = str(path)
    return f'"{text}"' if any(c in text for c in " '[]*?$&;") else text


def check_file(path: str | None, option: str) -> Path | None:
    """The file ``path`` can be created or replaced: its folder exists and is writable,
    and it is not itself a folder."""
    if path is None:
        return None
    p = Path(path)
    if p.is_dir():
        raise UserError(f"{option}: {path!r} is a folder; give a file name")
    _writable_folder(p.parent if str(p.parent) else Path("."), option)
    return p


def check_folder(path: str, option: str) -> Path:
    """The folder ``path`` exists or can be created (its nearest existing ancestor is a
    writable folder); created here."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise UserError(f"{option}: {path!r} exists and is not a folder")
    ancestor = next(a for a in (p, *p.absolute().parents) if a.exists())
    _writable_folder(ancestor, option)
    p.mkdir(parents=True, exist_ok=True)
    return p


def figure_path(path: str | None, fmt: str | None, option: str = "--plot") -> Path | None:
    """The figure file of ``--plot PATH`` (with ``--format``), checked before the run:
    matplotlib importable, a known format (png, pdf, svg), the folder writable.

    The format is the suffix of PATH, or ``--format`` (then appended as the suffix when
    PATH has none); a suffix that contradicts ``--format`` is an error.
    """
    if path is None:
        if fmt is not None:
            raise UserError(f"--format {fmt} applies to the figure of {option}; add "
                            f"{option} FILE.{fmt} or drop --format")
        return None
    require("matplotlib", "plot", f"{option}")
    p = Path(path)
    suffix = p.suffix.lower().lstrip(".")
    if not suffix:
        p = p.with_name(f"{p.name}.{fmt or 'png'}")
    elif suffix not in FORMATS:
        raise UserError(f"{option}: unknown figure format {p.suffix!r}; use a file name "
                        f"ending in {', '.join('.' + f for f in FORMATS)}")
    elif fmt is not None and fmt != suffix:
        raise UserError(f"{option} {path} is a .{suffix} file but --format says {fmt}; "
                        "drop one of them")
    return check_file(str(p), option)


def write_history(history: dict, path: Path) -> None:
    """CSV with one row per iteration: ``iteration`` then every history key; a key whose
    values are vectors per iteration (``mean``, ``axes``) gives one column per
    coordinate, ``key[i]``.  Whole numbers below 2⁵³ (evaluation counts, binary f) are
    written as integers, other floats with ``repr``: both read back exactly."""
    columns, header = [], ["iteration"]
    for key, values in history.items():
        a = np.asarray(values)
        if a.ndim not in (1, 2):
            continue
        columns.append(a.reshape(a.shape[0], -1))
        header.extend([key] if a.ndim == 1 else [f"{key}[{i}]" for i in range(a.shape[1])])
    nit = min((c.shape[0] for c in columns), default=0)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for t in range(nit):
            w.writerow([t + 1, *(_cell(v) for c in columns for v in c[t])])


def _cell(v) -> int | str:
    v = float(v)
    return int(v) if v.is_integer() and abs(v) < 2.0**53 else repr(v)


def as_json_value(v):
    """JSON-friendly scalars and lists (NaN/inf as None)."""
    if isinstance(v, np.ndarray):
        return [as_json_value(x) for x in v.tolist()]
    if isinstance(v, list | tuple):
        return [as_json_value(x) for x in v]
    if isinstance(v, dict):
        return {str(k): as_json_value(x) for k, x in v.items()}
    if isinstance(v, float | np.floating):
        return float(v) if np.isfinite(v) else None
    if isinstance(v, np.integer | np.bool_):
        return v.item()
    return v


def format_x(x, limit: int = 10) -> str:
    """A point as text: every coordinate for n ≤ ``limit``, else the first and last three
    around ``…`` with n stated; binary points as +1/-1."""
    x = np.asarray(x, dtype=float)
    binary = bool(np.all(np.abs(x) == 1.0))

    def one(v: float) -> str:
        return f"{v:+.0f}" if binary else f"{v:.6g}"

    parts = [one(v) for v in x] if x.size <= limit else (
        [one(v) for v in x[:3]] + ["…"] + [one(v) for v in x[-3:]])
    text = "[" + ", ".join(parts) + "]"
    return text if x.size <= limit else f"{text} (n = {x.size})"
