"""Docstring sections shared by several classes of the package, filled in by :func:`fill_doc`.

A class docstring names a section as ``{key}`` on a line of its own, at the indentation of a
section header; :func:`fill_doc` replaces it with the text below, so that the wording of a
shared section (a citation, the fitted attributes of the group strategies) lives in one
place.
The mechanism is the package's one, :mod:`sklearn_fairloss._docstrings`.
"""

from .._docstrings import doc_filler

__all__ = ["fill_doc"]

_SECTIONS = {
    "group_cell_attributes": """Attributes
----------
classes_ : ndarray of shape (n_classes,)
    Classes seen in ``fit``.
groups_ : ndarray of shape (n_groups,)
    Groups seen in ``fit`` (tuples for several attributes).
cell_counts_ : ndarray of shape (n_groups, n_classes)
    Weighted number of training rows per group x class cell.
cell_weights_ : ndarray of shape (n_groups, n_classes)
    Weight of a row of each cell (0 for empty cells).""",
    "kamiran2012_references": """References
----------
.. [1] F. Kamiran and T. Calders, "Data preprocessing techniques for classification
   without discrimination", Knowledge and Information Systems 33(1), 1-33, 2012.""",
    "li2025_references": """References
----------
.. [1] T. Li, H. Xu, W. Tan, K. Murray and D. Khashabi, "Upsample or Upweight? Balanced
   Training on Heavily Imbalanced Datasets", NAACL 2025 (arXiv:2410.04579).""",
}


fill_doc = doc_filler(_SECTIONS)
