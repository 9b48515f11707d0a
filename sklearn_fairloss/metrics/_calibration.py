"""Calibration metrics: binned calibration errors, the Balance score, the Brier decomposition,
and the gap in calibration error between groups.

Brier score, log loss, balanced accuracy and the geometric mean are not repeated here: use
:func:`sklearn.metrics.brier_score_loss`, :func:`sklearn.metrics.log_loss`,
:func:`sklearn.metrics.balanced_accuracy_score` and
:func:`imblearn.metrics.geometric_mean_score`.
"""

from collections import namedtuple
from functools import partial

import numpy as np

from .._validation import default_pos_label
from . import _dask
from ._binning import (
    STRATEGIES,
    VARIANTS,
    _bin_means,
    _curve_points,
    _means_from_sums,
    calibration_bins,
)
from ._docstrings import fill_doc
from ._grouping import _difference, _metric_by_group
from ._validation import (
    _check_1d,
    _check_lengths,
    _check_method,
    _check_n_bins,
    _check_proba_values,
    _check_sample_weight,
    _encode_groups,
    _label_columns,
    _proba_array,
)

__all__ = [
    "expected_calibration_error",
    "maximum_calibration_error",
    "balance_score",
    "brier_score_decomposition",
    "BrierDecomposition",
    "calibration_error_difference",
]

BrierDecomposition = namedtuple("BrierDecomposition", ["reliability", "resolution", "uncertainty"])
BrierDecomposition.__doc__ = """Murphy's (1973) decomposition of the Brier score.

``brier = reliability - resolution + uncertainty`` (exact when each bin holds one forecast
value).
"""


def _check_proba(y_true, y_proba, pos_label=None, labels=None):
    """Validate probabilities and encode labels.

    The one check of the calibration metrics (and of ``group_report``): values in [0, 1] and,
    for a 2-D ``y_proba``, rows that sum to 1 within a relative tolerance of
    ``max(1e-6, sqrt(eps))`` of the input's float type (as :func:`sklearn.metrics.log_loss`).

    Returns
    -------
    proba : ndarray of shape (n_samples, n_classes)
        Binary 1-D input becomes two columns ``[1 - p, p]``.
    y : ndarray of shape (n_samples,), int
        Column index of each true label.
    """
    y_true = _check_1d(y_true, "y_true")
    proba, dtype = _proba_array(y_proba)
    _check_lengths(("y_true", y_true), ("y_proba", proba))
    _check_proba_values(proba, dtype)
    y = _label_columns(y_true, proba.shape[1] if proba.ndim == 2 else None, pos_label, labels)
    if proba.ndim == 1:
        return np.column_stack([1.0 - proba, proba]), y
    return proba, y


def _errors(weight, mean_confidence, mean_outcome):
    """Share of the weight and |accuracy - confidence| of each non-empty bin of a curve."""
    keep = weight > 0
    total = weight[keep]
    return total / total.sum(), np.abs(mean_outcome[keep] - mean_confidence[keep])


def _ece(curves):
    """The ECE of the curves' ``(share, gap)`` bin arrays: their mean over curves."""
    return float(np.mean([np.sum(share * gap) for share, gap in curves]))


def _ece_from_sums(weight, s_conf, s_out):
    """The ECE of the bin sums of each curve (arrays of shape (n_curves, n_bins))."""
    return _ece([_errors(*_means_from_sums(*sums)) for sums in zip(weight, s_conf, s_out)])


def _dask_bins(y_true, y_proba, sample_weight, n_bins, strategy, variant, pos_label, labels,
               sensitive_features=None):
    """The bins of every curve of ``variant`` (and of every group), in one pass over Dask
    inputs: :func:`_bins_table` summed by :func:`_dask.reduce_partitions`, read by
    :func:`_bins_from_table`."""
    table_fn = _bins_table(y_proba, n_bins, strategy, variant, sensitive_features is not None)
    (table,) = _dask.reduce_partitions(
        {"y_true": y_true, "y_proba": y_proba, "sensitive_features": sensitive_features,
         "sample_weight": sample_weight}, [table_fn])
    return _bins_from_table(table, y_proba, n_bins, variant, pos_label, labels)


def _bins_table(y_proba, n_bins, strategy, variant, by_group):
    """The per-partition table of the bins of Dask inputs (checked before any data is
    read)."""
    if strategy != "uniform":
        raise _dask.rows_only("strategy='quantile'",
                              "its bin edges are quantiles of all the confidences")
    _curve_points(np.zeros((0, _dask.n_columns(y_proba) or 2)), variant)  # 'positive': k = 2
    return partial(_dask.bin_sums, variant=variant, n_bins=n_bins, by_group=by_group)


def _bins_from_table(table, y_proba, n_bins, variant, pos_label, labels):
    """Bin sums of each group and curve from a summed :func:`_dask.bin_sums` table.

    Returns
    -------
    weight, s_conf, s_out : ndarray of shape (n_groups, n_curves, n_bins)
        Weight, weighted confidence and weighted outcome of each bin (one group when the
        table is not grouped).
    groups : _GroupEncoding or None
        The groups, encoded as in-memory input would be.
    """
    k = _dask.n_columns(y_proba)
    n_curves = len(_curve_points(np.zeros((0, k or 2)), variant))
    column = _label_columns(_dask.level(table, _dask.Y_TRUE), k, pos_label, labels)
    hit = column == _dask.level(table, _dask.COLUMN)
    groups, codes, n_groups = None, 0, 1
    frame = _dask.group_frame(table)
    if frame is not None:
        groups = _encode_groups(frame)
        codes, n_groups = groups.codes, len(groups.labels)
    index = (codes * n_curves + _dask.level(table, _dask.CURVE)) * n_bins + \
        _dask.level(table, _dask.BIN)
    size, shape = n_groups * n_curves * n_bins, (n_groups, n_curves, n_bins)
    weight, wconf = table["weight"].to_numpy(), table["wconf"].to_numpy()
    sums = [np.bincount(index, weights=w, minlength=size).reshape(shape)
            for w in (weight, wconf, np.where(hit, weight, 0.0))]
    return (*sums, groups)


def _binned_errors(y_true, y_proba, n_bins, strategy, variant, sample_weight, pos_label, labels):
    """Per-(variant-)curve (weights, |accuracy - confidence|) bin arrays."""
    n_bins = _check_n_bins(n_bins)
    _check_method(strategy, STRATEGIES, "strategy")
    _check_method(variant, VARIANTS, "variant")
    if _dask.any_dask(y_true, y_proba, sample_weight):
        weight, s_conf, s_out, _ = _dask_bins(y_true, y_proba, sample_weight, n_bins,
                                              strategy, variant, pos_label, labels)
        return [_errors(*_means_from_sums(*sums))
                for sums in zip(weight[0], s_conf[0], s_out[0])]
    proba, y = _check_proba(y_true, y_proba, pos_label, labels)
    sw = _check_sample_weight(sample_weight, y.shape[0])
    out = []
    for conf, column in _curve_points(proba, variant):
        outcome = (y == column).astype(np.float64)
        bins = calibration_bins(conf, outcome, n_bins=n_bins, strategy=strategy,
                                sample_weight=sw)
        out.append(_errors(bins.weight, bins.mean_confidence, bins.mean_outcome))
    return out


@fill_doc
def expected_calibration_error(y_true, y_proba, *, n_bins=15, strategy="uniform",
                               variant="top_label", sample_weight=None, pos_label=None,
                               labels=None):
    r"""Expected calibration error (ECE): weighted mean gap between accuracy and confidence.

    :math:`\mathrm{ECE} = \sum_b \frac{n_b}{n} \lvert \mathrm{acc}(b) - \mathrm{conf}(b)\rvert`
    over the bins :math:`b` of the confidences (Naeini, Cooper & Hauskrecht 2015, "Obtaining
    Well Calibrated Probabilities Using Bayesian Binning"; Guo et al. 2017, "On Calibration
    of Modern Neural Networks").

    {calibration_params}

    Returns
    -------
    ece : float
        In [0, 1]; 0 is perfectly calibrated on the bins.

    Examples
    --------
    >>> from sklearn_fairloss.metrics import expected_calibration_error
    >>> y_true = [0, 1, 1, 1]
    >>> y_proba = [0.2, 0.6, 0.7, 0.9]
    >>> round(expected_calibration_error(y_true, y_proba, n_bins=2, variant="positive"), 4)
    0.25
    """
    return _ece(_binned_errors(y_true, y_proba, n_bins, strategy, variant, sample_weight,
                               pos_label, labels))


@fill_doc
def maximum_calibration_error(y_true, y_proba, *, n_bins=15, strategy="uniform",
                              variant="top_label", sample_weight=None, pos_label=None,
                              labels=None):
    r"""Maximum calibration error (MCE): the largest accuracy-confidence gap over bins.

    :math:`\mathrm{MCE} = \max_b \lvert \mathrm{acc}(b) - \mathrm{conf}(b)\rvert` over
    non-empty bins (Naeini et al. 2015); for ``variant="classwise"`` the mean over classes.

    {calibration_params}

    Returns
    -------
    mce : float
        In [0, 1]; 0 when every non-empty bin is calibrated.

    Examples
    --------
    >>> from sklearn_fairloss.metrics import maximum_calibration_error
    >>> y_true = [0, 1, 1, 1]
    >>> y_proba = [0.2, 0.6, 0.7, 0.9]
    >>> round(maximum_calibration_error(y_true, y_proba, n_bins=2, variant="positive"), 4)
    0.2667
    >>> round(maximum_calibration_error(y_true, y_proba, n_bins=2), 4)  # top-label confidence
    0.25
    """
    curves = _binned_errors(y_true, y_proba, n_bins, strategy, variant, sample_weight,
                            pos_label, labels)
    return float(np.mean([np.max(gap) for _, gap in curves]))


def balance_score(y_true, y_proba, *, sample_weight=None, pos_label=None, labels=None):
    r"""Balance score: mean of (correct - confidence) of the predicted class; 0 is ideal.

    Choi, Kim & Lee (2023), "Rethinking Evaluation Metric for Probability Estimation Models
    Using Esports Data" (arXiv 2309.06248). Each sample with confidence :math:`q` in its
    predicted class scores a gain :math:`1 - q` when the prediction is right and a loss
    :math:`-q` when wrong; the score is their mean, i.e. accuracy minus mean confidence.
    It needs no bins; negative means over-confident, positive under-confident. Binary
    predictions are positive when :math:`p \ge 0.5`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
    y_proba : array-like of shape (n_samples,) or (n_samples, n_classes)
        Positive-class probabilities (1-D, binary) or a ``predict_proba`` matrix.
    sample_weight : array-like of shape (n_samples,), default=None
    pos_label : int, str or bool, default=None
    labels : array-like of shape (n_classes,), default=None

    Returns
    -------
    score : float
        In [-1, 0.5]; 0 for a calibrated model.

    Examples
    --------
    >>> from sklearn_fairloss.metrics import balance_score
    >>> y_true = [1, 0, 1, 0]
    >>> y_proba = [0.8, 0.3, 0.4, 0.6]
    >>> round(balance_score(y_true, y_proba), 4)
    -0.175
    """
    if _dask.any_dask(y_true, y_proba, sample_weight):  # one bin of the top-label curve
        weight, s_conf, s_out, _ = _dask_bins(y_true, y_proba, sample_weight, 1, "uniform",
                                              "top_label", pos_label, labels)
        return float((s_out.sum() - s_conf.sum()) / weight.sum())
    proba, y = _check_proba(y_true, y_proba, pos_label, labels)
    sw = _check_sample_weight(sample_weight, y.shape[0])
    ((conf, pred),) = _curve_points(proba, "top_label")
    gain = (pred == y) - conf
    return float(np.average(gain, weights=sw))


def brier_score_decomposition(y_true, y_proba, *, n_bins=None, strategy="uniform",
                              sample_weight=None, pos_label=None, labels=None):
    r"""Murphy's decomposition of the Brier score: reliability, resolution, uncertainty.

    Murphy (1973), "A New Vector Partition of the Probability Score". With forecasts grouped
    into bins :math:`b` (weight :math:`n_b`, mean forecast :math:`\bar f_b`, observed
    frequency :math:`\bar o_b`, overall frequency :math:`\bar o`):
    reliability :math:`= \sum_b \frac{n_b}{n} (\bar f_b - \bar o_b)^2`,
    resolution :math:`= \sum_b \frac{n_b}{n} (\bar o_b - \bar o)^2`,
    uncertainty :math:`= \bar o (1 - \bar o)`, and
    ``brier_score_loss = reliability - resolution + uncertainty`` exactly when every bin holds
    a single forecast value (the default, ``n_bins=None``, groups equal forecasts).
    Multiclass terms are summed over the classes, matching the multiclass
    :func:`sklearn.metrics.brier_score_loss`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
    y_proba : array-like of shape (n_samples,) or (n_samples, n_classes)
    n_bins : int or None, default=None
        None groups identical forecasts (exact decomposition); an int bins them.
    strategy : {"uniform", "quantile"}, default="uniform"
        Binning when ``n_bins`` is an int.
    sample_weight : array-like of shape (n_samples,), default=None
    pos_label : int, str or bool, default=None
    labels : array-like of shape (n_classes,), default=None

    Returns
    -------
    decomposition : BrierDecomposition
        Named tuple ``(reliability, resolution, uncertainty)``.

    Examples
    --------
    >>> from sklearn_fairloss.metrics import brier_score_decomposition
    >>> d = brier_score_decomposition([0, 1, 1, 0], [0.2, 0.2, 0.8, 0.8])
    >>> [round(v, 4) for v in d]
    [0.09, 0.0, 0.25]
    """
    _check_method(strategy, STRATEGIES, "strategy")
    if _dask.any_dask(y_true, y_proba, sample_weight):
        if n_bins is None:
            raise _dask.rows_only("n_bins=None", "it groups identical forecasts; pass n_bins")
        weight, s_conf, s_out, _ = _dask_bins(y_true, y_proba, sample_weight,
                                              _check_n_bins(n_bins), strategy, "classwise",
                                              pos_label, labels)
        weight, s_conf, s_out = weight[0], s_conf[0], s_out[0]
        columns = [1] if weight.shape[0] == 2 else range(weight.shape[0])
        terms = [_murphy(*_means_from_sums(weight[k], s_conf[k], s_out[k]),
                         s_out[k].sum() / weight[k].sum()) for k in columns]
        return BrierDecomposition(*(float(sum(t)) for t in zip(*terms)))
    proba, y = _check_proba(y_true, y_proba, pos_label, labels)
    sw = _check_sample_weight(sample_weight, y.shape[0])
    columns = [1] if proba.shape[1] == 2 else range(proba.shape[1])
    rel = res = unc = 0.0
    for k in columns:
        f = proba[:, k]
        o = (y == k).astype(np.float64)
        if n_bins is None:
            _, ids = np.unique(f, return_inverse=True)
            ids = ids.ravel()
            weight, f_bar, o_bar = _bin_means(ids, ids.max() + 1, f, o, sw)
        else:
            _, weight, f_bar, o_bar = calibration_bins(f, o, n_bins=n_bins, strategy=strategy,
                                                       sample_weight=sw)
        w = np.ones_like(f) if sw is None else sw
        terms = _murphy(weight, f_bar, o_bar, float(np.average(o, weights=w)))
        rel, res, unc = rel + terms[0], res + terms[1], unc + terms[2]
    return BrierDecomposition(rel, res, unc)


def _murphy(weight, f_bar, o_bar, base):
    """Reliability, resolution and uncertainty of one class from its bins and base rate."""
    keep = weight > 0
    total, f_bar, o_bar = weight[keep], f_bar[keep], o_bar[keep]
    share = total / total.sum()
    return (float(np.sum(share * (f_bar - o_bar) ** 2)),
            float(np.sum(share * (o_bar - base) ** 2)), base * (1.0 - base))


def calibration_error_difference(y_true, y_proba, *, sensitive_features,
                                 method="between_groups", n_bins=15, strategy="uniform",
                                 variant="top_label", sample_weight=None, pos_label=None,
                                 labels=None):
    r"""Gap in expected calibration error between groups.

    The ECE (:func:`expected_calibration_error`) of each group, then their largest
    difference (``"between_groups"``) or the largest distance to the overall ECE
    (``"to_overall"``). Calibration within groups is the "calibration" fairness criterion of
    Kleinberg, Mullainathan & Raghavan (2017) and Pleiss et al. (2017).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
    y_proba : array-like of shape (n_samples,) or (n_samples, n_classes)
    sensitive_features : array-like, Series or DataFrame
        Protected attribute(s); several attributes form intersectional groups.
    method : {"between_groups", "to_overall"}, default="between_groups"
    n_bins, strategy, variant, sample_weight, pos_label, labels
        As in :func:`expected_calibration_error`.

    Returns
    -------
    difference : float

    Examples
    --------
    >>> from sklearn_fairloss.metrics import calibration_error_difference
    >>> y_true = [0, 1, 0, 1]
    >>> y_proba = [0.1, 0.9, 0.6, 0.4]
    >>> gap = calibration_error_difference(y_true, y_proba, sensitive_features=["a", "a", "b", "b"],
    ...                                    n_bins=5, variant="positive")
    >>> round(gap, 4)
    0.5
    """
    _check_method(method, ("between_groups", "to_overall"))
    if _dask.any_dask(y_true, y_proba, sensitive_features, sample_weight):
        _check_method(strategy, STRATEGIES, "strategy")
        _check_method(variant, VARIANTS, "variant")
        weight, s_conf, s_out, _ = _dask_bins(
            y_true, y_proba, sample_weight, _check_n_bins(n_bins), strategy, variant,
            pos_label, labels, sensitive_features=sensitive_features)
        by_group = np.array([_ece_from_sums(*sums) for sums in zip(weight, s_conf, s_out)])
        overall = _ece_from_sums(weight.sum(axis=0), s_conf.sum(axis=0), s_out.sum(axis=0))
        return float(_difference(by_group[:, None], [overall], method)[0])
    y_arr = _check_1d(y_true, "y_true")
    enc = _encode_groups(sensitive_features, y_arr.shape[0])
    proba = np.asarray(y_proba)
    if labels is None and proba.ndim == 2:
        # groups may miss a class (two columns too): fix the column order once
        present = np.unique(y_arr)
        labels = present if len(present) == proba.shape[1] else None
    kwargs = dict(n_bins=n_bins, strategy=strategy, variant=variant, pos_label=pos_label,
                  labels=labels)
    if proba.ndim == 1 and pos_label is None:
        kwargs["pos_label"] = default_pos_label(np.unique(y_arr))
    overall, by_group = _metric_by_group(
        expected_calibration_error, y_arr, proba, enc.codes, len(enc.labels),
        _check_sample_weight(sample_weight, y_arr.shape[0]), kwargs)
    return float(_difference(by_group[:, None], [overall], method)[0])

