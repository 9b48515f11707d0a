"""Group-disaggregated versions of any scikit-learn metric: the worst group's score, the
equity-scaled score (FairSeg, Harvard Eye Fairness) and the performance-scaled disparity."""

import inspect

import numpy as np
import sklearn.metrics

from ._docstrings import fill_doc
from ._grouping import _metric_by_group
from ._validation import (
    _check_1d,
    _check_lengths,
    _check_method,
    _check_sample_weight,
    _encode_groups,
)

__all__ = ["worst_group_score", "equity_scaled_score", "performance_scaled_disparity"]


def _resolve_metric(metric):
    """A callable ``metric(y_true, y_pred, **kwargs)``; strings name scikit-learn metrics
    (``"accuracy_score"``, or the short ``"accuracy"``, ``"roc_auc"``)."""
    if callable(metric):
        return metric
    if isinstance(metric, str):
        for name in (metric, f"{metric}_score"):
            func = getattr(sklearn.metrics, name, None)
            if callable(func) and not name.startswith(("make_", "get_", "check_")):
                return func
    raise ValueError(
        f"metric must be a callable metric(y_true, y_pred) or the name of a scikit-learn "
        f"metric function such as 'accuracy_score' or 'roc_auc'; got {metric!r}.")


def _accepts(func, param):
    try:
        parameters = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False
    return param in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())


def _by_group(metric, y_true, y_pred, sensitive_features, sample_weight, kwargs):
    func = _resolve_metric(metric)
    y_true = _check_1d(y_true, "y_true")
    if not hasattr(y_pred, "iloc"):
        y_pred = np.asarray(y_pred)
    _check_lengths(("y_true", y_true), ("y_pred", y_pred))
    sw = _check_sample_weight(sample_weight, y_true.shape[0])
    if sw is not None and not _accepts(func, "sample_weight"):
        raise ValueError(f"metric {func.__name__} does not accept sample_weight.")
    enc = _encode_groups(sensitive_features, y_true.shape[0])
    return _metric_by_group(func, y_true, y_pred, enc.codes, len(enc.labels), sw, kwargs)


@fill_doc
def worst_group_score(metric, y_true, y_pred, *, sensitive_features, sample_weight=None,
                      greater_is_better=True, **kwargs):
    """The worst value of any metric over groups (the minimum, or the maximum of a loss).

    The worst-group criterion of distributionally robust optimisation (Sagawa et al. 2020,
    "Distributionally Robust Neural Networks for Group Shifts"); also called min-max
    fairness.

    {group_metric_params}
    greater_is_better : bool, default=True
        False for losses: the worst group is then the one with the largest value.
    {group_kwargs}

    Returns
    -------
    score : float
        The smallest group value (the largest when ``greater_is_better=False``).

    Examples
    --------
    >>> from sklearn.metrics import accuracy_score
    >>> from sklearn_fairloss.metrics import worst_group_score
    >>> y_true = [1, 0, 1, 0, 1, 0]
    >>> y_pred = [1, 0, 1, 1, 0, 0]
    >>> group = ["a", "a", "a", "b", "b", "b"]
    >>> worst_group_score(accuracy_score, y_true, y_pred, sensitive_features=group)
    0.3333333333333333
    """
    _, by_group = _by_group(metric, y_true, y_pred, sensitive_features, sample_weight, kwargs)
    return float(np.nanmin(by_group) if greater_is_better else np.nanmax(by_group))


@fill_doc
def equity_scaled_score(metric, y_true, y_pred, *, sensitive_features, sample_weight=None,
                        alpha=1.0, **kwargs):
    r"""Equity-scaled score: the overall score shrunk by the groups' deviations from it.

    :math:`\mathrm{ES} = M / (1 + \alpha \sum_a |M - M_a|)`, with :math:`M` the metric on all
    samples and :math:`M_a` on group :math:`a`. This is FairSeg's ES-Dice / ES-IoU (Tian et
    al. 2023, "FairSeg", arXiv 2311.02189) and Harvard Eye Fairness's ES-AUC (Luo et al.
    2023, "FairVision: Equitable Deep Learning for Eye Disease Screening via Fair Identity
    Scaling", arXiv 2310.02492). It equals :math:`M` when every group scores the same.
    Meant for metrics where greater is better.

    {group_metric_params}
    alpha : float, default=1.0
        Weight of the deviations (1 in both papers).
    {group_kwargs}

    Returns
    -------
    score : float
        At most the overall score, which it equals when every group scores the same.

    Examples
    --------
    >>> from sklearn.metrics import accuracy_score
    >>> from sklearn_fairloss.metrics import equity_scaled_score
    >>> y_true = [1, 0, 1, 0, 1, 0, 1, 0]
    >>> y_pred = [1, 0, 1, 0, 1, 1, 0, 0]
    >>> group = ["a", "a", "a", "a", "b", "b", "b", "b"]
    >>> # overall 0.75, groups 1.0 and 0.5: 0.75 / (1 + 0.25 + 0.25)
    >>> equity_scaled_score(accuracy_score, y_true, y_pred, sensitive_features=group)
    0.5
    """
    overall, by_group = _by_group(metric, y_true, y_pred, sensitive_features, sample_weight,
                                  kwargs)
    return float(overall / (1.0 + alpha * np.nansum(np.abs(overall - by_group))))


@fill_doc
def performance_scaled_disparity(metric, y_true, y_pred, *, sensitive_features,
                                 sample_weight=None, method="std", **kwargs):
    r"""Performance-scaled disparity (PSD): spread of the group scores over the overall score.

    From Harvard Eye Fairness (Luo et al. 2023, "FairVision", arXiv 2310.02492):
    ``method="std"`` gives :math:`\mathrm{std}_a(M_a) / M` (population standard deviation),
    ``method="max"`` gives :math:`(\max_a M_a - \min_a M_a) / M`. Lower is fairer.

    {group_metric_params}
    method : {"std", "max"}, default="std"
    {group_kwargs}

    Returns
    -------
    disparity : float
        0 when every group scores the same; lower is fairer.

    Examples
    --------
    >>> from sklearn.metrics import accuracy_score
    >>> from sklearn_fairloss.metrics import performance_scaled_disparity
    >>> y_true = [1, 0, 1, 0, 1, 0, 1, 0]
    >>> y_pred = [1, 0, 1, 0, 1, 1, 0, 0]
    >>> group = ["a", "a", "a", "a", "b", "b", "b", "b"]
    >>> # groups 1.0 and 0.5 (std 0.25), overall 0.75
    >>> round(performance_scaled_disparity(accuracy_score, y_true, y_pred,
    ...                                    sensitive_features=group), 4)
    0.3333
    """
    _check_method(method, ("std", "max"))
    overall, by_group = _by_group(metric, y_true, y_pred, sensitive_features, sample_weight,
                                  kwargs)
    by_group = by_group[~np.isnan(by_group)]
    spread = np.std(by_group) if method == "std" else np.max(by_group) - np.min(by_group)
    return float(spread / overall)
