"""Array backends: where the search's arrays live and how the few operations that the
Python array API standard lacks are done there.

A :class:`Backend` wraps an array namespace ``xp`` — numpy on the CPU (``device="cpu"``),
cupy on the GPU (``device="gpu"``), or any other namespace of the array API standard
(``array_api_strict`` in the tests, to prove that no numpy-only call slipped into the
generic code).  The search code is written once against ``backend.xp``; what the standard
does not have is a method here, each with the numpy call it stands for, so that numpy runs
the very code it ran before (results bit for bit as without backends):

=======================  ========================================  =======================
helper                   numpy                                     generic
=======================  ========================================  =======================
``rowdot(A, B)``         ``einsum("ij,ij->i")``                    ``sum(A*B, axis=1)``
``coldot(A, B)``         ``einsum("ij,ij->j")``                    ``sum(A*B, axis=0)``
``diagonal(M)``          ``np.diag``                               ``linalg.diagonal``
``add_diagonal(M, v)``   ``M[diag] += v`` (in place)               ``M + eye·v``
``cholesky(M)``          ``scipy.linalg.cholesky(lower=True)``     ``linalg.cholesky``
``solve_triangular``     ``scipy.linalg.solve_triangular``         cupyx's, else ``solve``
``cho_solve(L, B)``      ``scipy.linalg.cho_solve``                two triangular solves
``inv(M)``               ``scipy.linalg.inv``                      ``linalg.inv``
``eigh(M)``              ``np.linalg.eigh``                        ``linalg.eigh``
``normal``/``uniform``   the run's ``numpy.random.Generator``      see below
=======================  ========================================  =======================

Randomness.  Every draw comes from the run's one ``numpy.random.Generator`` (whose state a
checkpoint saves).  On numpy it draws directly, as before.  On cupy each call draws one
64-bit seed from it and fills the array with a cupy ``Generator`` on a counter-based
Philox4x32-10 stream with that seed, on the device: the same seed gives the same run on
the same device (and cupy version), bit for bit, and a checkpoint resumes it exactly, but
the GPU's numbers are not the CPU's.  Other namespaces draw with numpy and convert (so a
test with ``array_api_strict`` sees exactly the numpy run's sample).

cupy is imported on first use of ``device="gpu"`` only: importing relax never needs cupy
or a GPU, and :func:`get` raises :class:`DeviceUnavailable` (with the command that
installs it) when cupy or a CUDA device is missing.
"""

from __future__ import annotations

import functools
import importlib
from types import ModuleType

import numpy as np
from scipy import linalg

#: The devices of the public API.
DEVICES = ("cpu", "gpu")
#: How to get the GPU backend.
INSTALL = 'pip install "relax[gpu]"'


class DeviceUnavailable(RuntimeError):
    """``device="gpu"`` was asked for where cupy or a CUDA device is missing."""


def cupy() -> ModuleType:
    """The cupy module, once a CUDA device has answered; :class:`DeviceUnavailable`
    naming the fix otherwise."""
    try:
        import cupy as cp
    except ImportError as e:
        raise DeviceUnavailable(f"device='gpu' needs cupy, which is not installed ({e}); "
                                f"install it with {INSTALL} (CUDA 12)") from None
    try:
        count = cp.cuda.runtime.getDeviceCount()
    except Exception as e:  # noqa: BLE001 - cupy raises its own CUDA errors
        raise DeviceUnavailable(f"device='gpu': cupy is installed but finds no usable CUDA "
                                f"device ({type(e).__name__}: {e})") from None
    if count < 1:
        raise DeviceUnavailable("device='gpu': cupy is installed but finds no CUDA device")
    return cp


def gpu_available() -> bool:
    """Whether ``device="gpu"`` would work here (cupy installed and a device present)."""
    try:
        cupy()
    except DeviceUnavailable:
        return False
    return True


class Backend:
    """An array namespace with the helpers of the module docstring.

    Parameters
    ----------
    name : str
        ``"cpu"`` (numpy), ``"gpu"`` (cupy) or the importable name of another array-API
        namespace (e.g. ``"array_api_strict"``).
    xp : module
        The namespace itself.
    """

    def __init__(self, name: str, xp: ModuleType):
        self.name, self.xp = name, xp
        self.is_numpy = xp is np
        self.is_cupy = xp.__name__ == "cupy"
        self.float = xp.float64
        self.bool = getattr(xp, "bool", None) or xp.bool_

    def __repr__(self) -> str:
        return f"Backend({self.name!r})"

    def __reduce__(self):
        return get, (self.name,)

    # ------------------------------------------------------------- conversion
    def asarray(self, a, dtype=None):
        """``a`` as an array of this namespace (float64 unless ``dtype``), on its device."""
        dtype = self.float if dtype is None else dtype
        if self.is_numpy:
            return np.asarray(to_numpy(a), dtype=dtype)
        if self.is_cupy or isinstance(a, int | float):
            return self.xp.asarray(a, dtype=dtype)
        return self.xp.asarray(to_numpy(a), dtype=dtype)

    def owns(self, a) -> bool:
        """Whether ``a`` is an array of this namespace."""
        return namespace_of(a) is self.xp

    def copy(self, a):
        """A copy of the array ``a`` of this namespace."""
        return a.copy() if self.is_numpy or self.is_cupy else self.xp.asarray(a, copy=True)

    def astype(self, a, dtype):
        """``a`` converted to ``dtype``."""
        return a.astype(dtype) if self.is_numpy or self.is_cupy else self.xp.astype(a, dtype)

    def concat(self, arrays, axis: int = 0):
        """The arrays joined along ``axis``."""
        if self.is_numpy or self.is_cupy:
            return self.xp.concatenate(arrays, axis=axis)
        return self.xp.concat(arrays, axis=axis)

    def argsort(self, a):
        """A stable argsort (cupy's sort is a stable radix sort)."""
        if self.is_numpy:
            return np.argsort(a, kind="stable")
        return self.xp.argsort(a) if self.is_cupy else self.xp.argsort(a, stable=True)

    def sum(self, a):
        """Σ a (numpy's method: less call overhead than ``np.sum``)."""
        return a.sum() if self.is_numpy or self.is_cupy else self.xp.sum(a)

    def pm1(self, cond):
        """+1.0 where ``cond`` holds, −1.0 elsewhere (``where(cond, 1.0, -1.0)``)."""
        if self.is_numpy or self.is_cupy:
            return self.xp.where(cond, 1.0, -1.0)
        return 2.0 * self.xp.astype(cond, self.float) - 1.0

    def atanh(self, a):
        return self.xp.arctanh(a) if self.is_numpy or self.is_cupy else self.xp.atanh(a)

    def diag_matrix(self, v):
        """Diag v."""
        if self.is_numpy or self.is_cupy:
            return self.xp.diag(v)
        return self.xp.eye(v.shape[0], dtype=v.dtype) * v

    def rows(self, a, keep: np.ndarray):
        """The rows of ``a`` where the host boolean mask ``keep`` holds (``a`` itself,
        uncopied, when it holds everywhere: callers only read the rows)."""
        if bool(np.all(keep)):
            return a
        if self.is_numpy:
            return a[keep]
        return a[self.xp.asarray(keep)]

    # ----------------------------------------------------------------- random
    def normal(self, rng: np.random.Generator, shape: tuple[int, ...]):
        """Standard normal draws of ``shape`` (see the module docstring)."""
        if self.is_numpy:
            return rng.standard_normal(shape)
        if self.is_cupy:
            return self._device_generator(rng).standard_normal(shape, dtype=self.float)
        return self.xp.asarray(rng.standard_normal(shape))

    def uniform(self, rng: np.random.Generator, shape: tuple[int, ...]):
        """Uniform draws on [0, 1) of ``shape`` (see the module docstring)."""
        if self.is_numpy:
            return rng.random(shape)
        if self.is_cupy:
            return self._device_generator(rng).random(shape, dtype=self.float)
        return self.xp.asarray(rng.random(shape))

    def _device_generator(self, rng: np.random.Generator):
        seed = int(rng.integers(0, 2**63))
        return self.xp.random.default_rng(self.xp.random.Philox4x3210(seed))

    # ------------------------------------------------------- missing from the API
    def rowdot(self, A, B):
        """(Σ_j A_ij B_ij)_i."""
        if self.is_numpy or self.is_cupy:
            return self.xp.einsum("ij,ij->i", A, B)
        return self.xp.sum(A * B, axis=1)

    def coldot(self, A, B):
        """(Σ_i A_ij B_ij)_j."""
        if self.is_numpy or self.is_cupy:
            return self.xp.einsum("ij,ij->j", A, B)
        return self.xp.sum(A * B, axis=0)

    def diagonal(self, M):
        """diag M as a vector."""
        if self.is_numpy or self.is_cupy:
            return self.xp.diag(M)
        return self.xp.linalg.diagonal(M)

    def add_diagonal(self, M, v):
        """M + Diag v (numpy: in place, M is returned)."""
        if self.is_numpy or self.is_cupy:
            M[self.xp.diag_indices_from(M)] += v
            return M
        return M + self.xp.eye(M.shape[0], dtype=M.dtype) * v

    def outer(self, a, b):
        """a bᵀ."""
        if self.is_numpy or self.is_cupy:
            return self.xp.outer(a, b)
        return a[:, None] * b[None, :]

    def eigh(self, M):
        """(eigenvalues ascending, eigenvectors) of the symmetric M."""
        if self.is_numpy:
            return np.linalg.eigh(M)
        return tuple(self.xp.linalg.eigh(M))

    def cholesky(self, M):
        """The lower Cholesky factor; ``numpy.linalg.LinAlgError`` when M is not positive
        definite (cupy returns NaNs instead of raising: they are checked here)."""
        if self.is_numpy:
            return linalg.cholesky(M, lower=True, check_finite=False)
        try:
            L = self.xp.linalg.cholesky(M)
        except Exception as e:  # noqa: BLE001 - each namespace raises its own error
            raise np.linalg.LinAlgError(f"not positive definite ({e})") from None
        if not self.all_finite(L):
            raise np.linalg.LinAlgError("not positive definite")
        return L

    def solve_triangular(self, A, B, lower: bool = True):
        """A⁻¹B for a triangular A."""
        if self.is_numpy:
            return linalg.solve_triangular(A, B, lower=lower, check_finite=False)
        if self.is_cupy:
            from cupyx.scipy.linalg import solve_triangular

            return solve_triangular(A, B, lower=lower)
        if B.ndim == 2:
            return self.xp.linalg.solve(A, B)
        return self.xp.linalg.solve(A, B[:, None])[:, 0]

    def cho_solve(self, L, B):
        """(LLᵀ)⁻¹B from the lower factor L."""
        if self.is_numpy:
            return linalg.cho_solve((L, True), B, check_finite=False)
        return self.solve_triangular(L.T, self.solve_triangular(L, B, lower=True),
                                     lower=False)

    def inv(self, M):
        """M⁻¹."""
        if self.is_numpy:
            return linalg.inv(M, check_finite=False)
        return self.xp.linalg.inv(M)

    # ---------------------------------------------------------------- reductions
    def all_finite(self, a) -> bool:
        return bool(self.xp.all(self.xp.isfinite(a)))

    def any_nonzero(self, a) -> bool:
        return bool(np.any(a)) if self.is_numpy else bool(self.xp.any(a != 0))

    def array_equal(self, a, b) -> bool:
        if self.is_numpy:
            return np.array_equal(a, b)
        return a.shape == b.shape and bool(self.xp.all(a == b))


@functools.cache
def get(device: str = "cpu") -> Backend:
    """The backend of ``device``: ``"cpu"`` (numpy), ``"gpu"`` (cupy, see :func:`cupy`) or
    the importable name of an array-API namespace."""
    if device == "cpu":
        return Backend("cpu", np)
    if device == "gpu":
        return Backend("gpu", cupy())
    return Backend(device, importlib.import_module(device))


def check_device(device) -> Backend:
    """The backend of the ``device`` argument: "cpu" or "gpu" (a :class:`Backend`, e.g. of
    ``array_api_strict``, is accepted as well)."""
    if isinstance(device, Backend):
        return device
    if device not in DEVICES:
        raise ValueError(f"device must be 'cpu' or 'gpu'; got {device!r}")
    return get(device)


CPU = get("cpu")


def namespace_of(a) -> ModuleType:
    """The namespace of an array (numpy for numpy arrays, Python scalars and lists)."""
    if not is_device_array(a):
        return np
    if type(a).__module__.split(".")[0] == "cupy":
        return importlib.import_module("cupy")
    return a.__array_namespace__()


def is_device_array(a) -> bool:
    """Whether ``a`` is an array of a namespace other than numpy (cupy, ...)."""
    if isinstance(a, np.ndarray | np.generic):
        return False
    return hasattr(a, "__array_namespace__") or type(a).__module__.split(".")[0] == "cupy"


def to_numpy(a):
    """``a`` as numpy: numpy arrays and Python objects as they are, cupy arrays copied to
    the host, other array-API arrays through DLPack."""
    if isinstance(a, np.ndarray | np.generic) or not is_device_array(a):
        return a
    if hasattr(a, "get") and type(a).__module__.split(".")[0] == "cupy":
        return a.get()
    return np.from_dlpack(a)


def of(a) -> Backend:
    """The backend whose namespace ``a`` belongs to."""
    xp = namespace_of(a)
    if xp is np:
        return CPU
    name = xp.__name__.split(".")[0]
    return get("gpu") if name == "cupy" else get(name)
