#!/usr/bin/env bash
# The GPU checks of relax in one go, for a machine with an NVIDIA GPU (H100/H200 class):
# install relax with its `gpu` extra, run the GPU tests (tests/test_gpu.py, marker `gpu`,
# and tests/test_gpu_source.py), the DLPack example and benchmarks/gpu.py, and keep every
# output in one folder.  See docs/gpu.md.
#
#   bash benchmarks/run_gpu.sh [OUTDIR]      # default: $OUT if set, else gpu-run/
#
# Install: an importable cupy is used as it is (any cupy >= 13 for the machine's CUDA);
# otherwise `pip install ".[gpu,test]"`, from wheels in .whl/ when that folder exists
# (a machine without network: `pip download` them beside the repo first).  relax itself is
# installed without touching the machine's packages (--no-deps), or put on PYTHONPATH when
# even that cannot be done.
#
# Outputs in OUTDIR: summary.txt (what ran and each exit status), device.txt
# (nvidia-smi, versions), install.txt, pytest_gpu.txt, example.txt, benchmark.txt and
# RESULTS.md (benchmarks/RESULTS.md with the "## GPU backend" section written by this
# run: copy it over benchmarks/RESULTS.md, or that section of it, to record the run).
# Sized to end within 10 minutes (one device command): tests 200 s, example 90 s and
# benchmark 270 s at most (the CPU column of the benchmark is most of it).

set -uo pipefail
cd "$(dirname "$0")/.."
out="${1:-${OUT:-gpu-run}}"
mkdir -p "$out"
py="${PYTHON:-python3}"
export PYTHONUNBUFFERED=1 MPLBACKEND=Agg XLA_PYTHON_CLIENT_PREALLOCATE=false
summary="$out/summary.txt"
: >"$summary"

step() {  # step NAME LOGFILE TIMEOUT COMMAND...: run, log, record the exit status
    local name="$1" log="$2" limit="$3"
    shift 3
    local start=$SECONDS
    timeout "$limit" "$@" >"$log" 2>&1
    local status=$?
    echo "$name: exit $status in $((SECONDS - start)) s ($log)" | tee -a "$summary"
    return $status
}

{
    nvidia-smi || echo "nvidia-smi: not found"
    "$py" -c "import sys, numpy, scipy, numba; print(sys.version); print('numpy', numpy.__version__, 'scipy', scipy.__version__, 'numba', numba.__version__)"
} >"$out/device.txt" 2>&1

install_relax() {
    if ! "$py" -c "import cupy" 2>/dev/null; then
        if [ -d .whl ]; then
            "$py" -m pip install --no-index --find-links .whl ".[gpu,test]" || return 1
        else
            "$py" -m pip install ".[gpu,test]" || return 1
        fi
    fi
    "$py" -m pip install --no-deps --no-build-isolation --no-index . \
        || { echo "relax not installed: using PYTHONPATH=$PWD"; return 2; }
}
install_relax >"$out/install.txt" 2>&1 </dev/null
status=$?
echo "install: exit $status ($out/install.txt)" | tee -a "$summary"
[ $status -eq 2 ] && export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
"$py" -c "import cupy; d = cupy.cuda.runtime.getDeviceProperties(0); print('cupy', cupy.__version__, d['name'])" \
    >>"$out/device.txt" 2>&1 || echo "cupy: not usable (see device.txt)" | tee -a "$summary"

step tests "$out/pytest_gpu.txt" 200 "$py" -m pytest -p no:cacheprovider -rs \
    tests/test_gpu.py tests/test_gpu_source.py
grep -E "passed|failed|skipped|error" "$out/pytest_gpu.txt" | tail -1 | tee -a "$summary"

step example "$out/example.txt" 90 "$py" examples/gpu_dlpack.py

cp benchmarks/RESULTS.md "$out/RESULTS.md"
step benchmark "$out/benchmark.txt" 270 "$py" benchmarks/gpu.py --repeats 2 \
    --results "$out/RESULTS.md"
cat "$summary"
