"""Each sanitizer in nbval_sanitize.cfg masks what it should, and only it."""

import configparser
import re

import pytest

from notebook_checks import ROOT


def _rules():
    config = configparser.ConfigParser(interpolation=None)
    config.read(ROOT / "tests" / "nbval_sanitize.cfg")
    return [(config[s]["regex"], config[s]["replace"])
            for s in config.sections()]


def sanitize(text):
    for regex, replace in _rules():
        text = re.sub(regex, replace, text)
    return text


@pytest.mark.parametrize("a, b", [
    ("<Block at 0x7f3a2c1d9e50>", "<Block at 0x7f00aa11bb22>"),
    ("/tmp/ipykernel_1234/2871.py:3: UserWarning",
     "/tmp/ipykernel_99/17.py:3: UserWarning"),
    ("<dc:date>2026-11-24T05:00:00</dc:date>",
     "<dc:date>1970-01-01T00:00:00</dc:date>"),
    ('<path d="M 57.6 307.58 L 103.1 20.2" style="fill: none"/>',
     '<path d="M 57.6 307.58 L 103.1 20.200001" style="fill: none"/>'),
    ('<text x="10.5" y="3" transform="rotate(-90 1 2)">loss</text>',
     '<text x="10.500001" y="3" transform="rotate(-90 1 3)">loss</text>'),
])
def test_noise_is_masked(a, b):
    assert a != b and sanitize(a) == sanitize(b)


@pytest.mark.parametrize("a, b", [
    ("perplexity 5.418", "perplexity 5.419"),
    ('<text x="1">epoch</text>', '<text x="1">step</text>'),
    ("<g><path d=''/></g>", "<g></g>"),
    ("train ppl 5.12, val ppl 5.42", "train ppl 5.12, val ppl 5.43"),
])
def test_meaning_is_kept(a, b):
    assert sanitize(a) != sanitize(b)


def test_a_moved_curve_is_caught_through_the_figures_digest():
    """The geometry rule masks every coordinate, so an SVG alone would
    pass with its curves moved; the digest in its metadata does not."""
    import matplotlib

    matplotlib.use("Agg")
    from IPython.core.pylabtools import print_figure

    from lstm_tutorial import plotting

    def figure(y):
        fig, ax = plotting.figure()
        ax.plot([0, 1, 2], y, label="loss")
        ax.set_ylim(0, 3)
        return fig

    with matplotlib.rc_context(plotting.STYLE):  # the notebooks' style
        stored, moved = figure([1.0, 2.0, 1.5]), figure([1.0, 2.5, 1.5])
        again = figure([1.0, 2.0, 1.5])
        # Without the digest (IPython's own SVG formatter) the move is
        # masked:
        assert (sanitize(print_figure(stored, "svg"))
                == sanitize(print_figure(moved, "svg")))
        assert "<dc:description>figure data: " in plotting.svg(stored)
        assert sanitize(plotting.svg(stored)) != sanitize(plotting.svg(moved))
        assert sanitize(plotting.svg(stored)) == sanitize(plotting.svg(again))
