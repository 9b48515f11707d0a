"""Fairness, calibration and group metrics, their scorers, and group reports.

Pure numpy / pandas / scikit-learn: importing this module never imports torch. Every
metric accepts binary and multiclass targets where that makes sense, any number of groups,
several sensitive attributes at once (intersectional groups) and ``sample_weight``.

The fairness metrics on labels, the binned calibration metrics and :func:`group_report` also
accept Dask DataFrames, Series and arrays (data larger than memory): each partition is
reduced to per-group sums, in one pass over the data, and the result equals the in-memory
one. dask is imported only when a Dask collection is given.
"""

from ._binning import CalibrationBins, calibration_bins
from ._calibration import (
    BrierDecomposition,
    balance_score,
    brier_score_decomposition,
    calibration_error_difference,
    expected_calibration_error,
    maximum_calibration_error,
)
from ._distribution import distance_correlation, jensen_shannon_divergence
from ._fairness import (
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equal_opportunity_ratio,
    equalized_odds_difference,
    equalized_odds_ratio,
    error_rate_parity_difference,
    predictive_parity_difference,
)
from ._group_metrics import equity_scaled_score, performance_scaled_disparity, worst_group_score
from ._refit import ConstrainedRefit, FairnessConstraintWarning
from ._report import group_report
from ._scorers import (
    GroupMetricScorer,
    make_calibration_scorer,
    make_equity_scaled_scorer,
    make_fairness_scorer,
)
from ._validation import check_sensitive_features

__all__ = [
    "BrierDecomposition",
    "CalibrationBins",
    "ConstrainedRefit",
    "FairnessConstraintWarning",
    "GroupMetricScorer",
    "balance_score",
    "brier_score_decomposition",
    "calibration_bins",
    "calibration_error_difference",
    "check_sensitive_features",
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "distance_correlation",
    "equal_opportunity_difference",
    "equal_opportunity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
    "equity_scaled_score",
    "error_rate_parity_difference",
    "expected_calibration_error",
    "group_report",
    "jensen_shannon_divergence",
    "make_calibration_scorer",
    "make_equity_scaled_scorer",
    "make_fairness_scorer",
    "maximum_calibration_error",
    "performance_scaled_disparity",
    "predictive_parity_difference",
    "worst_group_score",
]
