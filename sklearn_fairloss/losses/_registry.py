"""String aliases of the losses: ``FairLossClassifier(loss="cross_entropy")``."""

from functools import partial

from .._registry import resolve_alias
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

__all__ = ["LOSSES", "get_loss"]

#: Maps each string alias to a zero-argument callable (a loss class, or a ``functools.partial``
#: of one for a preset such as ``"anyloss_mcc"``) that builds a default instance.
#: Synonyms (``"log_loss"``, ``"auc"``, ``"gce"``, ...) are kept for compatibility.
LOSSES = {
    "cross_entropy": CrossEntropyLoss,
    "log_loss": CrossEntropyLoss,
    "focal": FocalLoss,
    "class_balanced": ClassBalancedLoss,
    "class_balanced_focal": partial(ClassBalancedLoss, base="focal"),
    "logit_adjusted": LogitAdjustedLoss,
    "balanced_softmax": BalancedSoftmaxLoss,
    "ldam": partial(LDAMLoss, drw_start=None),
    "ldam_drw": LDAMLoss,
    "dice": SelfAdjustingDiceLoss,
    "self_adjusting_dice": SelfAdjustingDiceLoss,
    "tversky": TverskyLoss,
    "anyloss": AnyLoss,
    "anyloss_accuracy": partial(AnyLoss, metric="accuracy"),
    "anyloss_f1": partial(AnyLoss, metric="f_beta", beta=1.0),
    "anyloss_gmean": partial(AnyLoss, metric="gmean"),
    "anyloss_balanced_accuracy": partial(AnyLoss, metric="balanced_accuracy"),
    "anyloss_mcc": partial(AnyLoss, metric="mcc"),
    "mann_whitney": MannWhitneyLoss,
    "auc": MannWhitneyLoss,
    "ldr_kl": LDRKLLoss,
    "aldr_kl": AdaptiveLDRKLLoss,
    "generalized_cross_entropy": GeneralizedCrossEntropyLoss,
    "gce": GeneralizedCrossEntropyLoss,
    "mae": MAELoss,
    "flsd_53": SampleDependentFocalLoss,
    "ensloss": EnsLoss,
    "cape": CaPELoss,
}


def get_loss(loss):
    """Return a fresh loss object for a string alias or a loss object.

    Parameters
    ----------
    loss : str or LossBase
        A key of :data:`LOSSES`, or a loss object (cloned, so the caller's object is never
        modified).

    Returns
    -------
    LossBase

    Examples
    --------
    >>> from sklearn_fairloss.losses import get_loss
    >>> get_loss("cross_entropy")
    CrossEntropyLoss()
    >>> get_loss("anyloss_mcc")
    AnyLoss(metric='mcc')
    """
    return resolve_alias(loss, LOSSES, param="loss", base=LossBase,
                         example="sklearn_fairloss.losses.CrossEntropyLoss()")
