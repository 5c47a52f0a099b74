"""MaxSAT from DIMACS CNF / WCNF files.

Variable v (1-based in the file) is x_{v−1}, with x = +1 ↔ true.  The problem minimizes
the number of unsatisfied clauses (for ``p wcnf``, their total weight).

Format read: comment lines start with ``c``; the header ``p cnf <vars> <clauses>`` or
``p wcnf <vars> <clauses> [<top>]`` comes before the first clause; a clause is a list of
non-zero literals ended by ``0`` and may span lines or share a line with others; in
``wcnf`` the first number of each clause is its positive integer weight.  A line starting
with ``%`` ends the clauses (the SATLIB convention).  A comment that is just
``SAT``/``SATISFIABLE`` or ``UNSAT``/``UNSATISFIABLE`` (optionally after ``status:``)
records the known status.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from relax.enumeration import MAX_ENUMERATION_N
from relax.problems.base import Problem, lazy_enumeration, register

_STATUS = re.compile(r"^(?:s\s+|status\s*[:=]?\s*)?(sat|satisfiable|unsat|unsatisfiable)$", re.I)


@dataclass(frozen=True)
class CNF:
    """A parsed DIMACS formula.

    Attributes
    ----------
    n_vars : int
        Number of variables declared by the ``p`` line.
    clauses : tuple of tuple of int
        Clauses as DIMACS literals (±v, 1-based), in file order.
    weights : tuple of int
        One weight per clause (all 1 for ``cnf``).
    satisfiable : bool or None
        The status stated in a comment, or ``None``.
    source : str
        File name (or ``"<string>"``) for messages.
    """

    n_vars: int
    clauses: tuple[tuple[int, ...], ...]
    weights: tuple[int, ...]
    satisfiable: bool | None = None
    source: str = "<string>"


class _Parser:
    """Line-by-line DIMACS reader keeping the clause being read across lines."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.header: tuple[str, int, int] | None = None
        self.clauses: list[tuple[int, ...]] = []
        self.weights: list[int] = []
        self.current: list[int] = []
        self.weight: int | None = None
        self.status: bool | None = None
        self.lineno = 0

    def error(self, message: str, lineno: int | None = None) -> ValueError:
        return ValueError(f"{self.source}, line {lineno or self.lineno}: {message}")

    def comment(self, text: str) -> None:
        m = _STATUS.match(text.strip())
        if m:
            self.status = not m.group(1).lower().startswith("unsat")

    def p_line(self, line: str) -> None:
        if self.header is not None:
            raise self.error("second 'p' line")
        tok = line.split()
        ok = len(tok) in (4, 5) if tok[1:2] == ["wcnf"] else len(tok) == 4 and tok[1:2] == ["cnf"]
        if not ok or not all(t.isdigit() for t in tok[2:]):
            raise self.error(
                f"malformed header {line!r}; expected 'p cnf <vars> <clauses>' "
                "or 'p wcnf <vars> <clauses> [<top>]'"
            )
        self.header = (tok[1], int(tok[2]), int(tok[3]))

    def numbers(self, line: str) -> None:
        if self.header is None:
            raise self.error("clause before the 'p cnf' header")
        kind, n_vars, _ = self.header
        for tok in line.split():
            try:
                value = int(tok)
            except ValueError:
                raise self.error(f"expected an integer literal, got {tok!r}") from None
            if kind == "wcnf" and self.weight is None:
                if value < 1:
                    raise self.error(f"clause weight must be a positive integer, got {value}")
                self.weight = value
            elif value == 0:
                self.clauses.append(tuple(self.current))
                self.weights.append(self.weight or 1)
                self.current, self.weight = [], None
            elif abs(value) > n_vars:
                raise self.error(
                    f"literal {value} refers to variable {abs(value)}, but the "
                    f"header declares {n_vars} variables"
                )
            else:
                self.current.append(value)

    def finish(self) -> CNF:
        if self.header is None:
            raise ValueError(f"{self.source}: no 'p cnf <vars> <clauses>' header")
        if self.current or self.weight is not None:
            raise self.error("the last clause is not terminated by 0")
        _, n_vars, m = self.header
        if len(self.clauses) != m:
            raise self.error(f"the header declares {m} clauses but {len(self.clauses)} were read")
        return CNF(n_vars, tuple(self.clauses), tuple(self.weights), self.status, self.source)


def parse_dimacs(text: str, source: str = "<string>") -> CNF:
    """Parse DIMACS CNF/WCNF text; raises ``ValueError`` naming the line of any error."""
    parser = _Parser(source)
    for lineno, raw in enumerate(text.splitlines(), start=1):
        parser.lineno = lineno
        line = raw.strip()
        if not line:
            continue
        if line[0] == "c":
            parser.comment(line[1:])
        elif line[0] == "%":
            break
        elif line[0] == "p":
            parser.p_line(line)
        else:
            parser.numbers(line)
    return parser.finish()


def read_dimacs(path: str | os.PathLike[str]) -> CNF:
    """Read and parse a DIMACS CNF/WCNF file."""
    path = Path(path)
    return parse_dimacs(path.read_text(), source=str(path))


@dataclass(frozen=True, eq=False)
class _Unsatisfied:
    """Σ_c w_c [clause c unsatisfied].

    Row c of ``A`` holds s = ±1 at each variable of clause c (duplicates merged,
    tautologies dropped), so (A x)_c = Σ s x_v equals −|c| exactly when every literal is
    false.  An empty clause is never satisfied ((A x)_c = 0 = −0).
    """

    A: sp.csr_matrix
    length: np.ndarray
    w: np.ndarray

    def __call__(self, X: np.ndarray) -> np.ndarray:
        AX = np.asarray(self.A @ X.T)
        return self.w @ (AX == -self.length[:, None])


def _evaluator(cnf: CNF) -> _Unsatisfied:
    rows, cols, vals, lengths, weights = [], [], [], [], []
    for clause, w in zip(cnf.clauses, cnf.weights, strict=True):
        lits = set(clause)
        if any(-lit in lits for lit in lits):
            continue  # tautology: always satisfied
        r = len(lengths)
        for lit in sorted(lits):
            rows.append(r)
            cols.append(abs(lit) - 1)
            vals.append(1.0 if lit > 0 else -1.0)
        lengths.append(float(len(lits)))
        weights.append(float(w))
    A = sp.csr_matrix((vals, (rows, cols)), shape=(len(lengths), cnf.n_vars))
    return _Unsatisfied(A, np.array(lengths), np.array(weights))


def maxsat(cnf: CNF | str | os.PathLike[str]) -> Problem:
    """MaxSAT: f(x) = Σ_c w_c [clause c is unsatisfied by x], x_v = +1 ↔ variable v true.

    Parameters
    ----------
    cnf : CNF or path
        A parsed formula or the path of a DIMACS ``.cnf``/``.wcnf`` file.

    The optimum is computed by enumeration (on first access) when n ≤ 20; otherwise it
    is 0 when the file states that the formula is satisfiable, and unknown (``None``)
    when it does not.
    """
    if not isinstance(cnf, CNF):
        cnf = read_dimacs(cnf)
    n = cnf.n_vars
    if n < 1:
        raise ValueError(f"{cnf.source}: maxsat needs at least one variable")
    func = _evaluator(cnf)
    small = n <= MAX_ENUMERATION_N
    weighted = any(w != 1 for w in cnf.weights)
    m = len(cnf.clauses)
    what = "weight of unsatisfied clauses" if weighted else "unsatisfied clauses"
    return Problem(
        "maxsat",
        n,
        "binary",
        func,
        description=f"MaxSAT {Path(cnf.source).name}: {what} ({n} vars, {m} clauses)",
        optimum=0.0 if (cnf.satisfiable and not small) else None,
        solver=lazy_enumeration(func, n) if small else None,
        params={"path": cnf.source, "satisfiable": cnf.satisfiable},
    )


@register(
    "maxsat",
    "binary",
    "unsatisfied clauses of a DIMACS CNF file (option path=)",
    "the file's variable count",
    min_dim=None,
)
def _maxsat_from_path(dim: int | None, *, path: str | os.PathLike[str]) -> Problem:
    problem = maxsat(path)
    if dim is not None and dim != problem.dim:
        raise ValueError(f"dim={dim} does not match the {problem.dim} variables of {path}")
    return problem
