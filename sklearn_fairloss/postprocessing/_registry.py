"""String aliases of the post-processing objects: the post-hoc calibrators of
``post_calibration=`` and the decision rules of ``decision=``."""

import numbers
from functools import partial

from sklearn.base import clone

from .._registry import resolve_alias
from ._calibrators import (
    IsotonicCalibration,
    MatrixScaling,
    MonotoneCubicScaling,
    PostCalibratorBase,
    TemperatureScaling,
    VectorScaling,
)
from ._decision import Argmax, DecisionRuleBase
from ._group_calibration import GroupTemperatureScaling
from ._thresholds import DECISION_METRICS, FixedThreshold, TunedThreshold

__all__ = ["DECISION_RULES", "POST_CALIBRATORS", "get_post_calibrator", "make_decision_rule"]

#: Maps each string alias of ``post_calibration=`` to a zero-argument callable that builds a
#: default instance. ``"group_temperature_shrunk"`` is ``GroupTemperatureScaling(shrinkage=10)``.
POST_CALIBRATORS = {
    "temperature": TemperatureScaling,
    "vector": VectorScaling,
    "matrix": MatrixScaling,
    "isotonic": IsotonicCalibration,
    "monotone_cubic": MonotoneCubicScaling,
    "group_temperature": GroupTemperatureScaling,
    "group_temperature_shrunk": partial(GroupTemperatureScaling, shrinkage=10.0),
}


def get_post_calibrator(calibrator):
    """Return a fresh post-hoc calibrator for a string alias or a calibrator object.

    Parameters
    ----------
    calibrator : str, PostCalibratorBase or None
        A key of :data:`POST_CALIBRATORS`, or a calibrator (cloned, so the caller's object is
        never modified). ``None`` means no post-hoc calibration and is returned as is.

    Returns
    -------
    PostCalibratorBase or None
        A new, unfitted calibrator.

    Raises
    ------
    ValueError
        For an unknown alias; the message lists the valid ones.
    TypeError
        For anything else that is not a :class:`PostCalibratorBase`.

    Examples
    --------
    >>> from sklearn_fairloss.postprocessing import TemperatureScaling, get_post_calibrator
    >>> get_post_calibrator("group_temperature_shrunk")
    GroupTemperatureScaling(shrinkage=10.0)
    >>> mine = TemperatureScaling()
    >>> get_post_calibrator(mine) is mine   # a clone
    False
    """
    return resolve_alias(calibrator, POST_CALIBRATORS, param="post_calibration",
                         base=PostCalibratorBase, allow_none=True,
                         example="sklearn_fairloss.postprocessing.TemperatureScaling()")


#: Maps each string alias of ``decision=`` to a zero-argument callable that builds the rule:
#: ``"argmax"``, ``"proba"`` and ``"balanced"`` are :class:`Argmax` with the prior
#: ``"training"``, ``"data"`` and ``"uniform"``; a metric name is :class:`TunedThreshold`.
DECISION_RULES = {
    "argmax": partial(Argmax, prior="training"),
    "proba": partial(Argmax, prior="data"),
    "balanced": partial(Argmax, prior="uniform"),
    **{metric: partial(TunedThreshold, metric=metric) for metric in DECISION_METRICS},
}


def make_decision_rule(decision, n_classes=None):
    """Return a fresh, validated decision rule for an estimator's ``decision=`` value.

    Parameters
    ----------
    decision : str, float or DecisionRuleBase
        A key of :data:`DECISION_RULES` (``"argmax"``, ``"proba"``, ``"balanced"`` or a
        metric name), a positive-class probability threshold in ``(0, 1)``
        (:class:`FixedThreshold`), or a rule object (cloned, so the caller's object is never
        modified).
    n_classes : int, default=None
        Number of classes of the problem: the binary rules (thresholds) need 2. When None,
        the rule checks it in ``fit``.

    Returns
    -------
    DecisionRuleBase
        A new, unfitted rule whose parameters have been checked.

    Raises
    ------
    ValueError
        For a value of another kind, a threshold outside ``(0, 1)``, bad rule parameters,
        or a binary-only rule with more than two classes; the message names ``decision``.

    Examples
    --------
    >>> from sklearn_fairloss.postprocessing import GroupThresholds, make_decision_rule
    >>> make_decision_rule("balanced", n_classes=3)
    Argmax(prior='uniform')
    >>> make_decision_rule(0.3, n_classes=2)
    FixedThreshold(threshold=0.3)
    >>> make_decision_rule(GroupThresholds(tolerance=0.05), n_classes=2)
    GroupThresholds(tolerance=0.05)
    >>> make_decision_rule("f1", n_classes=3)
    Traceback (most recent call last):
    ...
    ValueError: decision='f1' tunes a threshold, which needs a binary y; got 3 classes. \
Use decision='argmax' or 'balanced'.
    """
    if isinstance(decision, str) and decision in DECISION_RULES:
        rule = DECISION_RULES[decision]()
    elif isinstance(decision, numbers.Real) and not isinstance(decision, bool):
        if not 0 < decision < 1:
            raise ValueError(f"decision as a threshold must be in (0, 1); got {decision!r}.")
        rule = FixedThreshold(float(decision))
    elif isinstance(decision, DecisionRuleBase):
        rule = clone(decision)
    else:
        raise ValueError(
            "decision must be 'argmax', 'proba', 'balanced', a threshold in (0, 1), one of "
            f"{sorted(DECISION_METRICS)} or a DecisionRuleBase such as "
            f"sklearn_fairloss.postprocessing.TunedThreshold('f1'); got {decision!r}."
        )
    rule._validate_params()
    if n_classes is not None:
        rule._check_n_classes(n_classes, f"decision={decision!r}")
    return rule
