"""Colour-class Gibbs sweeps on the GPU: the cupy ``RawKernel`` twin of
:mod:`relax.kernels.gibbs`.

The chains are the CPU's :class:`relax.gibbs.GibbsChains` with their spins (int8, shape
(n, C), one column per chain) and chain keys on the device; the model is compiled once
into the kernel's layout (:class:`Couplings`: float32 fields and per-incidence couplings,
int32 CSR incidence lists and colour classes).  A sweep launches one kernel per colour
class, one thread per (site of the class, chain), chains fastest (source and formulas:
:mod:`relax.gpu.source`).

Random numbers are the CPU kernel's: the uniform of chain c at site i in sweep s is the
same pure function of (key, chain key, s, i), so the same seeds give the same chains on
the same device, and the GPU's chains are the CPU kernel's except where the two compilers
round the float32 exponential differently right at a decision (u(1 + e^y) within an ulp
of 1; one update in about 10⁷).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import numpy as np

from relax import backend, gibbs
from relax.gpu.source import GIBBS

#: Threads per block of the sweep kernel.
BLOCK = 256


@dataclass(frozen=True)
class Couplings:
    """A model in the kernel's layout, on the device (see :class:`relax.gibbs.SweepPlan`
    for the meaning of the incidence arrays)."""

    n: int
    pairwise: bool
    h: object  # (n,) float32
    ptr: object  # (n + 1,) int32
    w: object  # (incidences,) float32
    oth_ptr: object  # (incidences + 1,) int32
    others: object  # int32
    class_sites: object  # (n,) int32
    class_ptr: tuple  # host ints: class k is class_sites[class_ptr[k]:class_ptr[k+1]]


def couplings(host: gibbs.Couplings) -> Couplings:
    """The device layout of the CPU kernel's :class:`relax.gibbs.Couplings`."""
    cp = backend.cupy()
    plan = host.plan
    if max(plan.n, plan.others.size, plan.oth_ptr[-1]) >= 2**31:
        raise ValueError("the GPU Gibbs kernel indexes with int32: the model is too large")

    def int32(a):
        return cp.asarray(np.ascontiguousarray(a, dtype=np.int32))

    return Couplings(plan.n, bool(plan.pairwise), cp.asarray(host.h), int32(plan.ptr),
                     cp.asarray(host.w), int32(plan.oth_ptr), int32(plan.others),
                     int32(plan.class_sites), tuple(int(v) for v in plan.class_ptr))


@functools.cache
def kernel():
    """The compiled ``gibbs_class`` kernel (NVRTC, once per process)."""
    cp = backend.cupy()
    return cp.RawModule(code=GIBBS, options=("--std=c++11",)).get_function("gibbs_class")


def sweep(chains: gibbs.GibbsChains, model: Couplings, sweeps: int = 1, *,
          inplace: bool = False) -> gibbs.GibbsChains:
    """``sweeps`` colour-class Gibbs sweeps of every chain (spins on the device); the
    chains after them (a copy unless ``inplace``), ``sweeps_done`` advanced."""
    cp = backend.cupy()
    x, keys = chains.spins, chains.chain_keys
    if chains.n != model.n:
        raise ValueError(f"chains have n={chains.n}, the model has n={model.n}")
    if x.dtype != cp.int8 or not x.flags.c_contiguous or keys.dtype != cp.uint32:
        raise ValueError("chains.spins must be a C-contiguous int8 (n, C) cupy array and "
                         "chains.chain_keys uint32 (see relax.gibbs.on)")
    x = x if inplace else x.copy()
    n, C = x.shape
    run = kernel()
    for s in range(chains.sweeps_done, chains.sweeps_done + int(sweeps)):
        for k in range(len(model.class_ptr) - 1):
            a, b = model.class_ptr[k], model.class_ptr[k + 1]
            if b == a:
                continue
            total = (b - a) * C
            run(((total + BLOCK - 1) // BLOCK,), (BLOCK,),
                (x, model.h, model.ptr, model.w, model.oth_ptr, model.others,
                 model.class_sites[a:b], np.int32(b - a), np.int32(n), np.int32(C),
                 np.int32(model.pairwise), np.uint64(chains.key), keys, np.uint64(s)))
    return replace(chains, spins=x, sweeps_done=chains.sweeps_done + int(sweeps))
