"""lstm_tutorial/__init__.py fixes MXNet's CPU threads and kernels.

The stored notebook outputs are made with one thread and AVX2 kernels;
with two threads, or AVX-512 kernels, training drifts from its last bits
to different perplexities. Each case runs in a fresh interpreter, since
the settings only work before mxnet is imported.
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


KERNEL_PROBE = (
    "import os, hashlib, lstm_tutorial\n"
    "from mxnet import np\n"
    "from lstm_tutorial import device\n"
    "device.seed(0)\n"
    "A, B = np.random.normal(size=(64, 300)), np.random.normal(size=(300, 9))"
    "\n"
    "print(os.environ.get('OPENBLAS_CORETYPE'),"
    " os.environ.get('DNNL_MAX_CPU_ISA'),"
    " hashlib.sha1(np.dot(A, B).asnumpy().tobytes()).hexdigest())\n")


def _kernels(env):
    env = {k: v for k, v in {**os.environ, **env}.items()
           if v is not None}
    done = subprocess.run([sys.executable, "-c", KERNEL_PROBE],
                          capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def _avx2():
    import lstm_tutorial
    return lstm_tutorial._has_avx2()


def test_avx2_kernels_are_pinned_and_change_the_math():
    pinned = _kernels({"OPENBLAS_CORETYPE": None, "DNNL_MAX_CPU_ISA": None})
    if not _avx2():  # no AVX2: the libraries choose, nothing is set
        assert pinned[:2] == ["None", "None"]
        return
    assert pinned[:2] == ["Haswell", "AVX2"]
    # The variable is honoured: other kernels give other last bits.
    older = _kernels({"OPENBLAS_CORETYPE": "Prescott"})
    assert older[0] == "Prescott" and older[2] != pinned[2]


def test_other_kernels_set_beforehand_are_named():
    done = _run({"DNNL_MAX_CPU_ISA": "AVX512_CORE"})
    if not _avx2():  # nothing pinned, so nothing to warn about
        assert done.returncode == 0, done.stderr
        return
    assert done.returncode != 0  # the probe turns warnings into errors
    assert ("DNNL_MAX_CPU_ISA='AVX512_CORE' is set, not the book's 'AVX2'"
            in done.stderr), done.stderr
    assert _run({"DNNL_MAX_CPU_ISA": "AVX2"}).returncode == 0


def test_bad_thread_count_is_a_clear_error():
    done = _run({"LSTM_TUTORIAL_THREADS": "many"})
    assert "LSTM_TUTORIAL_THREADS must be a positive integer" in done.stderr


def test_importing_mxnet_first_warns():
    done = _run({"OMP_NUM_THREADS": "2", "LSTM_TUTORIAL_THREADS": "1"},
                first="import mxnet")
    assert "mxnet was imported before lstm_tutorial" in done.stderr
