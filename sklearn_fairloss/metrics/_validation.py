"""Input validation shared by every metric: sensitive features, targets, weights, options.

One helper per kind of input, with constant messages that name the argument, so that every
metric fails the same way on the same bad input. :func:`check_sensitive_features` is public
so that other parts of the package (the estimators) can reuse it.
"""

from collections import namedtuple
from numbers import Integral

import numpy as np
import pandas as pd

from .._groups import GroupEncoder
from .._validation import check_sample_weight, default_pos_label, sensitive_frame

__all__ = ["check_sensitive_features"]

# Constant, specific messages (formatted with the offending values only).
MSG_Y_LENGTH = "{} has {} samples but {} has {}; they must have the same length."
MSG_Y_EMPTY = "{} is empty; metrics need at least one sample."
MSG_METHOD = "{} must be one of {}; got {!r}."
MSG_POS_LABEL = (
    "pos_label={!r} is not a valid label: the labels are {}. Pass pos_label explicitly "
    "(one of the labels) for binary targets that are not {{0, 1}} or {{-1, 1}}."
)

_GroupEncoding = namedtuple("_GroupEncoding", ["codes", "labels", "names", "frame"])


def _encode_groups(sensitive_features, n_samples=None):
    """Validate ``sensitive_features`` and encode the intersectional groups as integer codes.

    Returns
    -------
    encoding : _GroupEncoding
        ``codes`` (int64, shape (n,)) index ``labels`` (list, sorted; a scalar per group for
        one attribute, a tuple for several), the cells of
        :class:`~sklearn_fairloss._groups.GroupEncoder`; ``names`` are the attribute names
        and ``frame`` the per-attribute DataFrame.
    """
    if isinstance(sensitive_features, _GroupEncoding):
        return sensitive_features
    frame = sensitive_frame(sensitive_features, n_samples, reference="y")
    encoder = GroupEncoder()
    codes = encoder.fit_transform(frame).cells
    return _GroupEncoding(codes, encoder.cells_, encoder.names_, frame)


def check_sensitive_features(sensitive_features, n_samples=None):
    """Validate sensitive features and form intersectional group labels.

    Parameters
    ----------
    sensitive_features : array-like of shape (n_samples,) or (n_samples, n_attributes), \
            Series, DataFrame or dict of 1-D arrays
        The protected attribute(s). With several attributes, a group is a combination of
        their values (intersectional groups); only the combinations present are groups.
    n_samples : int, default=None
        Expected number of rows; a different number is an error.

    Returns
    -------
    groups : ndarray of shape (n_samples,)
        The group label of each row: the attribute's value for one attribute, a tuple of
        values (dtype object) for several.
    frame : DataFrame of shape (n_samples, n_attributes)
        The attributes as columns (named ``sensitive_feature_<j>`` when unnamed), with a
        positional index.

    Raises
    ------
    ValueError
        If the features are missing, scalar, more than 2-D, of the wrong length, or contain
        missing values.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_fairloss.metrics import check_sensitive_features
    >>> sf = pd.DataFrame({"sex": ["F", "M", "F"], "race": ["a", "a", "b"]})
    >>> groups, frame = check_sensitive_features(sf, n_samples=3)
    >>> groups.tolist()
    [('F', 'a'), ('M', 'a'), ('F', 'b')]
    >>> list(frame.columns)
    ['sex', 'race']
    """
    encoding = _encode_groups(sensitive_features, n_samples)
    labels = np.empty(len(encoding.labels), dtype=object)
    labels[:] = encoding.labels
    groups = labels[encoding.codes]
    if len(encoding.names) == 1:
        groups = encoding.frame.iloc[:, 0].to_numpy()
    return groups, encoding.frame


def _check_1d(y, name):
    """Return ``y`` as a 1-D ndarray (a column vector is accepted)."""
    if isinstance(y, (pd.Series, pd.DataFrame)):
        y = y.to_numpy()
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D; got an array of shape {y.shape}.")
    if y.dtype.kind in "fO" and pd.isna(y).any():
        raise ValueError(f"{name} contains missing values (NaN, None or pd.NA) at "
                         f"{int(pd.isna(y).sum())} row(s); drop or impute them first.")
    return y


def _check_lengths(first, *others):
    """``first`` and ``others`` are (name, array) pairs; all must have the same length."""
    name0, a0 = first
    if len(a0) == 0:
        raise ValueError(MSG_Y_EMPTY.format(name0))
    for name, a in others:
        if a is not None and len(a) != len(a0):
            raise ValueError(MSG_Y_LENGTH.format(name, len(a), name0, len(a0)))


def _check_sample_weight(sample_weight, n_samples):
    """Return ``sample_weight`` as a float64 1-D array, or None when it is None."""
    return check_sample_weight(sample_weight, n_samples, reference="y")


def _check_method(method, allowed, name="method"):
    if method not in allowed:
        raise ValueError(MSG_METHOD.format(name, list(allowed), method))
    return method


def _resolve_classes(y_true, y_pred, pos_label, labels=None):
    """Sorted union of the labels and the classes to evaluate one-vs-rest.

    Binary targets (at most two labels) are evaluated for ``pos_label`` only; multiclass
    targets for every label. ``labels`` fixes the label set (e.g. across bootstrap samples).
    """
    if labels is None:
        labels = np.union1d(np.unique(y_true), np.unique(y_pred))
    else:
        labels = np.unique(np.asarray(labels))
    if len(labels) <= 2:
        if pos_label is None:
            pos_label = default_pos_label(labels)
            if pos_label is None:
                raise ValueError(MSG_POS_LABEL.format(None, labels.tolist()))
        elif len(labels) == 2 and pos_label not in labels.tolist():
            raise ValueError(MSG_POS_LABEL.format(pos_label, labels.tolist()))
        return labels, [pos_label]
    return labels, labels.tolist()


def _check_predictions(y_true, y_pred, sensitive_features, sample_weight, pos_label,
                       labels=None):
    """Validate the inputs of a metric of predicted labels by group.

    Returns
    -------
    y_true, y_pred : ndarray of shape (n_samples,)
    sample_weight : ndarray of shape (n_samples,) or None
    groups : _GroupEncoding
    labels : ndarray
        The sorted labels, with the positive class of binary targets among them.
    classes : list
        The classes to evaluate one-vs-rest (``[pos_label]`` for binary targets).
    """
    y_true = _check_1d(y_true, "y_true")
    y_pred = _check_1d(y_pred, "y_pred")
    _check_lengths(("y_true", y_true), ("y_pred", y_pred))
    n_samples = y_true.shape[0]
    sample_weight = _check_sample_weight(sample_weight, n_samples)
    groups = _encode_groups(sensitive_features, n_samples)
    labels, classes = _resolve_classes(y_true, y_pred, pos_label, labels)
    if len(classes) == 1:
        labels = np.union1d(labels, classes)
    return y_true, y_pred, sample_weight, groups, labels, classes


def _proba_array(y_proba):
    """``y_proba`` as a 1-D or 2-D float64 array (a one-column matrix becomes 1-D), and the
    dtype it was given in (for the tolerance of the row sums)."""
    given = np.asarray(y_proba)
    proba = given.astype(np.float64)
    if proba.ndim == 2 and proba.shape[1] == 1:
        proba = proba.ravel()
    if proba.ndim not in (1, 2):
        raise ValueError(f"y_proba must be 1-D or 2-D; got an array of shape {proba.shape}.")
    return proba, given.dtype


def _check_proba_values(proba, dtype):
    """Raise unless ``proba`` holds probabilities in [0, 1] and, when 2-D, rows that sum to 1
    within a relative tolerance of ``max(1e-6, sqrt(eps))`` of ``dtype`` (as
    :func:`sklearn.metrics.log_loss`)."""
    if not np.all(np.isfinite(proba)) or proba.min(initial=0.0) < 0 or \
            proba.max(initial=0.0) > 1:
        raise ValueError("y_proba must hold probabilities in [0, 1] (no NaN or infinity).")
    if proba.ndim == 2:
        _check_rows_sum_to_one(proba, dtype)


def _check_rows_sum_to_one(proba, dtype):
    """Raise when a row of the (n, k) probability matrix does not sum to 1."""
    eps = np.finfo(dtype).eps if np.issubdtype(dtype, np.floating) else np.finfo(np.float64).eps
    rtol = max(1e-6, float(np.sqrt(eps)))
    sums = proba.sum(axis=1)
    bad = np.flatnonzero(~np.isclose(sums, 1.0, rtol=rtol, atol=0.0))
    if len(bad):
        raise ValueError(
            f"The rows of a 2-D y_proba must sum to 1 (one probability per class); "
            f"{len(bad)} row(s) do not, e.g. row {bad[0]} sums to {sums[bad[0]]:.6g}. Pass "
            "predict_proba's matrix, or the 1-D positive-class probabilities.")


def _label_columns(y_true, n_columns, pos_label=None, labels=None):
    """The column of a probability matrix that each label of ``y_true`` stands for.

    ``n_columns`` is None for 1-D (positive-class) probabilities: then ``y_true`` must be
    binary (or ``pos_label`` given) and the column is 1 for ``pos_label``, else 0. For a
    matrix the columns are the sorted labels of ``y_true``, or ``labels`` in their order.
    Only the distinct values of ``y_true`` matter, so the labels of a table of counts give the
    same answer as the rows they count.
    """
    if n_columns is None:
        present = np.unique(y_true)
        if pos_label is None:
            pos_label = default_pos_label(present)
            if pos_label is None or len(present) > 2:
                raise ValueError(
                    "y_proba is 1-D (positive-class probabilities), so y_true must be binary "
                    "with labels {0, 1} or {-1, 1}, or pos_label must be given; got labels "
                    f"{present.tolist()}.")
        elif len(present) > 2:
            raise ValueError(
                f"y_proba is 1-D but y_true has {len(present)} labels; pass the (n, k) matrix.")
        return (y_true == pos_label).astype(np.int64)
    if labels is None:
        labels = np.unique(y_true)
        if len(labels) == 2 and n_columns == 2:
            pass
        elif len(labels) != n_columns:
            raise ValueError(
                f"y_proba has {n_columns} columns but y_true has {len(labels)} labels; "
                "pass labels= (the classes in column order) when a class is absent.")
    labels = np.asarray(labels)
    if len(labels) != n_columns:
        raise ValueError(f"labels has {len(labels)} entries but y_proba has {n_columns} "
                         "columns.")
    order = np.argsort(labels, kind="stable")
    pos = np.searchsorted(labels[order], y_true)
    pos = np.clip(pos, 0, len(labels) - 1)
    if not np.all(labels[order][pos] == y_true):
        raise ValueError("y_true holds labels that are not in labels.")
    return order[pos].astype(np.int64)


def _check_n_bins(n_bins):
    if not isinstance(n_bins, Integral) or isinstance(n_bins, bool) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer; got {n_bins!r}.")
    return int(n_bins)
