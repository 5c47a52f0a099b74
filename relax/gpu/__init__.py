"""GPU hot loops (cupy ``RawKernel``s in CUDA C), the twins of the numba kernels of
:mod:`relax.kernels`; imported only when a run is on ``device="gpu"``."""
