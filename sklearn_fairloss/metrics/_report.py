"""``group_report``: one DataFrame with every metric per group, overall, and their gaps."""

import warnings
from functools import partial

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from . import _dask
from ._calibration import (
    _bins_from_table,
    _bins_table,
    _check_proba,
    _ece_from_sums,
    balance_score,
    expected_calibration_error,
)
from ._fairness import _GroupCounts
from ._grouping import _difference, _metric_by_group, _ratio
from ._validation import _check_method, _check_predictions, _GroupEncoding, _label_columns

__all__ = ["group_report"]


def _macro(values):
    """Binary: the positive class's column; multiclass: the mean over classes (NaN-aware)."""
    if values.shape[1] == 1:
        return values[:, 0]
    valid = ~np.isnan(values)
    total = np.where(valid, values, 0.0).sum(axis=1)
    count = valid.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _balanced_accuracy(counts, overall):
    tpr = counts.rate("tpr", overall)
    if tpr.shape[1] == 1:  # binary: mean of the two classes' recalls
        return _macro(np.column_stack([tpr[:, 0], counts.rate("tnr", overall)[:, 0]]))
    return _macro(tpr)


def _f1(counts, overall):
    tp, pred, true = counts.tp, counts.pred, counts.true
    if overall:
        tp, pred, true = (a.sum(axis=0, keepdims=True) for a in (tp, pred, true))
    return _macro(counts._rate(2.0 * tp, pred + true))


def _rate_metric(name):
    def metric(counts, overall):
        return _macro(counts.rate(name, overall))
    return metric


# Metrics computed for all groups at once from weighted confusion counts.
_COUNT_METRICS = {
    "selection_rate": _rate_metric("selection_rate"),
    "accuracy": _rate_metric("accuracy"),
    "error_rate": _rate_metric("error_rate"),
    "tpr": _rate_metric("tpr"),
    "fpr": _rate_metric("fpr"),
    "tnr": _rate_metric("tnr"),
    "fnr": _rate_metric("fnr"),
    "precision": _rate_metric("precision"),
    "balanced_accuracy": _balanced_accuracy,
    "f1": _f1,
}
_ALIASES = {"recall": "tpr", "true_positive_rate": "tpr", "false_positive_rate": "fpr",
            "specificity": "tnr", "true_negative_rate": "tnr", "false_negative_rate": "fnr",
            "f1_score": "f1", "accuracy_score": "accuracy", "precision_score": "precision",
            "recall_score": "tpr", "balanced_accuracy_score": "balanced_accuracy",
            "ece": "expected_calibration_error", "brier_score_loss": "brier",
            "roc_auc_score": "roc_auc"}


def _roc_auc_or_nan(y_true, y_score, sample_weight=None, **kwargs):
    if len(np.unique(y_true)) < 2:
        return np.nan
    return roc_auc_score(y_true, y_score, sample_weight=sample_weight, **kwargs)


# Metrics of the probabilities (binary: positive-class probability), evaluated per group.
_PROBA_METRICS = {
    "roc_auc": _roc_auc_or_nan,
    "brier": None,  # computed from bincounts, below
    "expected_calibration_error": expected_calibration_error,
    "balance_score": balance_score,
}
_PROBA_PARAMS = {"y_proba", "y_score", "y_prob", "probas_pred"}

DEFAULT_METRICS = ("selection_rate", "accuracy", "tpr", "fpr", "precision")


def _class_rate_metric(name, column):
    def metric(counts, overall):
        return counts.rate(name, overall)[:, column]
    return metric


def _class_label(value):
    return value.item() if isinstance(value, np.generic) else value


def _parse_metrics(metrics, has_proba, classes=None):
    """``(column name, kind, function)`` of each metric.

    For multiclass targets (``classes`` holds more than one class), ``"selection_rate"``
    becomes one column per class, ``"<name>[<class>]"``: the mean of the one-vs-rest selection
    rates over classes is ``1 / n_classes`` in every group and says nothing.
    """
    if metrics is None:
        metrics = list(DEFAULT_METRICS) + (["roc_auc", "brier"] if has_proba else [])
    if isinstance(metrics, str) or callable(metrics):
        metrics = [metrics]
    items = metrics.items() if isinstance(metrics, dict) else [
        (m if isinstance(m, str) else getattr(m, "__name__", repr(m)), m) for m in metrics]
    specs = []
    for name, spec in items:
        if isinstance(spec, str):
            key = _ALIASES.get(spec, spec)
            if key == "selection_rate" and classes is not None and len(classes) > 1:
                specs.extend((f"{name}[{_class_label(c)}]", "count",
                              _class_rate_metric("selection_rate", j))
                             for j, c in enumerate(classes))
                continue
            if key in _COUNT_METRICS:
                specs.append((str(name), "count", _COUNT_METRICS[key]))
            elif key in _PROBA_METRICS:
                specs.append((str(name), "proba", key))
            else:
                raise ValueError(
                    f"Unknown metric {spec!r}; use one of "
                    f"{sorted(_COUNT_METRICS) + sorted(_PROBA_METRICS)} or a callable.")
        elif callable(spec):
            import inspect

            try:
                params = list(inspect.signature(spec).parameters)
            except (TypeError, ValueError):
                params = []
            kind = "proba_callable" if len(params) > 1 and params[1] in _PROBA_PARAMS else \
                "callable"
            specs.append((str(name), kind, spec))
        else:
            raise ValueError(f"metric {name!r} must be a name or a callable; got {spec!r}.")
        if specs[-1][1].startswith("proba") and not has_proba:
            raise ValueError(f"metric {name!r} needs y_proba.")
    return specs


def _per_group_ratio(codes, n_groups, num, den):
    """``sum(num) / sum(den)`` per group, then overall: shape (n_groups + 1,)."""
    num = np.bincount(codes, weights=num, minlength=n_groups)
    den = np.bincount(codes, weights=den, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        by_group = np.where(den > 0, num / den, np.nan)
    return np.append(by_group, num.sum() / den.sum())


def _table(y_true, y_pred, proba_1d, enc, sw, specs, pos_label, labels, sums=None):
    """Array of shape (n_groups + 1, n_metrics): the groups, then overall.

    ``sums`` holds the columns of the probability metrics already computed from the
    per-group sums of Dask inputs (then ``proba_1d`` is None).
    """
    n_groups = len(enc.labels)
    out = np.full((n_groups + 1, len(specs)), np.nan)
    counts = None
    codes = enc.codes
    for j, (_, kind, func) in enumerate(specs):
        if kind == "count":
            if counts is None:
                counts = _GroupCounts(y_true, y_pred, enc, sw, pos_label, labels)
            out[:n_groups, j] = func(counts, False)
            out[n_groups, j] = func(counts, True)[0]
        elif sums is not None:
            out[:, j] = sums[func]
        elif kind == "proba" and func == "brier":
            err = (proba_1d - (y_true == pos_label)) ** 2
            w = np.ones_like(err) if sw is None else sw
            out[:, j] = _per_group_ratio(codes, n_groups, w * err, w)
        else:
            if kind == "proba":
                metric = _PROBA_METRICS[func]
                target = proba_1d
                kwargs = {} if func == "roc_auc" else {"pos_label": pos_label}
            else:
                metric, kwargs = func, {}
                target = proba_1d if kind == "proba_callable" else y_pred
            present = np.bincount(codes, minlength=n_groups) > 0
            overall, by_group = _metric_by_group(
                _nan_if_empty(metric), y_true, target, codes, n_groups, sw, kwargs)
            out[:n_groups, j] = np.where(present, by_group, np.nan)
            out[n_groups, j] = overall
    return out


# Metrics of the probabilities that Dask inputs give from per-group sums (ROC AUC ranks all
# the scores, and a callable needs the rows).
_SUMMED_PROBA_METRICS = ("brier", "expected_calibration_error", "balance_score")


def _dask_report(y_true, y_pred, y_proba, sensitive_features, metrics, sample_weight,
                 pos_label):
    """What :func:`group_report` needs from Dask inputs, in one pass over the partitions.

    Returns
    -------
    rows : tuple
        ``(y_true, y_pred, sw, enc, labels, classes)`` of the cells (group x true label x
        predicted label) as rows weighted by their total weight, as ``_check_predictions``
        returns them for in-memory rows.
    specs : list
    sums : dict
        The column of each probability metric.
    count : ndarray of shape (n_groups,)
        Rows per group.
    """
    has_proba = y_proba is not None
    if metrics is None:
        metrics = list(DEFAULT_METRICS) + (["brier"] if has_proba else [])
    for _, kind, func in _parse_metrics(metrics, has_proba):
        if kind != "count" and func not in _SUMMED_PROBA_METRICS:
            name = func if isinstance(func, str) else getattr(func, "__name__", repr(func))
            raise _dask.rows_only(f"metric {name!r}", "it is not a sum over rows")
    if has_proba and _dask.n_columns(y_proba) not in (None, 2):
        raise ValueError("group_report supports y_proba for binary targets only.")
    names = {func for _, kind, func in _parse_metrics(metrics, has_proba) if kind != "count"}
    tables = [partial(_dask.cell_sums, brier="brier" in names)]
    binned = bool(names & {"expected_calibration_error", "balance_score"})
    if binned:  # the top-label bins of expected_calibration_error's defaults
        tables.append(_bins_table(y_proba, 15, "uniform", "top_label", True))
    cells, *bins = _dask.reduce_partitions(
        {"y_true": y_true, "y_pred": y_pred, "y_proba": y_proba,
         "sensitive_features": sensitive_features, "sample_weight": sample_weight}, tables)
    y_c, y_pred_c, frame, rows, weight = _dask.cells_as_rows(cells)
    checked = _check_predictions(y_c, y_pred_c, frame, weight, pos_label)
    enc, classes = checked[3], checked[5]
    if len(classes) == 1:
        pos_label = classes[0]
    specs = _parse_metrics(metrics, has_proba, classes)
    sums = {}
    if has_proba:
        _label_columns(y_c, _dask.n_columns(y_proba), pos_label if len(classes) == 1 else None)
    if "brier" in names:
        wrong = np.where(y_c == pos_label, cells["brier1"].to_numpy(),
                         cells["brier0"].to_numpy())
        sums["brier"] = _per_group_ratio(enc.codes, len(enc.labels), wrong, weight)
    if binned:
        w, s_conf, s_out, _ = _bins_from_table(bins[0], y_proba, 15, "top_label", pos_label,
                                               None)
        whole = (w.sum(axis=0), s_conf.sum(axis=0), s_out.sum(axis=0))
        sums["expected_calibration_error"] = np.array(
            [_ece_from_sums(*g) for g in zip(w, s_conf, s_out)] + [_ece_from_sums(*whole)])
        sums["balance_score"] = np.append(
            (s_out.sum(axis=(1, 2)) - s_conf.sum(axis=(1, 2))) / w.sum(axis=(1, 2)),
            (whole[2].sum() - whole[1].sum()) / whole[0].sum())
    count = np.bincount(enc.codes, weights=rows, minlength=len(enc.labels))
    return checked, specs, sums, count


def _nan_if_empty(metric):
    def wrapped(y_true, y_pred, **kwargs):
        if len(y_true) == 0:
            return np.nan
        return metric(y_true, y_pred, **kwargs)
    return wrapped


def _summaries(table, method):
    by_group, overall = table[:-1], table[-1]
    return _difference(by_group, overall, method), _ratio(by_group, overall, method)


def group_report(y_true, y_pred, *, y_proba=None, sensitive_features, metrics=None,
                 sample_weight=None, pos_label=None, method="between_groups",
                 n_bootstrap=None, confidence_level=0.95, random_state=None):
    """Metrics per group, overall, and their differences and ratios, in one DataFrame.

    Like fairlearn's ``MetricFrame`` but computed from weighted confusion counts for all
    groups at once (one ``np.bincount`` pass instead of one metric call per group), with
    optional bootstrap confidence intervals.

    The per-row inputs may be Dask collections (columns of one Dask DataFrame, or Dask
    arrays) for data larger than memory: each partition is reduced to per-group sums, all
    columns in one pass over the data, with the same result. Metrics that need every row at
    once (``"roc_auc"``, callables) and ``n_bootstrap`` are then refused; the default
    metrics leave out ROC AUC.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    y_proba : array-like of shape (n_samples,) or (n_samples, 2), default=None
        Positive-class probabilities (binary), needed by the probability metrics.
    sensitive_features : array-like, Series or DataFrame
        Protected attribute(s); several attributes form intersectional groups.
    metrics : list or dict, default=None
        Names, callables, or a dict of column name to name or callable. Names computed from
        counts: ``"selection_rate"``, ``"accuracy"``, ``"error_rate"``, ``"tpr"``
        (``"recall"``), ``"fpr"``, ``"tnr"``, ``"fnr"``, ``"precision"``,
        ``"balanced_accuracy"``, ``"f1"``; from ``y_proba``: ``"roc_auc"``, ``"brier"``,
        ``"expected_calibration_error"``, ``"balance_score"``. A callable is called as
        ``metric(y_true, y_pred)`` per group, or with ``y_proba`` when its second parameter
        is named ``y_proba``, ``y_score``, ``y_prob`` or ``probas_pred`` (e.g.
        :func:`sklearn.metrics.roc_auc_score`). Default: selection rate, accuracy, TPR, FPR,
        precision, and ROC AUC and Brier score when ``y_proba`` is given. Multiclass
        targets average the one-vs-rest rates over classes (macro), except the selection
        rate, whose mean over classes is ``1 / n_classes`` in every group: it gets one
        column per class, ``"selection_rate[<class>]"`` (the share of the group predicted as
        that class). Their ``difference`` row holds each class's gap, and its largest value
        is :func:`demographic_parity_difference` (``class_agg="max"``); their mean is the
        ``class_agg="mean"`` variant; the same holds for the ``ratio`` row and
        :func:`demographic_parity_ratio` (smallest value).
    sample_weight : array-like of shape (n_samples,), default=None
    pos_label : int, str or bool, default=None
        Positive class of binary targets; 1 for {0, 1} and {-1, 1} labels.
    method : {"between_groups", "to_overall"}, default="between_groups"
        How the ``difference`` and ``ratio`` rows are formed (see
        :func:`demographic_parity_difference`).
    n_bootstrap : int, default=None
        Number of bootstrap resamples (of rows, with replacement) for percentile confidence
        intervals; adds ``<metric>_ci_low`` and ``<metric>_ci_high`` columns.
    confidence_level : float, default=0.95
    random_state : int, Generator or None, default=None

    Returns
    -------
    report : DataFrame
        One row per group (a MultiIndex for several attributes), then ``"overall"``,
        ``"difference"`` and ``"ratio"``; a ``count`` column (rows per group) and one column
        per metric. Rates with an empty denominator in a group are NaN and do not enter the
        difference and ratio.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_fairloss.metrics import group_report
    >>> y_true = [1, 0, 1, 0, 1, 0, 1, 0]
    >>> y_pred = [1, 0, 1, 1, 0, 0, 1, 0]
    >>> sex = pd.Series(["F", "F", "F", "F", "M", "M", "M", "M"], name="sex")
    >>> report = group_report(y_true, y_pred, sensitive_features=sex,
    ...                       metrics=["selection_rate", "accuracy", "tpr"])
    >>> report.round(3)  # doctest: +NORMALIZE_WHITESPACE
                count  selection_rate  accuracy   tpr
    sex
    F             4.0           0.750      0.75  1.00
    M             4.0           0.250      0.75  0.50
    overall       8.0           0.500      0.75  0.75
    difference    NaN           0.500      0.00  0.50
    ratio         NaN           0.333      1.00  0.50

    A multiclass target gets one selection-rate column per class:

    >>> y_true = ["a", "b", "c", "a", "b", "c"]
    >>> y_pred = ["a", "a", "a", "b", "c", "c"]
    >>> group = ["x", "x", "x", "y", "y", "y"]
    >>> report = group_report(y_true, y_pred, sensitive_features=group,
    ...                       metrics=["selection_rate"])
    >>> print(report.drop(columns="count").round(3).to_string())
    ... # doctest: +NORMALIZE_WHITESPACE
                         selection_rate[a]  selection_rate[b]  selection_rate[c]
    sensitive_feature_0
    x                                  1.0              0.000              0.000
    y                                  0.0              0.333              0.667
    overall                            0.5              0.167              0.333
    difference                         1.0              0.333              0.667
    ratio                              0.0              0.000              0.000
    >>> float(report.loc["difference"].drop("count").max())  # demographic_parity_difference
    1.0
    """
    _check_method(method, ("between_groups", "to_overall"))
    if not 0 < confidence_level < 1:
        raise ValueError(f"confidence_level must be in (0, 1); got {confidence_level!r}.")
    if _dask.any_dask(y_true, y_pred, y_proba, sensitive_features, sample_weight):
        if n_bootstrap:
            raise _dask.rows_only("n_bootstrap", "it resamples rows")
        checked, specs, sums, count = _dask_report(
            y_true, y_pred, y_proba, sensitive_features, metrics, sample_weight, pos_label)
        y_true, y_pred, sw, enc, labels, classes = checked
        if len(classes) == 1:
            pos_label = classes[0]
        table = _table(y_true, y_pred, None, enc, sw, specs, pos_label, labels, sums)
    else:
        y_true, y_pred, sw, enc, labels, classes = _check_predictions(
            y_true, y_pred, sensitive_features, sample_weight, pos_label)
        if len(classes) == 1:
            pos_label = classes[0]
        proba_1d = None
        if y_proba is not None:
            proba, _ = _check_proba(y_true, y_proba, pos_label if len(classes) == 1 else None)
            if proba.shape[1] != 2:
                raise ValueError("group_report supports y_proba for binary targets only.")
            proba_1d = proba[:, 1]
        specs = _parse_metrics(metrics, proba_1d is not None, classes)
        table = _table(y_true, y_pred, proba_1d, enc, sw, specs, pos_label, labels)
        count = np.bincount(enc.codes, minlength=len(enc.labels)).astype(np.float64)
    n = count.sum()
    diff, ratio = _summaries(table, method)
    values = np.vstack([table, diff, ratio])
    names = [name for name, _, _ in specs]
    columns = {}
    columns["count"] = np.concatenate([count, [n, np.nan, np.nan]])
    if n_bootstrap:
        rng = np.random.default_rng(random_state)
        boots = np.empty((int(n_bootstrap),) + values.shape)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            for b in range(int(n_bootstrap)):
                idx = rng.integers(0, len(y_true), len(y_true))
                sub = _GroupEncoding(enc.codes[idx], enc.labels, enc.names, None)
                t = _table(y_true[idx], y_pred[idx],
                           None if proba_1d is None else proba_1d[idx], sub,
                           None if sw is None else sw[idx], specs, pos_label, labels)
                boots[b] = np.vstack([t, *_summaries(t, method)])
            alpha = (1.0 - confidence_level) / 2.0
            low = np.nanpercentile(boots, 100 * alpha, axis=0)
            high = np.nanpercentile(boots, 100 * (1 - alpha), axis=0)
    for j, name in enumerate(names):
        columns[name] = values[:, j]
        if n_bootstrap:
            columns[f"{name}_ci_low"] = low[:, j]
            columns[f"{name}_ci_high"] = high[:, j]
    summary = ["overall", "difference", "ratio"]
    if len(enc.names) == 1:
        index = pd.Index(list(enc.labels) + summary, name=enc.names[0], dtype=object)
    else:
        pad = ("",) * (len(enc.names) - 1)
        index = pd.MultiIndex.from_tuples(
            list(enc.labels) + [(s,) + pad for s in summary], names=enc.names)
    return pd.DataFrame(columns, index=index)
