"""A vectorized f written in PyTorch or JAX, optimized with relax on the GPU.

With ``device="gpu"`` relax samples on the device and hands a vectorized f the batch as
a cupy array.  DLPack passes it to torch or JAX without a copy, and their result comes
back the same way (relax also accepts numpy, cupy or any array-API array as f's values).

    python examples/gpu_dlpack.py        # needs a CUDA GPU, cupy (pip install "relax[gpu]")
                                         # and torch and/or jax with CUDA

Without a GPU (or without cupy, torch and jax) it says what is missing and exits.
"""

from __future__ import annotations

import numpy as np

import relax
from relax.backend import gpu_available


def rosenbrock_torch(X):
    """f on the device in torch: cupy → torch (DLPack, no copy) → cupy."""
    import cupy
    import torch

    x = torch.from_dlpack(X)
    f = (100.0 * (x[:, 1:] - x[:, :-1] ** 2) ** 2 + (1.0 - x[:, :-1]) ** 2).sum(dim=1)
    return cupy.from_dlpack(f)


def rosenbrock_jax(X):
    """The same in JAX."""
    import cupy
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)  # keep relax's float64
    x = jnp.from_dlpack(X)
    f = (100.0 * (x[:, 1:] - x[:, :-1] ** 2) ** 2 + (1.0 - x[:, :-1]) ** 2).sum(axis=1)
    return cupy.from_dlpack(f)


def available(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def main() -> None:
    if not gpu_available():
        print('skipped: no CUDA device with cupy here (pip install "relax[gpu]" on a GPU '
              "machine runs this example)")
        return
    frameworks = {"torch": rosenbrock_torch, "jax": rosenbrock_jax}
    ran = False
    for name, f in frameworks.items():
        if not available(name):
            print(f"{name}: not installed, skipped")
            continue
        res = relax.minimize(f, relax.Gaussian(np.zeros(20), 0.25), popsize=2_000,
                             vectorized=True, device="gpu", target=1e-8, seed=1,
                             maxfev=4_000_000)
        print(f"{name}: f = {res.fun:.3g} after {res.nfev} evaluations ({res.nit} "
              f"iterations of 2,000 on the GPU); x[:4] = {np.round(res.x[:4], 6)}")
        ran = True
    if not ran:
        print("skipped: neither torch nor jax is installed (pip install torch, or jax[cuda12])")


if __name__ == "__main__":
    main()
