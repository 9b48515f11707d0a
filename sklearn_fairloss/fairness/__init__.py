"""Fairness penalties and group scalings (torch objects) composed by the estimators.

Two kinds (see :mod:`sklearn_fairloss.fairness._base` for the exact contract):

- additive penalties (:class:`PenaltyBase`), added to the data loss with
  ``fairness_strength``: :class:`DemographicParity`, :class:`EqualizedOdds`,
  :class:`EqualOpportunity`, :class:`DistanceCovariance`;
- group scalings (:class:`GroupScalingBase`), which reweight the per-row data losses:
  :class:`WorstGroupLoss`, :class:`ErrorBoundReweighting`, :class:`FairIdentityScaling`.
  :class:`FairErrorBoundScaling` (FairSeg's group-scaled Dice term) is added to the data
  loss like a penalty.

:class:`FairIdentityNormalizer` (Harvard-GF's fair identity normalisation) is a network layer,
not a training term: ``FairLossClassifier(identity_normalization=True)`` puts it before the
output layer.

:class:`GroupThresholds` is a post-processing decision rule (numpy), re-exported from
:mod:`sklearn_fairloss.postprocessing`: one threshold per group for demographic parity or
equal opportunity, used by ``FairLossClassifier(decision=GroupThresholds(...))``.

:func:`get_fairness` turns a string alias (:data:`FAIRNESS`) or an object into a fresh object.
"""

from ..postprocessing import GroupThresholds
from ._base import GroupScalingBase, PenaltyBase
from ._distance_covariance import DistanceCovariance
from ._error_bound_scaling import ErrorBoundReweighting, FairErrorBoundScaling
from ._identity_normalization import FairIdentityNormalizer
from ._identity_scaling import FairIdentityScaling
from ._parity import DemographicParity, EqualizedOdds, EqualOpportunity
from ._registry import FAIRNESS, get_fairness
from ._worst_group import WorstGroupLoss

__all__ = [
    "FAIRNESS",
    "DemographicParity",
    "DistanceCovariance",
    "EqualOpportunity",
    "EqualizedOdds",
    "ErrorBoundReweighting",
    "FairErrorBoundScaling",
    "FairIdentityNormalizer",
    "FairIdentityScaling",
    "GroupScalingBase",
    "GroupThresholds",
    "PenaltyBase",
    "WorstGroupLoss",
    "get_fairness",
]
