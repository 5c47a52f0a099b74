"""Per-iteration history in growable arrays: appending is amortized O(1) and reading it
returns views, so a callback that looks at the result every iteration costs O(1)."""

from __future__ import annotations

import numpy as np


class History:
    """Columns of per-iteration records (scalars or fixed-length vectors).

    ``append(row)`` adds one iteration; ``arrays()`` returns ``{name: array}`` of the
    first ``len(self)`` rows as read-only views (the rows already written never change).
    """

    def __init__(self):
        self._buffers: dict[str, np.ndarray] = {}
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def append(self, row: dict) -> None:
        for key, value in row.items():
            value = np.asarray(value, dtype=float)
            buf = self._buffers.get(key)
            if buf is None or buf.shape[0] == self._size:
                grown = np.full((max(16, 2 * self._size), *value.shape), np.nan)
                if buf is not None:
                    grown[: self._size] = buf
                buf = self._buffers[key] = grown
            buf[self._size] = value
        self._size += 1

    def last(self, key: str) -> float:
        """The newest value of ``key`` (NaN before the first row)."""
        buf = self._buffers.get(key)
        return float(buf[self._size - 1]) if buf is not None and self._size else np.nan

    def arrays(self) -> dict[str, np.ndarray]:
        out = {}
        for key, buf in self._buffers.items():
            view = buf[: self._size]
            view.flags.writeable = False
            out[key] = view
        return out

    def __getstate__(self) -> dict:
        return {"columns": {k: np.array(v[: self._size]) for k, v in self._buffers.items()},
                "size": self._size}

    def __setstate__(self, state: dict) -> None:
        self._size = state["size"]
        self._buffers = {k: v.copy() for k, v in state["columns"].items()}
