"""Post-processing: what happens to a fitted classifier's scores after training.

Numpy, scipy and scikit-learn only: importing this package never imports torch, and every
object here works on the logits or probabilities of any classifier.

Post-hoc calibrators, fitted on held-out logits (``fit(logits, y)``,
``predict_proba(logits)``):

- global: :class:`TemperatureScaling`, :class:`VectorScaling`, :class:`MatrixScaling`,
  :class:`IsotonicCalibration`, :class:`MonotoneCubicScaling` (binary; keeps every decision);
- per protected group: :class:`GroupTemperatureScaling` (with optional shrinkage to a shared
  temperature).

:func:`get_post_calibrator` turns a string alias (:data:`POST_CALIBRATORS`) or an object into a
fresh calibrator, for ``FairLossClassifier(post_calibration=...)``.

Decision rules, fitted on class probabilities (``fit(proba, y)``, ``predict(proba)`` -> class
codes; see :class:`DecisionRuleBase` for the contract):

- :class:`Argmax`: the most probable class under the training, data or uniform class prior;
- :class:`FixedThreshold` and :class:`TunedThreshold` (binary): a positive-class probability
  threshold, given or tuned for a metric on held-out rows;
- :class:`GroupThresholds` (binary): one threshold per protected group, for demographic
  parity or equal opportunity within a tolerance.

Under a stated fairness bound, for any classifier: :class:`GroupThresholdClassifier` fits a
classifier on part of the rows and :class:`GroupThresholds` at the largest tolerance that
held-out rows certify (:func:`rate_gap_upper_bound`, :func:`certifying_fraction`,
:func:`certify_group_thresholds`), the group-aware route of ``fairness_bound=``.

:func:`make_decision_rule` turns ``FairLossClassifier(decision=...)`` (a key of
:data:`DECISION_RULES`, a threshold or a rule) into a fresh rule.
"""

from ._calibrators import (
    IsotonicCalibration,
    MatrixScaling,
    MonotoneCubicScaling,
    PostCalibratorBase,
    TemperatureScaling,
    VectorScaling,
)
from ._certification import (
    BoundEstimate,
    certify_group_thresholds,
    certifying_fraction,
    rate_gap_upper_bound,
)
from ._decision import Argmax, DecisionRuleBase
from ._group_calibration import GroupTemperatureScaling
from ._group_threshold_classifier import GroupThresholdClassifier
from ._group_thresholds import GroupThresholds
from ._registry import DECISION_RULES, POST_CALIBRATORS, get_post_calibrator, make_decision_rule
from ._thresholds import DECISION_METRICS, FixedThreshold, TunedThreshold

__all__ = [
    "DECISION_METRICS",
    "DECISION_RULES",
    "POST_CALIBRATORS",
    "Argmax",
    "BoundEstimate",
    "DecisionRuleBase",
    "FixedThreshold",
    "GroupTemperatureScaling",
    "GroupThresholdClassifier",
    "GroupThresholds",
    "IsotonicCalibration",
    "MatrixScaling",
    "MonotoneCubicScaling",
    "PostCalibratorBase",
    "TemperatureScaling",
    "TunedThreshold",
    "VectorScaling",
    "certify_group_thresholds",
    "certifying_fraction",
    "get_post_calibrator",
    "make_decision_rule",
    "rate_gap_upper_bound",
]
