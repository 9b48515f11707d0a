"""Parameter descriptions shared by the metrics, filled into docstrings by ``fill_doc`` (the
package's one mechanism, :mod:`sklearn_fairloss._docstrings`)."""

from .._docstrings import doc_filler
from .._docstrings import fill as shared_fill

__all__ = ["fill", "fill_doc"]

_SECTIONS = {
    "y_true": """y_true : array-like of shape (n_samples,)
    True labels.""",
    "y_pred": """y_pred : array-like of shape (n_samples,)
    Predicted labels.""",
    "y_score": """y_score : array-like of shape (n_samples,)
    Scores, e.g. positive-class probabilities (a two-column ``predict_proba`` matrix is
    accepted and its last column used).""",
    "sensitive_features": """sensitive_features : array-like of shape (n_samples,) or \
(n_samples, n_attributes), Series or DataFrame
    Protected attribute(s); several attributes form intersectional groups.""",
    "method": """method : {"between_groups", "to_overall"}, default="between_groups"
    Compare the largest and smallest group value (``"between_groups"``), or each group
    with the value on all samples (``"to_overall"``).""",
    "sample_weight": """sample_weight : array-like of shape (n_samples,), default=None
    Sample weights; every count becomes a sum of weights.""",
    "pos_label": """pos_label : int, str or bool, default=None
    The positive class of binary targets; defaults to 1 for {0, 1} and {-1, 1} labels.""",
    "class_agg": """class_agg : {"max", "mean"}, default="max"
    Multiclass targets are evaluated one-vs-rest for each class; the per-class gaps are
    aggregated with the worst class (``"max"``, the minimum for ratios) or their mean.
    Ignored for binary targets.""",
    "calibration_params": """Parameters
----------
y_true : array-like of shape (n_samples,)
    True labels.
y_proba : array-like of shape (n_samples,) or (n_samples, n_classes)
    Predicted probabilities: of the positive class (1-D, binary), or of every class in
    the order of ``labels`` (sorted labels by default), as ``predict_proba`` returns.
n_bins : int, default=15
    Number of bins.
strategy : {"uniform", "quantile"}, default="uniform"
    Equal-width bins on [0, 1], or equal-mass bins (quantiles of the confidences; the
    "adaptive" calibration error of Nixon et al. 2019).
variant : {"top_label", "positive", "classwise"}, default="top_label"
    ``"top_label"``: confidence of the predicted class against accuracy (Guo et al. 2017).
    ``"positive"``: probability of the positive class against its frequency (binary
    only; the reliability diagram of :func:`sklearn.calibration.calibration_curve`).
    ``"classwise"``: the error of each class's probability against its frequency,
    averaged over classes (Kull et al. 2019; Nixon et al. 2019's static calibration
    error; Kumar et al. 2019's marginal calibration error with the L1 norm).
sample_weight : array-like of shape (n_samples,), default=None
pos_label : int, str or bool, default=None
    Positive class when ``y_proba`` is 1-D; 1 for {0, 1} and {-1, 1} labels.
labels : array-like of shape (n_classes,), default=None
    The classes in the column order of a 2-D ``y_proba``.""",
    "parity_params": """Parameters
----------
{y_true}
{y_pred}
{sensitive_features}
{method}
{sample_weight}""",
    "group_metric_params": """Parameters
----------
metric : callable or str
    ``metric(y_true, y_pred, **kwargs)``, e.g. :func:`sklearn.metrics.recall_score`, or
    the name of a scikit-learn metric (``"accuracy"``, ``"roc_auc_score"``).
{y_true}
y_pred : array-like of shape (n_samples,) or (n_samples, n_classes)
    What ``metric`` expects: labels, scores or probabilities.
{sensitive_features}
sample_weight : array-like of shape (n_samples,), default=None
    Passed to ``metric`` for each group.""",
    "group_kwargs": """**kwargs
    Passed to ``metric``.""",
    "scorer_returns": """Returns
-------
scorer : GroupMetricScorer
    Call it as ``scorer(estimator, X, y)``, or pass it as ``scoring=`` to scikit-learn's
    model selection tools.""",
}


def fill(template, **fields):
    """``template`` with the metrics' shared sections and ``fields`` filled in."""
    return shared_fill(template, _SECTIONS, **fields)


fill_doc = doc_filler(_SECTIONS)
