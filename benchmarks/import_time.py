"""Import time: ``python -c "import relax"`` against ``python -c "import numpy, scipy.optimize"``.

relax returns scipy's ``OptimizeResult``, so numpy and scipy.optimize are the floor of its
import; issue 16 asks for at most twice that.  Each command runs ``--repeats`` times in a
fresh interpreter, interleaved; the CPU time (user + system) of each child is read from
``os.wait4``, and the best (least disturbed) run of each is compared, with the median
beside it.  A bare ``python -c pass`` is timed too, so the times net of interpreter start
are shown as well.  The script also checks which heavy modules ``import relax`` loads
(numba is for Gibbs sampling only, scipy.integrate for exact flows only, matplotlib for
figures only).

Usage::

    python benchmarks/import_time.py               # one line per command and the ratio
    python benchmarks/import_time.py --repeats 21

Prints only (the machine it runs on decides the numbers; nothing is written).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

COMMANDS = {
    "python -c pass": "pass",
    "import numpy, scipy.optimize": "import numpy, scipy.optimize",
    "import relax": "import relax",
}
HEAVY = ("numba", "llvmlite", "scipy.integrate", "matplotlib", "relax.flows", "relax.plot")
TARGET = 2.0
ROOT = Path(__file__).resolve().parent.parent  # the children run here: the checkout's relax


def cpu_seconds(code: str) -> float:
    """User + system CPU time of ``python -c code`` in a fresh interpreter."""
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"python -c {code!r} failed with status {proc.returncode}")
    return usage.ru_utime + usage.ru_stime


def loaded_by_relax() -> list[str]:
    """The modules of :data:`HEAVY` that ``import relax`` loads."""
    code = ("import sys, relax; "
            f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=ROOT).stdout.split()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=11, help="runs per command")
    args = parser.parse_args(argv)
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.repeats):  # interleaved: a busy spell hits every command alike
        for name, code in COMMANDS.items():
            times[name].append(cpu_seconds(code))
    best = {name: min(t) for name, t in times.items()}
    for name, t in times.items():
        print(f"{name:32s} CPU best {min(t):.3f} s, median {statistics.median(t):.3f} s "
              f"({args.repeats} runs)")
    floor, relax = best["import numpy, scipy.optimize"], best["import relax"]
    start = best["python -c pass"]
    ratio, net = relax / floor, (relax - start) / max(floor - start, 1e-9)
    print(f"import relax / import numpy, scipy.optimize: {ratio:.2f} (net of interpreter "
          f"start {net:.2f}); target <= {TARGET:g}: {'met' if ratio <= TARGET else 'NOT met'}")
    heavy = loaded_by_relax()
    print(f"heavy modules loaded by import relax: {', '.join(heavy) or 'none'} "
          f"(checked: {', '.join(HEAVY)})")


if __name__ == "__main__":
    main()
