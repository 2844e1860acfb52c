"""Toy experiments for tests/test_experiments.py (not a test file).

Module-level, so that the command's worker processes can import them.
"""

import os
import time
from pathlib import Path


def toy(seed):
    return {"accuracy": 0.5 + seed / 10, "pid": os.getpid()}


def other(seed):
    return {"loss": 2.0 - seed, "pid": os.getpid()}


def counted(seed):
    """Leaves a mark in $TOY_MARKS for each run, so tests count them."""
    Path(os.environ["TOY_MARKS"], f"{seed}.{time.time_ns()}").touch()
    return {"seed": seed}


def flaky(seed):
    if seed == 2:
        raise RuntimeError("seed 2 fails")
    return {"seed": seed}


def sleepy(seed):
    """Writes its pid to $TOY_MARKS/pid_SEED, then computes for a minute."""
    Path(os.environ["TOY_MARKS"], f"pid_{seed}").write_text(str(os.getpid()))
    time.sleep(60)
    return {"seed": seed}
