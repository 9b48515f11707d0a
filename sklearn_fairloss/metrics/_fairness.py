"""Group-fairness metrics on predicted labels: parity gaps of selection rate, TPR, FPR,
precision and error rate, for binary and multiclass targets and any number of groups.

Every rate is computed for all groups at once from weighted counts (``np.bincount``), which
is what makes these metrics and :func:`group_report` fast on millions of rows.
"""

import warnings

import numpy as np

from . import _dask
from ._docstrings import fill, fill_doc
from ._grouping import _difference, _ratio
from ._validation import _check_1d, _check_method, _check_predictions

__all__ = [
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
    "equal_opportunity_difference",
    "equal_opportunity_ratio",
    "predictive_parity_difference",
    "error_rate_parity_difference",
]

_CLASS_AGGS = ("max", "mean")
_ODDS_AGGS = ("worst_case", "mean")


def _dask_cells(y_true, y_pred, sensitive_features, sample_weight):
    """The cells (group x true label x predicted label) of Dask inputs, in one pass, as
    rows weighted by their total weight: ``(y_true, y_pred, sensitive_features, weight)``."""
    (table,) = _dask.reduce_partitions(
        {"y_true": y_true, "y_pred": y_pred, "sensitive_features": sensitive_features,
         "sample_weight": sample_weight}, [_dask.cell_sums])
    y_true, y_pred, frame, _, weight = _dask.cells_as_rows(table)
    return y_true, y_pred, frame, weight


class _GroupCounts:
    """Weighted one-vs-rest confusion counts per group and per evaluated class.

    Attributes are arrays of shape (n_groups, n_classes) (``n`` is (n_groups,)); the
    ``overall_*`` versions sum over groups.
    """

    def __init__(self, y_true, y_pred, sensitive_features, sample_weight=None, pos_label=None,
                 labels=None):
        if _dask.any_dask(y_true, y_pred, sensitive_features, sample_weight):
            y_true, y_pred, sensitive_features, sample_weight = _dask_cells(
                y_true, y_pred, sensitive_features, sample_weight)
        y_true, y_pred, sw, enc, labels, classes = _check_predictions(
            y_true, y_pred, sensitive_features, sample_weight, pos_label, labels)
        n_groups, n_labels = len(enc.labels), len(labels)
        t = np.searchsorted(labels, y_true)
        p = np.searchsorted(labels, y_pred)
        key = enc.codes * n_labels
        size = n_groups * n_labels
        hit = t == p
        if sw is None:
            self.n = np.bincount(enc.codes, minlength=n_groups).astype(np.float64)
            pred = np.bincount(key + p, minlength=size)
            true = np.bincount(key + t, minlength=size)
            tp = np.bincount((key + t)[hit], minlength=size)
        else:
            self.n = np.bincount(enc.codes, weights=sw, minlength=n_groups)
            pred = np.bincount(key + p, weights=sw, minlength=size)
            true = np.bincount(key + t, weights=sw, minlength=size)
            tp = np.bincount((key + t)[hit], weights=sw[hit], minlength=size)
        cols = np.searchsorted(labels, classes)
        shape = (n_groups, n_labels)
        self.pred = pred.reshape(shape)[:, cols].astype(np.float64)
        self.true = true.reshape(shape)[:, cols].astype(np.float64)
        self.tp = tp.reshape(shape)[:, cols].astype(np.float64)
        # Correct predictions over all labels (for the error rate).
        self.correct = tp.reshape(shape).sum(axis=1).astype(np.float64)
        self.classes = classes
        self.groups = enc.labels
        self.attribute_names = enc.names

    @staticmethod
    def _rate(num, den):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)

    def rate(self, name, overall=False):
        """``name`` in {selection_rate, tpr, fpr, fnr, tnr, precision, error_rate, accuracy}."""
        n, pred, true, tp = self.n, self.pred, self.true, self.tp
        correct = self.correct
        if overall:
            n, correct = n.sum(keepdims=True), correct.sum(keepdims=True)
            pred, true, tp = (a.sum(axis=0, keepdims=True) for a in (pred, true, tp))
        fp = pred - tp
        if name == "selection_rate":
            return self._rate(pred, n[:, None])
        if name == "tpr":
            return self._rate(tp, true)
        if name == "fnr":
            return self._rate(true - tp, true)
        if name == "fpr":
            return self._rate(fp, n[:, None] - true)
        if name == "tnr":
            return self._rate(n[:, None] - true - fp, n[:, None] - true)
        if name == "precision":
            return self._rate(tp, pred)
        if name == "accuracy":
            return self._rate(correct, n)[:, None]
        if name == "error_rate":
            return self._rate(n - correct, n)[:, None]
        raise ValueError(f"unknown rate {name!r}")

    def gap(self, name, method, kind):
        by_group = self.rate(name)
        overall = self.rate(name, overall=True)[0]
        if kind == "difference":
            return _difference(by_group, overall, method)
        return _ratio(by_group, overall, method)


def _aggregate_classes(values, class_agg, kind):
    """One value from per-class gaps: the worst class (``"max"``) or their mean."""
    _check_method(class_agg, _CLASS_AGGS, "class_agg")
    values = np.asarray(values, dtype=np.float64)
    valid = values[~np.isnan(values)]
    if valid.size == 0:
        warnings.warn(
            "The metric is undefined for every group (no sample of the rate's denominator); "
            "returning NaN.", UserWarning, stacklevel=4)
        return float("nan")
    if class_agg == "mean":
        return float(valid.mean())
    return float(valid.max() if kind == "difference" else valid.min())


def _parity(rate, kind, y_true, y_pred, sensitive_features, method, sample_weight, pos_label,
            class_agg):
    _check_method(method, ("between_groups", "to_overall"))
    counts = _GroupCounts(y_true, y_pred, sensitive_features, sample_weight, pos_label)
    return _aggregate_classes(counts.gap(rate, method, kind), class_agg, kind)


def _odds(kind, y_true, y_pred, sensitive_features, method, sample_weight, pos_label,
          class_agg, agg):
    _check_method(method, ("between_groups", "to_overall"))
    _check_method(agg, _ODDS_AGGS, "agg")
    counts = _GroupCounts(y_true, y_pred, sensitive_features, sample_weight, pos_label)
    tpr = counts.gap("tpr", method, kind)
    fpr = counts.gap("fpr", method, kind)
    both = np.vstack([tpr, fpr])
    if agg == "mean":
        per_class = np.nanmean(both, axis=0) if not np.all(np.isnan(both)) else tpr
    elif kind == "difference":
        per_class = np.where(np.isnan(both).all(axis=0), np.nan,
                             np.nanmax(np.where(np.isnan(both), -np.inf, both), axis=0))
    else:
        per_class = np.where(np.isnan(both).all(axis=0), np.nan,
                             np.nanmin(np.where(np.isnan(both), np.inf, both), axis=0))
    return _aggregate_classes(per_class, class_agg, kind)


_PARITY_DOC = """{summary}

    {parity_params}
    {pos_label}
    {aggregation}

    Returns
    -------
    {kind} : float{returns}

    Examples
    --------
    >>> from sklearn_fairloss.metrics import {name}
    >>> y_true = [1, 1, 0, 0, 1, 1, 0, 0]
    >>> y_pred = [1, 1, 1, 0, 1, 0, 0, 0]
    >>> group = ["a", "a", "a", "a", "b", "b", "b", "b"]
    >>> round({name}(y_true, y_pred, sensitive_features=group), 4)
    {example}
"""

_AGG_DOC = """{class_agg}
agg : {"worst_case", "mean"}, default="worst_case"
    How the TPR gap and the FPR gap are combined: the worse of the two, or their mean."""


def _parity_metric(name, rate, kind, summary, example, returns=""):
    """The public metric ``name``: the ``kind`` ("difference" or "ratio") of the per-group
    ``rate`` ("odds" for TPR and FPR together), documented by ``summary``, an optional
    description of its value (``returns``) and its value on the shared example."""
    if rate == "odds":
        def metric(y_true, y_pred, *, sensitive_features, method="between_groups",
                   sample_weight=None, pos_label=None, class_agg="max", agg="worst_case"):
            return _odds(kind, y_true, y_pred, sensitive_features, method, sample_weight,
                         pos_label, class_agg, agg)
    else:
        def metric(y_true, y_pred, *, sensitive_features, method="between_groups",
                   sample_weight=None, pos_label=None, class_agg="max"):
            return _parity(rate, kind, y_true, y_pred, sensitive_features, method,
                           sample_weight, pos_label, class_agg)
    metric.__name__ = metric.__qualname__ = name
    metric.__doc__ = fill(_PARITY_DOC, summary=summary, name=name, kind=kind, example=example,
                          aggregation=_AGG_DOC if rate == "odds" else "{class_agg}",
                          returns=f"\n        {returns}" if returns else "")
    return metric


demographic_parity_difference = _parity_metric(
    "demographic_parity_difference", "selection_rate", "difference",
    r"""Largest gap in selection rate :math:`P(\hat y = c \mid A = a)` across groups.

    Demographic (statistical) parity asks that the rate of positive predictions does not
    depend on the group (Calders & Verwer 2010; Agarwal et al. 2018).""",
    example="0.5", returns="0 means equal selection rates; 1 is the worst.")

demographic_parity_ratio = _parity_metric(
    "demographic_parity_ratio", "selection_rate", "ratio",
    """Smallest ratio of selection rates across groups (the "four-fifths rule" ratio).""",
    example="0.3333", returns=("1 means equal selection rates; 0 is the worst. Equal rates "
                               "(all zero included) give 1."))

equalized_odds_difference = _parity_metric(
    "equalized_odds_difference", "odds", "difference",
    """Largest gap in true-positive or false-positive rate across groups.

    Equalized odds (Hardt, Price & Srebro 2016, "Equality of Opportunity in Supervised
    Learning") asks for equal TPR and equal FPR in every group. The result is the larger of
    the TPR gap and the FPR gap (``agg="worst_case"``), or their mean (``agg="mean"``), as in
    fairlearn.""",
    example="0.5")

equalized_odds_ratio = _parity_metric(
    "equalized_odds_ratio", "odds", "ratio",
    """Smallest ratio of true-positive or false-positive rates across groups.

    See :func:`equalized_odds_difference` (Hardt et al. 2016); with ``agg="worst_case"`` the
    smaller of the TPR ratio and the FPR ratio.""",
    example="0.0")

equal_opportunity_difference = _parity_metric(
    "equal_opportunity_difference", "tpr", "difference",
    """Largest gap in true-positive rate (recall) across groups.

    Equal opportunity (Hardt et al. 2016) asks for equal TPR in every group.""",
    example="0.5")

equal_opportunity_ratio = _parity_metric(
    "equal_opportunity_ratio", "tpr", "ratio",
    "Smallest ratio of true-positive rates across groups (Hardt et al. 2016).",
    example="0.5")

predictive_parity_difference = _parity_metric(
    "predictive_parity_difference", "precision", "difference",
    r"""Largest gap in precision :math:`P(y = c \mid \hat y = c, A = a)` across groups.

    Predictive parity (Chouldechova 2017, "Fair prediction with disparate impact") asks that
    a positive prediction is equally reliable in every group. Groups with no positive
    prediction have undefined precision and are left out.""",
    example="0.3333")


@fill_doc
def error_rate_parity_difference(y_true, y_pred, *, sensitive_features,
                                 method="between_groups", sample_weight=None):
    r"""Largest gap in misclassification rate :math:`P(\hat y \neq y \mid A = a)` across groups.

    Overall accuracy equality (Berk et al. 2018, "Fairness in Criminal Justice Risk
    Assessments"). It needs no positive class, so binary and multiclass targets are treated
    alike.

    {parity_params}

    Returns
    -------
    difference : float

    Examples
    --------
    >>> from sklearn_fairloss.metrics import error_rate_parity_difference
    >>> y_true = ["x", "y", "z", "x", "y", "z"]
    >>> y_pred = ["x", "y", "z", "y", "y", "x"]
    >>> group = [0, 0, 0, 1, 1, 1]
    >>> round(error_rate_parity_difference(y_true, y_pred, sensitive_features=group), 4)
    0.6667
    """
    _check_method(method, ("between_groups", "to_overall"))
    if _dask.any_dask(y_true, y_pred, sensitive_features, sample_weight):
        y_true, y_pred, sensitive_features, sample_weight = _dask_cells(
            y_true, y_pred, sensitive_features, sample_weight)
    y_true_arr = _check_1d(y_true, "y_true")
    # The positive class does not matter for the error rate: evaluate as multiclass.
    labels = np.union1d(np.unique(y_true_arr), np.unique(_check_1d(y_pred, "y_pred")))
    counts = _GroupCounts(y_true, y_pred, sensitive_features, sample_weight,
                          pos_label=labels[-1])
    return float(counts.gap("error_rate", method, "difference")[0])


