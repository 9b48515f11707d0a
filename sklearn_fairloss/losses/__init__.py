"""Data losses (torch objects): cross-entropy, the imbalance-aware losses and the
calibration-aware losses (FLSD-53, EnsLoss, CaPE; also re-exported by
:mod:`sklearn_fairloss.calibration`).

See :mod:`sklearn_fairloss.losses._base` for the contract every loss follows.
"""

from .._torch_utils import weighted_mean
from ._anyloss import AnyLoss
from ._auc import MannWhitneyLoss
from ._base import LossBase
from ._cape import CaPELoss
from ._class_balanced import ClassBalancedLoss
from ._comp_sum import GeneralizedCrossEntropyLoss, MAELoss
from ._cross_entropy import CrossEntropyLoss
from ._dice import SelfAdjustingDiceLoss, TverskyLoss
from ._ensloss import EnsLoss
from ._focal import FocalLoss
from ._focal_sample_dependent import SampleDependentFocalLoss
from ._ldam import LDAMLoss
from ._ldr import AdaptiveLDRKLLoss, LDRKLLoss
from ._logit_adjusted import BalancedSoftmaxLoss, LogitAdjustedLoss
from ._registry import LOSSES, get_loss

__all__ = [
    "LOSSES",
    "AdaptiveLDRKLLoss",
    "AnyLoss",
    "BalancedSoftmaxLoss",
    "CaPELoss",
    "ClassBalancedLoss",
    "CrossEntropyLoss",
    "EnsLoss",
    "FocalLoss",
    "GeneralizedCrossEntropyLoss",
    "LDAMLoss",
    "LDRKLLoss",
    "LogitAdjustedLoss",
    "LossBase",
    "MAELoss",
    "MannWhitneyLoss",
    "SampleDependentFocalLoss",
    "SelfAdjustingDiceLoss",
    "TverskyLoss",
    "get_loss",
    "weighted_mean",
]
