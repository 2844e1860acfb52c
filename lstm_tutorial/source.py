"""Show the package's code in a notebook: the one-source mechanism.

CONTRIBUTING.md, "One source": the package defines every piece of code once; a
chapter *shows* it with ``show(obj)`` right under its equation and then
uses it. The displayed block starts with ``# lstm_tutorial/<module>.py:
<qualified name>``; ``tests/test_source.py`` re-reads every such block
stored in the notebooks and fails when it differs from the package, so a
chapter can never teach code the package no longer has. ``show(obj,
*starts)`` shows an excerpt instead: only the lines of ``obj`` that begin
with the given text (the walkthroughs put one line under each equation);
its header ends with ``(excerpt)`` and the test checks each line is still
one of ``obj``'s. ``show(a, b, c)`` shows several objects in one output,
one block each: a notebook displays only a cell's last value, so two
``show`` calls in one cell would silently lose the first (the test checks
that every ``show(...)`` in a notebook's source has its listing stored).
"""

import inspect
import textwrap

PACKAGE = "lstm_tutorial"
HEADER = "# {path}: {qualname}"
EXCERPT = " (excerpt)"


class Source:
    """Source of a package object, rendered as a Python code block."""

    def __init__(self, obj):
        module = inspect.getmodule(obj)
        if module is None or module.__name__.split(".")[0] != PACKAGE:
            raise ValueError(f"show() displays {PACKAGE} code, not {obj!r}")
        path = module.__name__.replace(".", "/") + ".py"
        self.header = HEADER.format(path=path, qualname=obj.__qualname__)
        self.code = textwrap.dedent(inspect.getsource(obj)).rstrip("\n")

    def __str__(self):
        return f"{self.header}\n{self.code}"

    __repr__ = __str__

    def _repr_markdown_(self):
        return f"```python\n{self}\n```"


class Excerpt(Source):
    """The lines of a package object's source that begin with ``starts``
    (after indentation), in the order given, dedented."""

    def __init__(self, obj, starts):
        super().__init__(obj)
        lines = [line.strip() for line in self.code.split("\n")]
        chosen = []
        for start in starts:
            found = [line for line in lines if line.startswith(start)]
            if len(found) != 1:
                raise ValueError(
                    f"each start must begin exactly one line of "
                    f"{obj.__qualname__}; {start!r} begins {len(found)}")
            chosen.append(found[0])
        self.header += EXCERPT
        self.code = "\n".join(chosen)


class Listing:
    """Several sources shown in one output, one code block each."""

    def __init__(self, objs):
        self.sources = [Source(obj) for obj in objs]

    def __str__(self):
        return "\n\n".join(str(source) for source in self.sources)

    __repr__ = __str__

    def _repr_markdown_(self):
        return "\n\n".join(source._repr_markdown_()
                            for source in self.sources)


def show(obj, *rest):
    """Display the source of ``obj`` (a class, function or method).

    ``show(obj, "start", ...)`` shows only the lines of ``obj`` that begin
    with each start; ``show(a, b, ...)`` shows every object given.
    """
    if not rest:
        return Source(obj)
    if all(isinstance(start, str) for start in rest):
        return Excerpt(obj, rest)
    if any(isinstance(other, str) for other in rest):
        raise ValueError(
            "show takes objects, or one object and the starts of its lines "
            f"(strings), not both; got {(obj, *rest)!r}")
    return Listing((obj, *rest))


def checked_by(check):
    """Decorate a shown function: ``check`` sees its arguments first.

    Shown code is the math (CONTRIBUTING.md, "One source"): the listing
    names its check in this one line, and the check (a helper that raises
    on bad arguments, as the layer protocol's ``start`` does) stays out of
    the listing. ``show(f)`` shows ``f`` as written, with this line.

    A check that returns a dict passes those arguments instead: the way a
    check wraps a callable argument to check what it returns (``train``'s
    objective must return a scalar loss) without a line in the listing.
    """
    import functools
    import inspect

    def decorate(function):
        signature = inspect.signature(function)

        @functools.wraps(function)
        def run(*args, **kwargs):
            replaced = check(*args, **kwargs)
            if replaced:
                bound = signature.bind(*args, **kwargs)
                bound.arguments.update(replaced)
                args, kwargs = bound.args, bound.kwargs
            return function(*args, **kwargs)
        return run
    return decorate
