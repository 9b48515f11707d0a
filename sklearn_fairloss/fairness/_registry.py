"""String aliases of the fairness objects: ``FairLossClassifier(fairness="demographic_parity")``."""

from functools import partial

from .._registry import resolve_alias
from ._base import GroupScalingBase, PenaltyBase
from ._distance_covariance import DistanceCovariance
from ._error_bound_scaling import ErrorBoundReweighting, FairErrorBoundScaling
from ._identity_scaling import FairIdentityScaling
from ._parity import DemographicParity, EqualizedOdds, EqualOpportunity
from ._worst_group import WorstGroupLoss

__all__ = ["FAIRNESS", "get_fairness"]

#: Maps each string alias to a zero-argument callable that builds a default instance.
#: Synonyms (``"dcov"``, ``"ccdcov"``, ``"group_dro"``, ``"febs"``, ``"fis"``) are kept for
#: compatibility.
FAIRNESS = {
    "demographic_parity": DemographicParity,
    "equalized_odds": EqualizedOdds,
    "equal_opportunity": EqualOpportunity,
    "distance_covariance": DistanceCovariance,
    "dcov": DistanceCovariance,
    "ccdcov": DistanceCovariance,
    "jdcov": partial(DistanceCovariance, method="jdcov"),
    "worst_group": WorstGroupLoss,
    "group_dro": WorstGroupLoss,
    "fair_error_bound_scaling": FairErrorBoundScaling,
    "febs": FairErrorBoundScaling,
    "error_bound_reweighting": ErrorBoundReweighting,
    "fair_identity_scaling": FairIdentityScaling,
    "fis": FairIdentityScaling,
}


def get_fairness(fairness):
    """Return a fresh fairness object for a string alias or a fairness object.

    Parameters
    ----------
    fairness : str, PenaltyBase, GroupScalingBase or None
        A key of :data:`FAIRNESS`, or a penalty or scaling object (cloned, so the caller's
        object is never modified). ``None`` means no fairness term and is returned as is.

    Returns
    -------
    PenaltyBase or GroupScalingBase or None

    Examples
    --------
    >>> from sklearn_fairloss.fairness import get_fairness
    >>> get_fairness("demographic_parity")
    DemographicParity()
    >>> get_fairness("jdcov")
    DistanceCovariance(method='jdcov')
    """
    return resolve_alias(fairness, FAIRNESS, param="fairness",
                         base=(PenaltyBase, GroupScalingBase), allow_none=True,
                         example="sklearn_fairloss.fairness.DemographicParity()")
