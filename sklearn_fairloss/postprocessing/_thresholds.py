"""Binary decision thresholds on the positive-class probability: fixed, or tuned for a metric.

The vocabulary of scikit-learn's ``FixedThresholdClassifier`` and
``TunedThresholdClassifierCV``, as rules fitted on the probabilities of any classifier.
"""

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    matthews_corrcoef,
)

from .._param_validation import Options, Real
from ._decision import DecisionRuleBase

__all__ = ["DECISION_METRICS", "FixedThreshold", "TunedThreshold"]

#: Metrics a binary decision threshold can be tuned for (``TunedThreshold(metric)``,
#: ``FairLossClassifier(decision="f1")``, ...).
DECISION_METRICS = {
    "f1": f1_score,
    "balanced_accuracy": balanced_accuracy_score,
    "accuracy": accuracy_score,
    "mcc": matthews_corrcoef,
}


def _tune_threshold(proba, y, sample_weight, metric):
    """The probability threshold in ``(0, 1)`` that maximises ``metric`` on held-out rows.

    Candidates are the midpoints between consecutive distinct probabilities (at most 256
    quantiles); ties go to the threshold closest to 0.5. The approach of scikit-learn's
    ``TunedThresholdClassifierCV``, on one held-out split.
    """
    scorer = DECISION_METRICS[metric]
    values = np.unique(np.quantile(proba, np.linspace(0, 1, 257)))
    candidates = np.concatenate([[0.5], (values[:-1] + values[1:]) / 2])
    scores = np.array([scorer(y, (proba >= t).astype(int), sample_weight=sample_weight)
                       for t in candidates])
    best = np.flatnonzero(scores >= scores.max() - 1e-12)
    return float(candidates[best[np.argmin(np.abs(candidates[best] - 0.5))]])


class _ThresholdRule(DecisionRuleBase):
    """Predict the positive class when its probability reaches ``threshold_``."""

    binary = True

    def _predict(self, proba, sensitive_features):
        return (proba >= self.threshold_).astype(np.int64)


class FixedThreshold(_ThresholdRule):
    """Predict the positive class when its probability reaches a fixed threshold.

    Binary problems only. Like scikit-learn's ``FixedThresholdClassifier``, on the
    probabilities of a fitted classifier; :meth:`fit` only validates (no data is learnt).
    ``FairLossClassifier(decision=0.3)`` is ``decision=FixedThreshold(0.3)``.

    Parameters
    ----------
    threshold : float, default=0.5
        The positive-class probability threshold, in ``(0, 1)``.

    Attributes
    ----------
    threshold_ : float
        The threshold applied (``threshold``).
    n_classes_ : int
        Always 2.

    See Also
    --------
    TunedThreshold : the threshold that maximises a metric on held-out rows.

    Examples
    --------
    >>> from sklearn_fairloss.postprocessing import FixedThreshold
    >>> proba = [[0.9, 0.1], [0.65, 0.35], [0.2, 0.8]]
    >>> FixedThreshold(0.3).fit(proba).predict(proba)
    array([0, 1, 1])
    >>> FixedThreshold(0.3).fit(proba).predict([0.1, 0.35, 0.8])  # positive column alone
    array([0, 1, 1])
    """

    needs_proba = False
    _binary_message = ("{where} is a probability threshold, which needs a binary y; got "
                       "{n_classes} classes.")
    _parameter_constraints = {"threshold": [Real(0, 1, low_open=True, high_open=True)]}

    def __init__(self, threshold=0.5):
        self.threshold = threshold

    def _fit(self, proba, y, sample_weight, **_):
        self.threshold_ = float(self.threshold)


class TunedThreshold(_ThresholdRule):
    """The positive-class probability threshold that maximises a metric on held-out rows.

    Binary problems only. The candidates are the midpoints between consecutive distinct
    probabilities of the fitting rows (at most 256 quantiles, plus 0.5); ties go to the
    threshold closest to 0.5. scikit-learn's ``TunedThresholdClassifierCV`` on one held-out
    split: fit the rule on rows the classifier did not train on (``needs_held_out``), or the
    threshold fits the training rows' over-confident probabilities.
    ``FairLossClassifier(decision="f1")`` is ``decision=TunedThreshold("f1")``.

    Parameters
    ----------
    metric : {"f1", "balanced_accuracy", "accuracy", "mcc"}, default="f1"
        The metric to maximise (scikit-learn's ``f1_score``, ``balanced_accuracy_score``,
        ``accuracy_score``, ``matthews_corrcoef``), with ``sample_weight``.

    Attributes
    ----------
    threshold_ : float
        The tuned threshold, in ``(0, 1)``.
    n_classes_ : int
        Always 2.

    See Also
    --------
    FixedThreshold : a threshold given in advance.

    Examples
    --------
    On rows where positives are rare, F1 wants a lower threshold than 0.5:

    >>> import numpy as np
    >>> from sklearn_fairloss.postprocessing import TunedThreshold
    >>> rng = np.random.default_rng(0)
    >>> p1 = rng.beta(1, 6, size=2000)              # calibrated, mostly small
    >>> y = (rng.random(2000) < p1).astype(int)
    >>> rule = TunedThreshold("f1").fit(p1, y)
    >>> bool(0.1 < rule.threshold_ < 0.5)
    True
    >>> rule.predict([0.05, 0.6])
    array([0, 1])
    """

    needs_held_out = True
    _binary_message = ("{where} tunes a threshold, which needs a binary y; got {n_classes} "
                       "classes. Use decision='argmax' or 'balanced'.")
    _parameter_constraints = {"metric": [Options(*DECISION_METRICS)]}

    def __init__(self, metric="f1"):
        self.metric = metric

    def _fit(self, proba, y, sample_weight, **_):
        if y is None:
            raise ValueError("TunedThreshold.fit needs y: the class codes (0 or 1) of the "
                             "held-out rows whose metric it maximises.")
        self.threshold_ = _tune_threshold(proba, y, sample_weight, self.metric)
