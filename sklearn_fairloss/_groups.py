"""One factorisation of the sensitive features into group codes, for the whole package.

:class:`GroupEncoder` learns, from the sensitive features of some rows (a 1-D array-like or
Series for one attribute; a 2-D array, DataFrame or dict for several), per attribute:

- its sorted groups (``categories_``): the sorted distinct values, as
  ``numpy.unique`` gives them; labels of mixed types (``["a", 1]``), which Python cannot
  compare, are ordered by kind first (numbers, then other types by type name), then by value;
- whether it is numeric (``numeric_``: a number column, not a bool one), so that a penalty
  can use the value itself (age as a number);

and the intersectional cells seen (``cells_``): the combinations of groups present, numbered
in lexicographic order of the per-attribute codes. :meth:`GroupEncoder.transform` turns the
sensitive features of any rows into a :class:`GroupCodes`: the per-attribute codes, the
per-attribute values (float32) and the cell of each row. Groups (and cells) not seen in
``fit`` are an error, or code -1 with ``unseen="ignore"``.

Every part of the package that needs groups (metrics, weighting strategies, plots, post-hoc
rules, the estimators) encodes them here, so the same data always gives the same numbering.
numpy and pandas only (no torch).
"""

import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.exceptions import NotFittedError

from ._validation import sensitive_frame

__all__ = ["GroupCodes", "GroupEncoder"]

_UNSEEN = ("error", "ignore")
_SHOWN = 10  # unseen groups listed in an error message


def _py(value):
    """A numpy scalar as the Python scalar (labels print and compare naturally)."""
    return value.item() if isinstance(value, np.generic) else value


def _kind(value):
    """Sort key of the kind of a label: real numbers first, then other types by name."""
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        return ""
    return type(_py(value)).__name__


def _sorted_unique(values):
    """Sorted distinct values of a 1-D array (``numpy.unique`` where values compare).

    Values that Python cannot compare with each other (``"a"`` and ``1``) are ordered by kind,
    then by value within a kind (by ``repr`` where even that fails).
    """
    distinct = pd.unique(values)  # hashing first: sorting only the distinct values is fast
    try:
        return np.unique(distinct)
    except TypeError:
        pass
    distinct = list(distinct)
    try:
        distinct.sort(key=lambda v: (_kind(v), v))
    except TypeError:
        distinct.sort(key=lambda v: (_kind(v), repr(v)))
    out = np.empty(len(distinct), dtype=object)
    out[:] = distinct
    return out


def _labels(values):
    """``values`` as a list of Python scalars."""
    return [_py(v) for v in values]


def _index_of(categories, values):
    """Position of each value in ``categories`` (hash lookup), -1 where absent."""
    index = pd.Index(categories, dtype=categories.dtype, tupleize_cols=False)
    return np.asarray(index.get_indexer(values), dtype=np.int64)


def _cell_keys(codes, sizes):
    """One int64 per row of non-negative ``codes``, increasing in their lexicographic order
    (a mixed-radix number); None when the combinations do not fit in an int64."""
    if np.prod([float(s) for s in sizes]) >= 2.0 ** 62:
        return None
    return np.ravel_multi_index(tuple(codes.T), sizes).astype(np.int64)


@dataclass(frozen=True, eq=False)
class GroupCodes:
    """The groups of some rows, as :meth:`GroupEncoder.transform` returns them.

    Attributes
    ----------
    codes : ndarray of shape (n_samples, n_attributes), int64
        Per attribute, the index of each row's group in ``categories_[j]`` (-1 for a group
        not seen in ``fit`` with ``unseen="ignore"``).
    values : ndarray of shape (n_samples, n_attributes), float32
        Per attribute, the row's value where the attribute is numeric, else its code.
    cells : ndarray of shape (n_samples,), int64
        The intersectional cell of each row: its index in ``cells_`` (-1 for a cell not seen
        in ``fit`` with ``unseen="ignore"``). With one attribute, the code.

    Examples
    --------
    >>> from sklearn_fairloss._groups import GroupEncoder
    >>> groups = GroupEncoder().fit_transform(["b", "a", "b"])
    >>> groups.codes.ravel().tolist(), groups.cells.tolist()
    ([1, 0, 1], [1, 0, 1])
    """

    codes: np.ndarray
    values: np.ndarray
    cells: np.ndarray


class GroupEncoder:
    """Encode sensitive features as per-attribute group codes and intersectional cells.

    ``fit`` learns the sorted groups of every attribute and the combinations of groups
    (intersectional cells) present; ``transform`` gives the codes of any rows as a
    :class:`GroupCodes`. For one attribute of sortable labels the codes are those of
    ``numpy.unique(labels, return_inverse=True)``; for several, the cells are numbered in
    lexicographic order of the per-attribute codes. Labels of mixed types (``["a", 1]``) are
    ordered by kind (numbers first, then other types by type name), then by value. Missing
    values (NaN, None) are an error: encode them as a group of their own.

    Attributes
    ----------
    names_ : list of str
        The attribute names: the DataFrame's columns, a Series' name, or
        ``sensitive_feature_<j>`` for unnamed ones.
    categories_ : list of ndarray
        Per attribute, its sorted groups.
    numeric_ : list of bool
        Per attribute, whether it holds numbers (not bools): its ``values`` are then the
        numbers themselves.
    n_groups_ : list of int
        Per attribute, the number of groups.
    cells_ : list
        The intersectional cells seen in ``fit``, in the order of their index: a label per
        cell for one attribute, a tuple of labels (one per attribute) for several. Labels are
        Python scalars.
    cell_codes_ : ndarray of shape (n_cells, n_attributes), int64
        The per-attribute codes of each cell.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_fairloss._groups import GroupEncoder
    >>> sf = pd.DataFrame({"sex": ["F", "M", "F", "M"], "age": [30, 30, 50, 30]})
    >>> encoder = GroupEncoder().fit(sf)
    >>> encoder.names_, encoder.numeric_, encoder.n_groups_
    (['sex', 'age'], [False, True], [2, 2])
    >>> encoder.cells_
    [('F', 30), ('F', 50), ('M', 30)]
    >>> groups = encoder.transform(sf)
    >>> groups.codes.tolist()
    [[0, 0], [1, 0], [0, 1], [1, 0]]
    >>> groups.values.tolist()
    [[0.0, 30.0], [1.0, 30.0], [0.0, 50.0], [1.0, 30.0]]
    >>> groups.cells.tolist()
    [0, 2, 1, 2]
    >>> encoder.transform(pd.DataFrame({"sex": ["X"], "age": [30]}), unseen="ignore").cells
    array([-1])
    """

    def __repr__(self):
        return "GroupEncoder()"

    def fit(self, sensitive_features, n_samples=None, reference="X"):
        """Learn the groups of every attribute and the intersectional cells present.

        Parameters
        ----------
        sensitive_features : array-like of shape (n_samples,) or (n_samples, n_attributes), \
                Series, DataFrame or dict of 1-D arrays
            The group of each row, one column per attribute.
        n_samples : int, default=None
            The expected number of rows; another length is an error.
        reference : str, default="X"
            The argument named as the other one in the length error.

        Returns
        -------
        self : GroupEncoder
        """
        self._fit(sensitive_features, n_samples, reference)
        return self

    def fit_transform(self, sensitive_features, n_samples=None, reference="X"):
        """Fit, then encode the same rows (``fit(...).transform(...)``, faster).

        Parameters
        ----------
        sensitive_features, n_samples, reference
            As in :meth:`fit`.

        Returns
        -------
        groups : GroupCodes
        """
        return self._fit(sensitive_features, n_samples, reference)

    def _fit(self, sensitive_features, n_samples, reference):
        frame = sensitive_frame(sensitive_features, n_samples, reference=reference)
        self.names_ = [str(c) for c in frame.columns]
        self.categories_, self.numeric_ = [], []
        for column in frame.columns:
            col = frame[column]
            self.categories_.append(_sorted_unique(col.to_numpy()))
            self.numeric_.append(bool(pd.api.types.is_numeric_dtype(col)
                                      and not pd.api.types.is_bool_dtype(col)))
        self.n_groups_ = [len(c) for c in self.categories_]
        codes, values = self._attribute_codes(frame, "error")
        if codes.shape[1] == 1:
            self.cell_codes_ = np.arange(self.n_groups_[0], dtype=np.int64)[:, None]
            cells = codes[:, 0].copy()
            self.cells_ = _labels(self.categories_[0])
        else:
            keys = _cell_keys(codes, self.n_groups_)
            if keys is None:  # too many combinations for one int64 key
                self.cell_codes_, cells = np.unique(codes, axis=0, return_inverse=True)
            else:
                present, cells = np.unique(keys, return_inverse=True)
                self.cell_codes_ = np.column_stack(np.unravel_index(present, self.n_groups_))
            self.cell_codes_ = self.cell_codes_.astype(np.int64)
            cells = cells.astype(np.int64).ravel()
            self.cells_ = [
                tuple(_py(self.categories_[j][c]) for j, c in enumerate(row))
                for row in self.cell_codes_
            ]
        return GroupCodes(codes, values, cells)

    def transform(self, sensitive_features, unseen="error", *, n_samples=None, reference="X"):
        """The group codes, values and cells of some rows.

        Parameters
        ----------
        sensitive_features : array-like, Series, DataFrame or dict of 1-D arrays
            As in :meth:`fit`, with the same number of attributes.
        unseen : {"error", "ignore"}, default="error"
            What a group (or, with several attributes, a combination of groups) not seen in
            ``fit`` does: raise a ``ValueError``, or get code (and cell) -1.
        n_samples, reference
            As in :meth:`fit`.

        Returns
        -------
        groups : GroupCodes
        """
        if not hasattr(self, "cells_"):
            raise NotFittedError("This GroupEncoder is not fitted yet; call fit first.")
        if unseen not in _UNSEEN:
            raise ValueError(f"unseen must be one of {list(_UNSEEN)}; got {unseen!r}.")
        frame = sensitive_frame(sensitive_features, n_samples, reference=reference)
        if frame.shape[1] != len(self.names_):
            raise ValueError(
                f"sensitive_features has {frame.shape[1]} column(s) but had "
                f"{len(self.names_)} during fit."
            )
        codes, values = self._attribute_codes(frame, unseen)
        if codes.shape[1] == 1:
            cells = codes[:, 0].copy()
        else:
            cells = self._cells_of(codes, unseen)
        return GroupCodes(codes, values, cells)

    def _attribute_codes(self, frame, unseen):
        """Per-attribute codes (int64) and values (float32) of the rows of ``frame``."""
        codes = np.empty(frame.shape, dtype=np.int64)
        values = np.empty(frame.shape, dtype=np.float32)
        for j, column in enumerate(frame.columns):
            col_values = frame[column].to_numpy()
            index = _index_of(self.categories_[j], col_values)
            missing = index < 0
            if unseen == "error" and missing.any():
                shown = _labels(_sorted_unique(col_values[missing])[:_SHOWN])
                raise ValueError(
                    f"sensitive_features column {self.names_[j]!r} holds group(s) {shown} "
                    "not seen during fit."
                )
            codes[:, j] = index
            values[:, j] = col_values.astype(np.float32) if self.numeric_[j] else index
        return codes, values

    def _cells_of(self, codes, unseen):
        """Index in ``cells_`` of each row's combination of codes, -1 where absent."""
        fitted = _cell_keys(self.cell_codes_, self.n_groups_)
        if fitted is None:
            index = pd.MultiIndex.from_arrays(list(self.cell_codes_.T))
            cells = index.get_indexer(pd.MultiIndex.from_arrays(list(codes.T)))
            cells = np.asarray(cells, dtype=np.int64)
        else:  # the fitted keys are sorted: a binary search per row
            cells = np.full(codes.shape[0], -1, dtype=np.int64)
            known = np.flatnonzero((codes >= 0).all(axis=1))
            keys = _cell_keys(codes[known], self.n_groups_)
            position = np.minimum(np.searchsorted(fitted, keys), len(fitted) - 1)
            found = fitted[position] == keys
            cells[known[found]] = position[found]
        if unseen == "error" and np.any(cells < 0):
            absent = np.unique(codes[cells < 0], axis=0)[:_SHOWN]
            shown = [tuple(_py(self.categories_[j][c]) for j, c in enumerate(row))
                     for row in absent]
            raise ValueError(
                f"sensitive_features holds group(s) {shown} not seen during fit "
                f"(combinations of {self.names_})."
            )
        return cells
