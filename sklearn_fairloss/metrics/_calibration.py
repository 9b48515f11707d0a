"""Calibration metrics: binned calibration errors, the Balance score, the Brier decomposition,
and the gap in calibration error between groups.

Brier score, log loss, balanced accuracy and the geometric mean are not repeated here: use
:func:`sklearn.metrics.brier_score_loss`, :func:`sklearn.metrics.log_loss`,
:func:`sklearn.metrics.balanced_accuracy_score` and
:func:`imblearn.metrics.geometric_mean_score`.
"""

from collections import namedtuple

import numpy as np

from .._validation import default_pos_label
from ._binning import STRATEGIES, _bin_means, calibration_bins
from ._docstrings import fill_doc
from ._grouping import _difference, _metric_by_group
from ._validation import (
    _check_1d,
    _check_lengths,
    _check_method,
    _check_n_bins,
    _check_sample_weight,
    _encode_groups,
)

__all__ = [
    "expected_calibration_error",
    "maximum_calibration_error",
    "balance_score",
    "brier_score_decomposition",
    "BrierDecomposition",
    "calibration_error_difference",
]

_VARIANTS = ("top_label", "positive", "classwise")

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
    given = np.asarray(y_proba)
    proba = given.astype(np.float64)
    if proba.ndim == 2 and proba.shape[1] == 1:
        proba = proba.ravel()
    if proba.ndim not in (1, 2):
        raise ValueError(f"y_proba must be 1-D or 2-D; got an array of shape {proba.shape}.")
    _check_lengths(("y_true", y_true), ("y_proba", proba))
    if not np.all(np.isfinite(proba)) or proba.min() < 0 or proba.max() > 1:
        raise ValueError("y_proba must hold probabilities in [0, 1] (no NaN or infinity).")
    if proba.ndim == 2:
        _check_rows_sum_to_one(proba, given.dtype)
    if proba.ndim == 1:
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
        y = (y_true == pos_label).astype(np.int64)
        return np.column_stack([1.0 - proba, proba]), y
    if labels is None:
        labels = np.unique(y_true)
        if len(labels) == 2 and proba.shape[1] == 2:
            pass
        elif len(labels) != proba.shape[1]:
            raise ValueError(
                f"y_proba has {proba.shape[1]} columns but y_true has {len(labels)} labels; "
                "pass labels= (the classes in column order) when a class is absent.")
    labels = np.asarray(labels)
    if len(labels) != proba.shape[1]:
        raise ValueError(f"labels has {len(labels)} entries but y_proba has {proba.shape[1]} "
                         "columns.")
    order = np.argsort(labels, kind="stable")
    pos = np.searchsorted(labels[order], y_true)
    pos = np.clip(pos, 0, len(labels) - 1)
    if not np.all(labels[order][pos] == y_true):
        raise ValueError("y_true holds labels that are not in labels.")
    return proba, order[pos].astype(np.int64)


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


def _binned_errors(y_true, y_proba, n_bins, strategy, variant, sample_weight, pos_label, labels):
    """Yield per-(variant-)curve (weights, |accuracy - confidence|) bin arrays."""
    n_bins = _check_n_bins(n_bins)
    _check_method(strategy, STRATEGIES, "strategy")
    _check_method(variant, _VARIANTS, "variant")
    proba, y = _check_proba(y_true, y_proba, pos_label, labels)
    sw = _check_sample_weight(sample_weight, y.shape[0])
    if variant == "top_label":
        pred = np.argmax(proba, axis=1)
        if proba.shape[1] == 2:
            pred = (proba[:, 1] >= 0.5).astype(np.int64)
        curves = [(proba[np.arange(len(y)), pred], (pred == y).astype(np.float64))]
    elif variant == "positive":
        if proba.shape[1] != 2:
            raise ValueError("variant='positive' needs binary targets; use 'top_label' or "
                             "'classwise' for multiclass.")
        curves = [(proba[:, 1], (y == 1).astype(np.float64))]
    else:
        curves = [(proba[:, k], (y == k).astype(np.float64)) for k in range(proba.shape[1])]
    out = []
    for conf, outcome in curves:
        bins = calibration_bins(conf, outcome, n_bins=n_bins, strategy=strategy,
                                sample_weight=sw)
        keep = bins.weight > 0
        total = bins.weight[keep]
        out.append((total / total.sum(),
                    np.abs(bins.mean_outcome[keep] - bins.mean_confidence[keep])))
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
    curves = _binned_errors(y_true, y_proba, n_bins, strategy, variant, sample_weight,
                            pos_label, labels)
    return float(np.mean([np.sum(w * gap) for w, gap in curves]))


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
    proba, y = _check_proba(y_true, y_proba, pos_label, labels)
    sw = _check_sample_weight(sample_weight, y.shape[0])
    if proba.shape[1] == 2:
        pred = (proba[:, 1] >= 0.5).astype(np.int64)
    else:
        pred = np.argmax(proba, axis=1)
    conf = proba[np.arange(len(y)), pred]
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
        keep = weight > 0
        total, f_bar, o_bar = weight[keep], f_bar[keep], o_bar[keep]
        w = np.ones_like(f) if sw is None else sw
        share = total / total.sum()
        base = float(np.average(o, weights=w))
        rel += float(np.sum(share * (f_bar - o_bar) ** 2))
        res += float(np.sum(share * (o_bar - base) ** 2))
        unc += base * (1.0 - base)
    return BrierDecomposition(rel, res, unc)


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
    y_arr = _check_1d(y_true, "y_true")
    enc = _encode_groups(sensitive_features, y_arr.shape[0])
    proba = np.asarray(y_proba)
    if labels is None and proba.ndim == 2 and proba.shape[1] > 2:
        labels = np.unique(y_arr)  # groups may miss a class: fix the column order once
    kwargs = dict(n_bins=n_bins, strategy=strategy, variant=variant, pos_label=pos_label,
                  labels=labels)
    if proba.ndim == 1 and pos_label is None:
        kwargs["pos_label"] = default_pos_label(np.unique(y_arr))
    overall, by_group = _metric_by_group(
        expected_calibration_error, y_arr, proba, enc.codes, len(enc.labels),
        _check_sample_weight(sample_weight, y_arr.shape[0]), kwargs)
    return float(_difference(by_group[:, None], [overall], method)[0])

