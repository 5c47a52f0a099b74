"""Interaction graphs for binary Markov random fields.

Each constructor returns a :class:`Graph`: the number of vertices ``n``, the list of
interactions (tuples of vertex indices, sorted, each pair ``(i, j)`` with ``i < j``)
and a proper colouring (no interaction contains two vertices of the same colour), which
the Gibbs sampler uses to update a whole colour class at once.

Vertices of 2-D lattices are numbered row-major: vertex ``(r, c)`` is ``r * cols + c``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

Interaction = tuple[int, ...]


@dataclass(frozen=True)
class Graph:
    """An interaction (hyper)graph on ``n`` vertices with a proper colouring.

    Attributes
    ----------
    n : int
        Number of vertices (spins).
    interactions : tuple of tuple of int
        Each interaction is a sorted tuple of distinct vertex indices.
    colouring : numpy.ndarray
        ``colouring[i]`` is the colour of vertex ``i`` (0, 1, ...); vertices that share an
        interaction have different colours.
    """

    n: int
    interactions: tuple[Interaction, ...]
    colouring: np.ndarray = field(repr=False)

    @property
    def edges(self) -> list[tuple[int, int]]:
        """The pairwise interactions."""
        return [s for s in self.interactions if len(s) == 2]

    @property
    def n_colours(self) -> int:
        return int(self.colouring.max()) + 1 if self.n else 0


def normalize_interactions(n: int, interactions: Iterable[Sequence[int]]) -> tuple:
    """Validate interactions on ``n`` vertices: sorted tuples of distinct in-range indices,
    each appearing once.  Raises ``ValueError`` naming the offending interaction."""
    out: list[Interaction] = []
    seen: set[Interaction] = set()
    for raw in interactions:
        s = tuple(sorted(int(i) for i in raw))
        if len(s) < 2:
            raise ValueError(f"interaction {tuple(raw)!r} must involve at least two variables")
        if len(set(s)) != len(s):
            raise ValueError(f"interaction {tuple(raw)!r} repeats a variable")
        if s[0] < 0 or s[-1] >= n:
            raise ValueError(f"interaction {tuple(raw)!r} has an index outside 0..{n - 1}")
        if s in seen:
            raise ValueError(f"interaction {s!r} is listed twice")
        seen.add(s)
        out.append(s)
    return tuple(out)


def greedy_colouring(n: int, interactions: Sequence[Interaction]) -> np.ndarray:
    """A proper colouring by the greedy rule in order of decreasing degree.

    Two vertices conflict when some interaction contains both.
    """
    neighbours: list[set[int]] = [set() for _ in range(n)]
    for s in interactions:
        for i in s:
            neighbours[i].update(j for j in s if j != i)
    order = sorted(range(n), key=lambda i: -len(neighbours[i]))
    colour = np.full(n, -1, dtype=np.int64)
    for i in order:
        used = {colour[j] for j in neighbours[i] if colour[j] >= 0}
        c = 0
        while c in used:
            c += 1
        colour[i] = c
    return colour


def is_proper_colouring(colouring: np.ndarray, interactions: Sequence[Interaction]) -> bool:
    """True when no interaction contains two vertices of the same colour."""
    return all(len({int(colouring[i]) for i in s}) == len(s) for s in interactions)


def from_interactions(
    n: int, interactions: Iterable[Sequence[int]], colouring: np.ndarray | None = None
) -> Graph:
    """A graph from any list of interactions (pairs or higher order)."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n <= 0:
        raise ValueError(f"n must be a positive integer; got {n!r}")
    inter = normalize_interactions(int(n), interactions)
    if colouring is None:
        colouring = greedy_colouring(int(n), inter)
    colouring = np.asarray(colouring, dtype=np.int64)
    if colouring.shape != (n,) or not is_proper_colouring(colouring, inter):
        raise ValueError("colouring is not a proper colouring of these interactions")
    colouring.setflags(write=False)
    return Graph(int(n), inter, colouring)


def from_edges(edges: Iterable[Sequence[int]], n: int | None = None) -> Graph:
    """A graph from an edge list; ``n`` defaults to one more than the largest index."""
    edges = [tuple(e) for e in edges]
    if any(len(e) != 2 for e in edges):
        raise ValueError("edges must be pairs (i, j)")
    if n is None:
        n = 1 + max((max(e) for e in edges), default=-1)
    return from_interactions(n, edges)


def chain(n: int) -> Graph:
    """Path 0 − 1 − … − (n−1); two colours (even/odd)."""
    return from_interactions(n, [(i, i + 1) for i in range(n - 1)], np.arange(n) % 2)


def cycle(n: int) -> Graph:
    """Cycle on n ≥ 3 vertices; two colours when n is even, three when odd."""
    if n < 3:
        raise ValueError(f"a cycle needs n >= 3; got {n}")
    colouring = np.arange(n) % 2
    if n % 2:
        colouring[-1] = 2
    return from_interactions(n, [(i, (i + 1) % n) for i in range(n)], colouring)


def _lattice(rows: int, cols: int, periodic: bool) -> Graph:
    if rows < 1 or cols < 1:
        raise ValueError(f"lattice sides must be positive; got {rows}x{cols}")
    edges = set()
    for r in range(rows):
        for c in range(cols):
            i = r * cols + c
            for rr, cc in ((r, c + 1), (r + 1, c)):
                if periodic:
                    rr, cc = rr % rows, cc % cols
                elif rr >= rows or cc >= cols:
                    continue
                j = rr * cols + cc
                if j != i:
                    edges.add((min(i, j), max(i, j)))
    r, c = np.divmod(np.arange(rows * cols), cols)
    checker = (r + c) % 2
    inter = sorted(edges)
    colouring = checker if is_proper_colouring(checker, inter) else None
    return from_interactions(rows * cols, inter, colouring)


def grid(rows: int, cols: int | None = None) -> Graph:
    """Open 2-D grid; checkerboard colouring."""
    return _lattice(rows, rows if cols is None else cols, periodic=False)


def torus(rows: int, cols: int | None = None) -> Graph:
    """Periodic 2-D grid; checkerboard colouring when both sides are even, greedy otherwise."""
    return _lattice(rows, rows if cols is None else cols, periodic=True)


def complete(n: int) -> Graph:
    """All pairs; n colours."""
    return from_interactions(n, [(i, j) for i in range(n) for j in range(i + 1, n)], np.arange(n))


def erdos_renyi(n: int, p: float, seed: int | np.random.Generator | None = None) -> Graph:
    """G(n, p): each pair is an edge independently with probability p."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1]; got {p}")
    rng = np.random.default_rng(seed)
    i, j = np.triu_indices(n, 1)
    keep = rng.random(i.size) < p
    return from_interactions(n, zip(i[keep].tolist(), j[keep].tolist(), strict=True))


def random_regular(n: int, d: int, seed: int | np.random.Generator | None = None) -> Graph:
    """A uniformly random simple d-regular graph (pairing model with rejection)."""
    if d < 0 or d >= n or (n * d) % 2:
        raise ValueError(f"no simple {d}-regular graph on {n} vertices (need 0 <= d < n, n*d even)")
    rng = np.random.default_rng(seed)
    for _ in range(10_000):
        stubs = rng.permutation(np.repeat(np.arange(n), d)).reshape(-1, 2)
        a, b = stubs.min(axis=1), stubs.max(axis=1)
        if np.any(a == b):
            continue
        pairs = set(zip(a.tolist(), b.tolist(), strict=True))
        if len(pairs) == len(a):
            return from_interactions(n, sorted(pairs))
    raise RuntimeError(f"could not draw a simple {d}-regular graph on {n} vertices")
