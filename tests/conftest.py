"""Shared fixtures: the data folder and a second CPU context."""

import lstm_tutorial  # noqa: F401  first: fixes MXNet's threads (README)

# isort: split
import mxnet as mx
import pytest
from mxnet import npx

from lstm_tutorial import data

npx.set_np()


@pytest.fixture
def other_ctx():
    """A second context, standing in for a GPU (CONTRIBUTING.md, "Devices")."""
    return mx.cpu(1)


@pytest.fixture
def timemachine():
    """Path of the real corpus; fails (never skips) when it is missing."""
    try:
        return data.find_data_file(data.TIMEMACHINE, data.TIMEMACHINE_SHA1,
                                   download=False)
    except FileNotFoundError as exc:
        pytest.fail(f"{exc}. Run the tests with `make test`, which points "
                    "LSTM_TUTORIAL_DATA at ../shared/data")
