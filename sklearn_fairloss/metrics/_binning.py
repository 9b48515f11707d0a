"""The bins of every binned calibration measure: :func:`calibration_bins`.

The calibration errors, the binned Brier decomposition and the reliability diagram all use
these bins, so the same predictions give the same bins everywhere.
"""

from collections import namedtuple
from functools import partial

import numpy as np

from ._validation import _check_1d, _check_lengths, _check_method, _check_n_bins

__all__ = ["CalibrationBins", "calibration_bins"]

STRATEGIES = ("uniform", "quantile")

CalibrationBins = namedtuple(
    "CalibrationBins", ["edges", "weight", "mean_confidence", "mean_outcome"])
CalibrationBins.__doc__ = """The bins of :func:`calibration_bins`.

``edges`` has ``n_bins + 1`` entries; ``weight`` (the number, or total ``sample_weight``, of
rows), ``mean_confidence`` and ``mean_outcome`` have one entry per bin, NaN means for the
empty bins. The binning of the expected calibration error (Guo et al. 2017, "On Calibration
of Modern Neural Networks", ICML).

Examples
--------
>>> from sklearn_fairloss.metrics import calibration_bins
>>> bins = calibration_bins([0.1, 0.9], [0, 1], n_bins=2)
>>> bins.weight.tolist(), bins.mean_outcome.tolist()
([1.0, 1.0], [0.0, 1.0])
"""


VARIANTS = ("top_label", "positive", "classwise")


def _curve_points(proba, variant):
    """The reliability curves of a ``(n, k)`` probability matrix, as ``(confidence, column)``
    pairs: each row's confidence is judged right when its true label's column is ``column``
    (an array of predicted columns for ``"top_label"``, one column for the others).

    ``"top_label"``: the predicted class's probability (binary: class 1 when its probability
    is at least 0.5); ``"positive"``: the positive (second) column; ``"classwise"``: every
    column.
    """
    if variant == "top_label":
        pred = np.argmax(proba, axis=1)
        if proba.shape[1] == 2:
            pred = (proba[:, 1] >= 0.5).astype(np.int64)
        return [(proba[np.arange(proba.shape[0]), pred], pred)]
    if variant == "positive":
        if proba.shape[1] != 2:
            raise ValueError("variant='positive' needs binary targets; use 'top_label' or "
                             "'classwise' for multiclass.")
        return [(proba[:, 1], 1)]
    return [(proba[:, k], k) for k in range(proba.shape[1])]


def _bin_ids(confidence, edges):
    """The bin of each confidence; a value on an edge belongs to the lower bin."""
    return np.searchsorted(edges[1:-1], confidence)


def _bin_sums(ids, n_bins, confidence, outcome, sample_weight):
    """Weight, weighted confidence sum and weighted outcome sum of the rows of each bin."""
    if sample_weight is None:
        weight = np.bincount(ids, minlength=n_bins).astype(np.float64)
        s_conf = np.bincount(ids, weights=confidence, minlength=n_bins)
        s_out = np.bincount(ids, weights=outcome, minlength=n_bins)
    else:
        weight = np.bincount(ids, weights=sample_weight, minlength=n_bins)
        s_conf = np.bincount(ids, weights=sample_weight * confidence, minlength=n_bins)
        s_out = np.bincount(ids, weights=sample_weight * outcome, minlength=n_bins)
    return weight, s_conf, s_out


def _means_from_sums(weight, s_conf, s_out):
    """Weight, mean confidence and mean outcome per bin (NaN means for empty bins), from the
    sums of :func:`_bin_sums`; any leading axes (groups, curves) are kept."""
    keep = weight > 0
    mean_conf = np.full(weight.shape, np.nan)
    mean_out = np.full(weight.shape, np.nan)
    mean_conf[keep] = s_conf[keep] / weight[keep]
    mean_out[keep] = s_out[keep] / weight[keep]
    return weight, mean_conf, mean_out


def _bin_means(ids, n_bins, confidence, outcome, sample_weight):
    """Weight, mean confidence and mean outcome of the rows of each bin ``ids``."""
    return _means_from_sums(*_bin_sums(ids, n_bins, confidence, outcome, sample_weight))


def _bin_edges(confidence, n_bins, strategy):
    if strategy == "quantile":
        return np.percentile(confidence, np.linspace(0, 100, n_bins + 1))
    return np.linspace(0.0, 1.0, n_bins + 1)


def calibration_bins(confidence, outcome, *, n_bins=10, strategy="uniform",
                     sample_weight=None):
    """Bin predicted probabilities and average them, and the outcomes, per bin.

    The bins are those of :func:`sklearn.calibration.calibration_curve`: ``n_bins``
    equal-width bins on [0, 1] (``"uniform"``) or bins between quantiles of ``confidence``
    (``"quantile"``, equal mass); a value on an edge belongs to the lower bin. Rows count
    with their ``sample_weight``. A calibration error compares ``mean_outcome`` with
    ``mean_confidence`` bin by bin; a reliability diagram plots them.

    Parameters
    ----------
    confidence : array-like of shape (n_samples,)
        Predicted probabilities (of the positive class, or of the predicted class).
    outcome : array-like of shape (n_samples,)
        What the probability predicts: 1 where the event happened, else 0 (any numbers are
        averaged).
    n_bins : int, default=10
        Number of bins.
    strategy : {"uniform", "quantile"}, default="uniform"
        Equal-width or equal-mass bins.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights; None counts every row once.

    Returns
    -------
    bins : CalibrationBins
        Named tuple ``(edges, weight, mean_confidence, mean_outcome)``; the means are NaN
        for empty bins.

    Examples
    --------
    >>> from sklearn_fairloss.metrics import calibration_bins
    >>> bins = calibration_bins([0.1, 0.3, 0.75, 0.95, 0.4], [0, 1, 1, 1, 0], n_bins=4)
    >>> bins.edges.tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    >>> bins.weight.tolist()
    [1.0, 2.0, 1.0, 1.0]
    >>> bins.mean_confidence.round(2).tolist(), bins.mean_outcome.tolist()
    ([0.1, 0.35, 0.75, 0.95], [0.0, 0.5, 1.0, 1.0])
    """
    n_bins = _check_n_bins(n_bins)
    _check_method(strategy, STRATEGIES, "strategy")
    from . import _dask  # it bins with this module's helpers

    if _dask.any_dask(confidence, outcome, sample_weight):
        if strategy != "uniform":
            raise _dask.rows_only("strategy='quantile'",
                                  "its bin edges are quantiles of all the confidences")
        (table,) = _dask.reduce_partitions(
            {"confidence": confidence, "outcome": outcome, "sample_weight": sample_weight},
            [partial(_dask.confidence_sums, n_bins=n_bins)])
        ids = _dask.level(table, _dask.BIN)
        weight, s_conf, s_out = (np.bincount(ids, weights=table[c].to_numpy(), minlength=n_bins)
                                 for c in ("weight", "wconf", "wout"))
        return CalibrationBins(np.linspace(0.0, 1.0, n_bins + 1),
                               *_means_from_sums(weight, s_conf, s_out))
    confidence = _check_1d(confidence, "confidence").astype(np.float64)
    outcome = _check_1d(outcome, "outcome").astype(np.float64)
    _check_lengths(("confidence", confidence), ("outcome", outcome),
                   ("sample_weight", sample_weight))
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=np.float64)
    edges = _bin_edges(confidence, n_bins, strategy)
    ids = _bin_ids(confidence, edges)
    return CalibrationBins(edges, *_bin_means(ids, n_bins, confidence, outcome, sample_weight))
