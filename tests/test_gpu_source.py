"""The CUDA C source of the GPU Gibbs sweep, checked without a GPU.

- ``nvcc --ptx`` compiles it for sm_90 (H100/H200): syntax and type errors show here, not
  on the device (skipped where nvcc is absent).
- The same source compiled as host C++ (``-DRELAX_HOST_TEST``, g++ or nvcc) runs the
  very update functions the kernel calls, site by site, through ctypes: its chains equal
  the numba kernel's bit for bit (hash, uniforms, fields, float32 exponential), so the
  GPU kernel differs from the CPU kernel only in how threads are laid out.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess

import numpy as np
import pytest

from relax import gibbs, graphs
from relax.gpu.source import GIBBS

NVCC = shutil.which("nvcc")
CXX = shutil.which("g++") or shutil.which("c++")


@pytest.mark.skipif(NVCC is None, reason="nvcc not installed")
def test_kernel_source_compiles_to_ptx(tmp_path):
    src = tmp_path / "gibbs.cu"
    src.write_text(GIBBS)
    out = tmp_path / "gibbs.ptx"
    proc = subprocess.run([NVCC, "--ptx", "-arch=compute_90", "-std=c++11", "-o", str(out),
                           str(src)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert ".entry gibbs_class" in out.read_text()


@pytest.fixture(scope="module")
def host_kernel(tmp_path_factory):
    if CXX is None and NVCC is None:
        pytest.skip("no C++ compiler (g++ or nvcc)")
    folder = tmp_path_factory.mktemp("host_kernel")
    src, lib = folder / "gibbs.cpp", folder / "libgibbs.so"
    src.write_text(GIBBS)
    if CXX is not None:
        cmd = [CXX, "-O2", "-shared", "-fPIC", "-x", "c++", "-DRELAX_HOST_TEST"]
    else:
        cmd = [NVCC, "-x", "cu", "-shared", "-Xcompiler", "-fPIC", "-DRELAX_HOST_TEST"]
    proc = subprocess.run([*cmd, "-o", str(lib), str(src)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    return ctypes.CDLL(str(lib))


def host_sweeps(lib, chains: gibbs.GibbsChains, model: gibbs.Couplings, sweeps: int):
    """``sweeps`` sweeps by the kernel source's own update functions, on the host."""
    plan = model.plan
    x = chains.spins.copy()

    def i32(a):
        return np.ascontiguousarray(a, dtype=np.int32)

    arrays = [x, model.h, i32(plan.ptr), model.w, i32(plan.oth_ptr), i32(plan.others),
              i32(plan.class_ptr), i32(plan.class_sites)]
    keys = np.ascontiguousarray(chains.chain_keys, dtype=np.uint32)
    lib.host_sweeps(*[a.ctypes.data_as(ctypes.c_void_p) for a in arrays],
                    ctypes.c_int(plan.class_ptr.size - 1), ctypes.c_int(plan.n),
                    ctypes.c_int(x.shape[1]), ctypes.c_int(int(plan.pairwise)),
                    ctypes.c_ulonglong(chains.key), keys.ctypes.data_as(ctypes.c_void_p),
                    ctypes.c_ulonglong(chains.sweeps_done), ctypes.c_int(sweeps))
    return x


GRAPHS = {
    "torus": graphs.torus(16),
    "odd cycle": graphs.cycle(7),
    "complete": graphs.complete(12),
    "third order": graphs.from_interactions(
        30, [(0, 1, 2), (3, 4), (5, 6, 7), (1, 8), (2, 9, 10, 11), (12, 29)]),
}


@pytest.mark.parametrize("name", list(GRAPHS))
def test_kernel_source_equals_the_numba_kernel(host_kernel, name):
    g = GRAPHS[name]
    rng = np.random.default_rng(7)
    h, J = 0.3 * rng.standard_normal(g.n), 1.2 * rng.standard_normal(len(g.interactions))
    model = gibbs.couplings(gibbs.sweep_plan(g), h, J)
    chains = gibbs.new_chains(g.n, 96, rng)
    for sweeps in (1, 7):
        expected = gibbs.sweep(chains, model, sweeps).spins
        np.testing.assert_array_equal(host_sweeps(host_kernel, chains, model, sweeps),
                                      expected)
    later = gibbs.sweep(chains, model, 3)  # the counter goes on from sweeps_done
    np.testing.assert_array_equal(host_sweeps(host_kernel, later, model, 2),
                                  gibbs.sweep(later, model, 2).spins)


def test_kernel_source_equals_numba_on_many_updates(host_kernel):
    """5·10⁶ updates on a 64 × 64 torus with real couplings: not one differs."""
    g = graphs.torus(64)
    rng = np.random.default_rng(3)
    model = gibbs.couplings(gibbs.sweep_plan(g), 0.1 * rng.standard_normal(g.n),
                            rng.standard_normal(len(g.interactions)))
    chains = gibbs.new_chains(g.n, 64, rng)
    np.testing.assert_array_equal(host_sweeps(host_kernel, chains, model, 20),
                                  gibbs.sweep(chains, model, 20).spins)
