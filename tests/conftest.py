import os, subprocess, sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_module(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    "Run `python -m <args>` from the repository root in a fresh interpreter."
    env = dict(os.environ, PYTHONHASHSEED="0")
    res = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    if check and res.returncode != 0:
        raise AssertionError(f"python -m {' '.join(args)} exited {res.returncode}:\n{res.stderr}")
    return res


@pytest.fixture
def root() -> Path:
    return ROOT
