"""Docstring sections shared by several losses, filled in by :func:`fill_doc`.

A docstring names a section as ``{key}`` on a line of its own; :func:`fill_doc` replaces it
with the text below, indented like the placeholder, so that a citation or a parameter
description shared by several losses lives in one place.
The mechanism is the package's one, :mod:`sklearn_fairloss._docstrings`.
"""

from .._docstrings import doc_filler

__all__ = ["SECTIONS", "fill_doc"]

#: Shared docstring sections, written without indentation (numpydoc layout).
SECTIONS = {
    "zhu2023_reference": """\
From Zhu, Ying and Yang (2023), "Label Distributionally Robust Losses for Multi-class
Classification: Consistency, Robustness and Adaptivity", ICML 2023 (arXiv:2112.14869).""",
    "ldr_margin": """\
margin : float, default=1.0
    The margin ``c`` of the gaps (``>= 0``).""",
}

fill_doc = doc_filler(SECTIONS)
