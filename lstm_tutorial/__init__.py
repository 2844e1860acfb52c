"""lstm-tutorial: recurrent networks built from scratch on MXNet 1.9.1.

The modules follow the book's chapter order; each imports only modules of
earlier chapters or the shared infrastructure (tests/test_structure.py):

- infrastructure: ``device``, ``data``, ``training``, ``plotting``,
  ``diagrams``, ``source`` (and ``experiments``, the command that runs the
  chapters' multi-seed experiments)
- chapters, in order: ``rnn`` (1), ``lstm`` (2, the 1997 cell),
  ``forget_gate`` (3), ``bidirectional_lstm`` (4), ``attention`` (5)

Importing the package itself is cheap; import the modules you need, e.g.
``from lstm_tutorial import data, rnn``.
"""

__version__ = "0.1.0"

# The book's order; a module may import only those before it.
CHAPTER_MODULES = (
    "rnn", "lstm", "forget_gate", "bidirectional_lstm", "attention",
)
INFRASTRUCTURE_MODULES = (
    "device", "data", "training", "plotting", "diagrams", "source",
    "experiments",
)
