"""GPU backend against this project's CPU path, in one run: one iteration of the default
Gaussian search, one iteration of the Bernoulli search, and Gibbs sweeps.

Workloads (the sizes of issue 17; every one can be shrunk by an option):

- **Gaussian**: one iteration (``ask``, a vectorized sphere f on the batch's device,
  ``tell``) of the default adaptive search, ``Optimizer(Gaussian(x0, 1), popsize=λ)``
  with λ = 10⁵ at d = 1,000 (``--dim``, ``--popsize``); the time of the search's
  eigendecomposition (``Frame.decompose``, every iteration at this λ) is shown beside it.
- **Bernoulli**: one iteration of the default Bernoulli search with n = 10⁶ bits and
  λ = 1,000 (``--bits``, ``--bit-popsize``), f = OneMax on the batch's device.
- **Gibbs**: colour-class sweeps of 64 chains (``--chains``) on a 1024 × 1024 torus
  (``--side``) with fields h_i ~ N(0, 0.1²) and real couplings J_ij ~ N(0, 1): spin
  updates per second, n · C · sweeps / seconds (CPU: the numba kernel on every core).

Each configuration runs one warm-up (JIT, kernel compilation, memory pools), then is
timed ``--repeats`` times; the table gives the best time (the least disturbed) and the
median, the CPU/GPU ratio of the best times, and the issue's targets (≥ 20× each; Gibbs
≥ 10¹¹ updates/s; the Gaussian iteration ≤ 5 ms on the GPU).  GPU times end with a device
synchronize.

Usage::

    python benchmarks/gpu.py                     # on a GPU machine; writes RESULTS.md
    python benchmarks/gpu.py --cpu-only --dim 50 --popsize 2000 --bits 10000 \\
        --bit-popsize 100 --side 64 --repeats 1  # the CPU column alone, small, no write

Without a GPU (cupy missing or no CUDA device) it exits with a message, unless
``--cpu-only``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np
from _common import provenance, results_path, write_section

import relax
from relax import backend, gibbs, graphs

SECTION = "## GPU backend"
MODULES = ("relax", "numpy", "cupy", "numba")


def sync(device: str) -> None:
    """Wait for the device's queued work (no-op on the CPU)."""
    if device == "gpu":
        backend.cupy().cuda.Device().synchronize()


def timed(step, device: str, repeats: int) -> list[float]:
    """Seconds of ``step()`` after one warm-up call, ``repeats`` times."""
    step()
    sync(device)
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        step()
        sync(device)
        out.append(time.perf_counter() - t)
    return out


def gaussian_iteration(device: str, dim: int, popsize: int, repeats: int):
    """(iteration times, decomposition times) of the default Gaussian search."""
    opt = relax.Optimizer(relax.Gaussian(np.full(dim, 1.0), 1.0), popsize=popsize, seed=1,
                          device=device)

    def iteration():
        X = opt.ask()
        opt.tell(X, (X * X).sum(axis=1))

    its = timed(iteration, device, repeats)
    frame = opt.state.search.frame
    eig = timed(frame.decompose, device, repeats)
    return its, eig


def bernoulli_iteration(device: str, bits: int, popsize: int, repeats: int):
    opt = relax.Optimizer(relax.Bernoulli(bits), popsize=popsize, seed=1, device=device)

    def iteration():
        X = opt.ask()
        opt.tell(X, (X < 0).sum(axis=1) * 1.0)

    return timed(iteration, device, repeats)


def gibbs_sweeps(device: str, side: int, chains: int, sweeps: int, repeats: int):
    """(times of ``sweeps`` sweeps, spin updates per sweep)."""
    g = graphs.torus(side)
    rng = np.random.default_rng(0)
    host = gibbs.couplings(gibbs.sweep_plan(g), 0.1 * rng.standard_normal(g.n),
                           rng.standard_normal(len(g.interactions)))
    state = {"chains": gibbs.new_chains(g.n, chains, rng)}
    if device == "gpu":
        from relax.gpu import gibbs as gpu_gibbs

        model = gpu_gibbs.couplings(host)
        state["chains"] = gibbs.on(state["chains"], backend.get("gpu"))

        def run():
            state["chains"] = gpu_gibbs.sweep(state["chains"], model, sweeps, inplace=True)
    else:
        def run():
            state["chains"] = gibbs.sweep(state["chains"], host, sweeps, inplace=True)

    return timed(run, device, repeats), g.n * chains


def measure(args, device: str) -> dict:
    gauss, eig = gaussian_iteration(device, args.dim, args.popsize, args.repeats)
    bern = bernoulli_iteration(device, args.bits, args.bit_popsize, args.repeats)
    sweeps, updates = gibbs_sweeps(device, args.side, args.chains, args.sweeps, args.repeats)
    return {"gaussian": gauss, "eigh": eig, "bernoulli": bern, "gibbs": sweeps,
            "updates": updates * args.sweeps}


def device_name() -> str:
    cp = backend.cupy()
    props = cp.cuda.runtime.getDeviceProperties(cp.cuda.Device().id)
    name = props["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def fmt_time(seconds: float) -> str:
    return f"{seconds * 1e3:,.2f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def cell(times: list[float]) -> str:
    return f"{fmt_time(min(times))} (median {fmt_time(statistics.median(times))})"


def table(args, cpu: dict, gpu: dict | None, name: str | None) -> str:
    """The markdown section (GPU columns empty with ``gpu=None``)."""
    rows = [
        (f"Gaussian iteration, d = {args.dim:,}, λ = {args.popsize:,}", "gaussian",
         "≥ 20×, ≤ 5 ms"),
        ("… of which the eigendecomposition", "eigh", ""),
        (f"Bernoulli iteration, n = {args.bits:,}, λ = {args.bit_popsize:,}", "bernoulli",
         "≥ 20×"),
        (f"Gibbs, {args.side} × {args.side} torus, {args.chains} chains, {args.sweeps} "
         "sweeps", "gibbs", "≥ 20×, ≥ 1e11 updates/s"),
    ]
    who = (f"device=\"gpu\" ({name}) against device=\"cpu\" of the same relax" if name
           else "the CPU column only (--cpu-only, no GPU in this run)")
    head = (f"{SECTION}\n\nOne run of `benchmarks/gpu.py`: {who}.  Best of the timed "
            "repeats (median in brackets); ratio = CPU best / GPU best.\n\n"
            "| workload | CPU | GPU | ratio | target |\n|---|---|---|---|---|\n")
    lines = []
    for label, key, target in rows:
        g = gpu[key] if gpu else None
        ratio = f"{min(cpu[key]) / min(g):,.1f}×" if g else "—"
        lines.append(f"| {label} | {cell(cpu[key])} | {cell(g) if g else '—'} | {ratio} | "
                     f"{target} |")
    rate = (f"\nGibbs spin updates per second: CPU {cpu['updates'] / min(cpu['gibbs']):.3g}"
            + (f", GPU {gpu['updates'] / min(gpu['gibbs']):.3g}" if gpu else "") + ".\n")
    return head + "\n".join(lines) + "\n" + rate


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dim", type=int, default=1000)
    p.add_argument("--popsize", type=int, default=100_000)
    p.add_argument("--bits", type=int, default=1_000_000)
    p.add_argument("--bit-popsize", type=int, default=1000)
    p.add_argument("--side", type=int, default=1024)
    p.add_argument("--chains", type=int, default=64)
    p.add_argument("--sweeps", type=int, default=20)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--cpu-only", action="store_true",
                   help="time the CPU column alone (no GPU needed; nothing is written)")
    p.add_argument("--no-write", action="store_true", help="print only")
    p.add_argument("--results", default=None, help="write to this file, not RESULTS.md")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    name = None
    if not args.cpu_only:
        try:
            backend.cupy()
        except backend.DeviceUnavailable as e:
            sys.exit(f"benchmarks/gpu.py needs a CUDA GPU with cupy: {e}\n(--cpu-only times "
                     "the CPU column alone)")
        name = device_name()
    gpu = None if args.cpu_only else measure(args, "gpu")
    cpu = measure(args, "cpu")
    text = table(args, cpu, gpu, name)
    print(text)
    path = results_path(args.results, args.cpu_only, args.no_write)
    if path is not None:
        argv = sys.argv[1:] if argv is None else argv
        write_section(path, SECTION, text + "\n" + provenance("gpu.py", argv, MODULES))
        print(f"wrote {SECTION!r} to {path}")


if __name__ == "__main__":
    main()
