"""lstm_tutorial/__init__.py fixes MXNet's CPU threads before it loads.

The stored notebook outputs are made with one thread; with two, training
drifts from its last bits to different perplexities. Each case runs in a
fresh interpreter, since the setting only works before mxnet is imported.
"""

import os
import subprocess
import sys

import pytest

PROBE = ("import os, warnings\n"
         "warnings.simplefilter('error', UserWarning)\n"
         "{first}\n"
         "import lstm_tutorial, mxnet\n"
         "print(os.environ['OMP_NUM_THREADS'])\n")


def _run(env, first=""):
    env = {**os.environ, **env}
    return subprocess.run([sys.executable, "-c", PROBE.format(first=first)],
                          capture_output=True, text=True, env=env)


@pytest.mark.parametrize("outer", ["2", "8"])
def test_one_thread_whatever_the_environment(outer):
    done = _run({"OMP_NUM_THREADS": outer, "LSTM_TUTORIAL_THREADS": "1"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"


def test_more_threads_on_request():
    done = _run({"OMP_NUM_THREADS": "1", "LSTM_TUTORIAL_THREADS": "2"})
    assert done.stdout.strip() == "2"


def test_bad_thread_count_is_a_clear_error():
    done = _run({"LSTM_TUTORIAL_THREADS": "many"})
    assert "LSTM_TUTORIAL_THREADS must be a positive integer" in done.stderr


def test_importing_mxnet_first_warns():
    done = _run({"OMP_NUM_THREADS": "2", "LSTM_TUTORIAL_THREADS": "1"},
                first="import mxnet")
    assert "mxnet was imported before lstm_tutorial" in done.stderr
