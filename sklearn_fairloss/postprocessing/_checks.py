"""Input checks shared by the post-hoc calibrators and the decision rules (numpy only).

Constant messages that name the argument: ``logits``/``proba`` (scores, one column per
class), ``y`` (integer class codes, the column index of the true class), and the
positive-class probabilities of the binary rules.
"""

import numpy as np

__all__ = ["check_codes", "check_positive_proba", "check_proba", "check_scores"]


def check_scores(values, name="logits", n_classes=None, fitted="calibrator"):
    """``values`` as a finite float64 array of shape (n, k), k >= 2 (``n_classes`` if given).

    ``fitted`` names the object in the message for a wrong number of columns.
    """
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array of shape (n_samples, n_classes).") \
            from exc
    if array.ndim != 2:
        problem = ("must be 2-D of shape (n_samples, n_classes), binary included (two "
                   f"columns); got an array of shape {array.shape}")
    elif array.shape[0] == 0:
        problem = "is empty; at least one sample is needed"
    elif n_classes is None and array.shape[1] < 2:
        problem = f"must have at least 2 columns (one per class); got {array.shape[1]}"
    elif n_classes is not None and array.shape[1] != n_classes:
        problem = (f"has {array.shape[1]} columns but the {fitted} was fitted on {n_classes} "
                   "classes")
    elif not np.all(np.isfinite(array)):
        problem = "contains NaN or infinite values"
    elif np.abs(array).max() > 1e100:
        problem = ("has values beyond 1e100 in absolute value, where scaling overflows; "
                   "logits of a trained model are far smaller")
    else:
        return array
    raise ValueError(f"{name} {problem}.")


def check_proba(proba, n_classes=None):
    """Class probabilities: :func:`check_scores` for ``proba``, with values in [0, 1]."""
    proba = check_scores(proba, "proba", n_classes, fitted="rule")
    if proba.min() < 0 or proba.max() > 1:
        raise ValueError("proba must hold probabilities in [0, 1]; got values in "
                         f"[{proba.min():g}, {proba.max():g}].")
    return proba


def check_positive_proba(proba):
    """Positive-class probabilities of a binary problem, shape (n,), from (n,) or (n, 2)."""
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim == 2 and proba.shape[1] == 2:
        proba = proba[:, 1]
    if proba.ndim != 1 or proba.shape[0] == 0:
        raise ValueError("proba must be the positive-class probabilities, shape (n_samples,)"
                         f" or (n_samples, 2), with at least one row; got shape {proba.shape}.")
    if not np.all(np.isfinite(proba)) or proba.min() < 0 or proba.max() > 1:
        raise ValueError("proba must hold finite probabilities in [0, 1].")
    return proba


def check_codes(y, n_samples, n_classes, reference="logits"):
    """``y`` as int64 class codes in 0 .. n_classes - 1, one per row of ``reference``."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D; got an array of shape {y.shape}.")
    if y.shape[0] != n_samples:
        raise ValueError(f"y has {y.shape[0]} rows but {reference} has {n_samples} rows; they "
                         "must have the same length.")
    if y.dtype.kind not in "iub" and not (
            y.dtype.kind == "f" and np.all(np.isfinite(y)) and np.all(y == np.round(y))):
        raise ValueError("y must hold integer class codes 0 .. n_classes - 1 (the column "
                         f"index of the true class); got dtype {y.dtype}.")
    y = y.astype(np.int64)
    if y.min() < 0 or y.max() >= n_classes:
        raise ValueError(f"y must hold class codes in 0 .. {n_classes - 1} ({reference} has "
                         f"{n_classes} columns); got values in [{y.min()}, {y.max()}].")
    return y
