"""Every example runs as written (the long ones are marked slow)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.py"))
#: Examples that run for minutes on 2 cores: whole optimizations of n = 100 problems, or
#: exact flows from every start with the optimizer beside them.
SLOW = {"binary_ising.py", "compare_vanilla_natural.py", "flows_gaussian.py"}


@pytest.mark.parametrize("path", [
    pytest.param(p, id=p.name, marks=[pytest.mark.slow] if p.name in SLOW else [])
    for p in EXAMPLES])
def test_example_runs(path, tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, str(path)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() or list(tmp_path.iterdir())


def test_every_slow_example_exists():
    assert SLOW <= {p.name for p in EXAMPLES}
