"""lstm_tutorial/cell_diagrams.py: each step lights up its own path.

Every cell diagram draws the layers, operations and labels it claims; with
``highlight=step`` exactly the elements tagged with that step keep their
colours and every other element is grey, so the walkthrough of chapters 2
and 3 shows what each step reads and writes.
"""

import pytest
from matplotlib import colors
from matplotlib import pyplot as plt
from test_diagrams import _ax, assert_drawn_inside, boxes, circles, texts

from lstm_tutorial import cell_diagrams as cd


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def elements(fig):
    ax = _ax(fig)
    return list(ax.patches) + list(ax.texts) + list(ax.lines)


def colour(artist):
    """The colour an element is drawn in (edge for a patch, the arrow's
    colour for an annotation)."""
    if getattr(artist, "arrow_patch", None) is not None:
        return artist.arrow_patch.get_edgecolor()
    if hasattr(artist, "get_edgecolor") and not hasattr(artist, "get_text"):
        return artist.get_edgecolor()
    return artist.get_color()


def is_grey(artist):
    return colors.same_color(colour(artist), cd.GREY)


def text_of(fig, text):
    (found,) = [t for t in _ax(fig).texts if t.get_text() == text]
    return found


@pytest.mark.parametrize("forget_gate, gates, ops", [
    (True, ["$F_t$", "$I_t$", r"$\tilde{C}_t$", "$O_t$"], 5),
    (False, ["$I_t$", r"$\tilde{C}_t$", "$O_t$"], 4),
])
def test_lstm_cell(forget_gate, gates, ops):
    fig = cd.lstm_cell(forget_gate=forget_gate)
    labels = texts(fig)
    assert [g for g in labels if g in gates + ["$F_t$"]] == gates
    assert len(boxes(fig)) == len(gates)  # one layer per gate
    assert len(circles(fig)) == ops  # x, x, +, tanh, x (forget x if any)
    for name in ("$C_{t-1}$", "$C_t$", "$H_{t-1}$", "$H_t$", "$X_t$"):
        assert name in labels
    # The cell state is the thick line running through the cell.
    assert max(line.get_linewidth() for line in _ax(fig).lines) == 3
    assert not any(is_grey(a) for a in elements(fig))  # no highlight
    assert_drawn_inside(fig)


@pytest.mark.parametrize("forget_gate", [True, False])
def test_every_element_belongs_to_a_step(forget_gate):
    fig = cd.lstm_cell(forget_gate=forget_gate)
    expected = set(cd.LSTM_STEPS) - ({"forget"} if not forget_gate else set())
    assert cd.steps_of(fig) == expected
    assert all(cd.tags(a) for a in elements(fig))


# What each step must light up (and the symbols it must leave grey).
LIT = {"state": (["$C_{t-1}$", "$C_t$", "+"], ["$F_t$", "$I_t$", "$O_t$"]),
       "forget": (["$F_t$", "$C_{t-1}$", "$H_{t-1}$", "$X_t$"],
                  ["$I_t$", "$O_t$", "$H_t$"]),
       "input": ([r"$I_t$", r"$\tilde{C}_t$", "$H_{t-1}$", "$X_t$"],
                 ["$F_t$", "$O_t$", "$C_{t-1}$", "$C_t$", "+"]),
       "update": (["$C_{t-1}$", "$C_t$", "+"], ["$I_t$", "$O_t$", "$X_t$"]),
       "output": (["$O_t$", "$C_t$", "$H_t$", r"$\tanh$"],
                  ["$F_t$", "$I_t$", r"$\tilde{C}_t$", "$C_{t-1}$"])}


@pytest.mark.parametrize("step", cd.LSTM_STEPS)
def test_highlight_greys_everything_else(step):
    fig = cd.lstm_cell(highlight=step)
    for artist in elements(fig):
        assert is_grey(artist) != (step in cd.tags(artist)), (
            artist, cd.tags(artist))
    lit, grey = LIT[step]
    for text in lit:
        assert any(not is_grey(t) for t in _ax(fig).texts
                   if t.get_text() == text), f"{text} should be lit"
    for text in grey:
        assert all(is_grey(t) for t in _ax(fig).texts
                   if t.get_text() == text), f"{text} should be grey"
    assert_drawn_inside(fig)


def test_the_1997_cell_has_no_forget_step():
    with pytest.raises(ValueError, match="highlight must be None or one of"):
        cd.lstm_cell(forget_gate=False, highlight="forget")
    with pytest.raises(ValueError, match="highlight must be None or one of"):
        cd.lstm_cell(highlight="Forget")


def test_peepholes_are_dashed_lines_to_three_gates():
    plain, peep = cd.lstm_cell(), cd.lstm_cell(peepholes=True)
    dashed = [line for line in _ax(peep).lines
              if line.get_linestyle() not in ("-", "solid")]
    assert len(_ax(peep).lines) == len(_ax(plain).lines) + 3
    assert len(dashed) == 3
    assert {frozenset(cd.tags(line)) for line in dashed} == {
        frozenset({"forget"}), frozenset({"input"}), frozenset({"output"})}
    assert_drawn_inside(peep)


def test_coupled_cell_computes_the_input_gate_from_the_forget_gate():
    fig = cd.lstm_cell(coupled=True)
    assert len(boxes(fig)) == 3  # F_t, C~_t, O_t: no input gate layer
    assert "$1-$" in texts(fig) and "$I_t$" in texts(fig)
    assert "input" in cd.tags(text_of(fig, "$1-$"))
    with pytest.raises(ValueError, match="coupled=True needs forget_gate"):
        cd.lstm_cell(forget_gate=False, coupled=True)
    assert_drawn_inside(fig)


def test_gru_cell():
    fig = cd.gru_cell()
    labels = texts(fig)
    for name in ("$R_t$", "$Z_t$", r"$\tilde{H}_t$", "$H_{t-1}$", "$H_t$",
                 "$X_t$", "$1-$"):
        assert name in labels
    assert len(boxes(fig)) == 3  # reset, update, candidate layers
    assert len(circles(fig)) == 4  # x, 1-, x, +
    assert cd.steps_of(fig) == set(cd.GRU_STEPS)
    assert_drawn_inside(fig)


@pytest.mark.parametrize("step", cd.GRU_STEPS)
def test_gru_highlight(step):
    fig = cd.gru_cell(highlight=step)
    for artist in elements(fig):
        assert is_grey(artist) != (step in cd.tags(artist))
    gate = {"reset": "$R_t$", "update": "$Z_t$",
            "candidate": r"$\tilde{H}_t$", "output": "$H_t$"}[step]
    assert not is_grey(text_of(fig, gate))


def test_legend_names_each_symbol():
    fig = cd.legend()
    labels = " ".join(texts(fig))
    for meaning in ("learned layer", "pointwise", "concatenation", "copy",
                    "vector", "state"):
        assert meaning in labels
    assert len(boxes(fig)) == 1 and len(circles(fig)) == 1
    assert_drawn_inside(fig)
