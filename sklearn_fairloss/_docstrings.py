"""Shared docstring text, written once and filled into the docstrings that use it.

A package keeps a dict of named sections (parameter descriptions, citations, fitted
attributes), written without indentation, in numpydoc layout. A docstring names a section by
a placeholder ``{key}``:

- on a line of its own, the section replaces the line, indented like the placeholder (so the
  same section serves a function's and a class's docstring);
- inside a line, the value replaces the placeholder as it is (short fields such as a name).

Sections may name other sections. Braces that are not a known key (``{0, 1}``,
``{"mean", "max"}``) are left alone, so the rendered docstring (``help``, numpydoc, doctests)
reads as if the text had been written out in place.
"""

import re
import textwrap

__all__ = ["doc_filler", "fill"]

_WHOLE_LINE = re.compile(r"^([ \t]*)\{(\w+)\}[ \t]*$", re.MULTILINE)
_INLINE = re.compile(r"\{(\w+)\}")


def fill(template, sections, **fields):
    """``template`` with each placeholder of ``fields`` or ``sections`` replaced.

    Parameters
    ----------
    template : str
        The text, with ``{key}`` placeholders.
    sections : dict of str to str
        Named sections, unindented; a placeholder alone on a line is replaced by its section
        indented like the placeholder.
    **fields : str
        Further values; they take precedence over ``sections``.

    Returns
    -------
    str

    Examples
    --------
    >>> from sklearn_fairloss._docstrings import fill
    >>> sections = {"tol": "tol : float\\n    Tolerance."}
    >>> print(fill("Parameters\\n    {tol}\\n    name: {name}", sections, name="x"))
    Parameters
        tol : float
            Tolerance.
        name: x
    """
    values = {**sections, **fields}

    def whole_line(match):
        indent, key = match.groups()
        if key not in values:
            return match[0]
        return textwrap.indent(fill(values[key], sections, **fields), indent)

    def inline(match):
        return fill(values[match[1]], sections, **fields) if match[1] in values else match[0]

    return _INLINE.sub(inline, _WHOLE_LINE.sub(whole_line, template))


def doc_filler(sections):
    """A decorator that fills ``sections`` into the docstring of a class or function.

    Parameters
    ----------
    sections : dict of str to str
        See :func:`fill`.

    Returns
    -------
    callable
        ``fill_doc(obj) -> obj``, with ``obj.__doc__`` filled.

    Examples
    --------
    >>> from sklearn_fairloss._docstrings import doc_filler
    >>> fill_doc = doc_filler({"warmup": "warmup : int, default=0\\n    Warm-up epochs."})
    >>> @fill_doc
    ... class Term:
    ...     '''A term.
    ...
    ...     Parameters
    ...     ----------
    ...     {warmup}
    ...     '''
    >>> print(Term.__doc__.splitlines()[5])
            Warm-up epochs.
    """

    def fill_doc(obj):
        obj.__doc__ = fill(obj.__doc__, sections)
        return obj

    return fill_doc
