"""Set-level overlap losses: self-adjusting Dice and Tversky (Li et al. 2020)."""

import torch

from .._param_validation import Real
from .._torch_utils import one_hot, row_weights
from ._base import LossBase
from ._utils import safe_ratio

__all__ = ["SelfAdjustingDiceLoss", "TverskyLoss"]


def _class_columns(logits, y):
    """Softmax probabilities and one-hot targets of the scored classes.

    Binary problems score the positive class (column 1) only; multiclass problems score every
    class one-vs-rest (the caller averages over classes).
    """
    n_classes = logits.shape[1]
    probs = torch.softmax(logits, dim=1)
    targets = one_hot(y, n_classes, logits.dtype)
    if n_classes == 2:
        return probs[:, 1:], targets[:, 1:]
    return probs, targets


class _OverlapLoss(LossBase):
    """A set-level loss ``mean_c (1 - overlap_c)`` over the scored class columns."""

    def forward(self, logits, y, sample_weight=None):
        self._ensure_validated()
        probs, targets = _class_columns(logits, y)
        w = row_weights(sample_weight, logits)[:, None]
        return (1.0 - self._overlap(probs, targets, w)).mean()

    def _overlap(self, probs, targets, w):
        """The smoothed overlap index of each scored column, shape ``(n_columns,)``."""
        raise NotImplementedError


class SelfAdjustingDiceLoss(_OverlapLoss):
    r"""Self-adjusting Dice loss: one minus a smoothed, soft Dice coefficient (F1) of a batch.

    With ``p`` the softmax probability of the scored class, ``y`` its 0/1 target and ``w`` the
    row weights, ``p~ = (1 - p) ** alpha * p`` (the self-adjusting factor that fades out
    easy rows) and

    ``loss = 1 - (2 * sum w p~ y + gamma) / (sum w p~ + sum w y + gamma)``.

    Binary problems score the positive class (column 1); multiclass problems average the
    one-vs-rest losses over the classes. The sums run over the batch (a set-level loss,
    as in the authors' code), so sample weights act as row counts: weight 2 equals
    duplicating a row.

    From Li, Sun, Meng, Liang, Wu and Li (2020), "Dice Loss for Data-imbalanced NLP Tasks",
    ACL 2020 (arXiv:1911.02855).

    Parameters
    ----------
    alpha : float, default=0.01
        Exponent of the self-adjusting factor ``(1 - p) ** alpha`` (``>= 0``); ``0`` gives
        the plain soft Dice loss. 0.01 is the value of the authors' training scripts (and
        of their argument parser). Large values stall training from an uninformed start:
        the derivative of ``(1 - p) ** alpha * p`` at ``p = 0.5`` is
        ``0.5 ** alpha * (1 - alpha)``, exactly zero for ``alpha = 1``.
    smooth : float, default=1.0
        The smoothing term ``gamma`` (``>= 0``) added to numerator and denominator (the
        authors' scripts use 1); it keeps the loss finite (and informative) on a batch
        without positives.

    Examples
    --------
    >>> import torch
    >>> from sklearn_fairloss.losses import SelfAdjustingDiceLoss
    >>> logits, y = torch.zeros(2, 2), torch.tensor([0, 1])
    >>> # p = 0.5: p~ = 0.25, loss = 1 - (2 * 0.25 + 1) / (0.5 + 1 + 1)
    >>> round(float(SelfAdjustingDiceLoss(alpha=1.0, smooth=1.0)(logits, y)), 4)
    0.4
    """

    _parameter_constraints = {"alpha": [Real(0.0)], "smooth": [Real(0.0)]}

    def __init__(self, alpha=0.01, smooth=1.0):
        super().__init__()
        self.alpha = alpha
        self.smooth = smooth

    def _overlap(self, probs, targets, w):
        alpha, smooth = float(self.alpha), float(self.smooth)
        if alpha != 0:
            one_minus = (1.0 - probs).clamp_min(torch.finfo(probs.dtype).tiny)
            probs = one_minus.pow(alpha) * probs
        intersection = (w * probs * targets).sum(0)
        denominator = (w * probs).sum(0) + (w * targets).sum(0)
        return safe_ratio(2.0 * intersection + smooth, denominator + smooth)


class TverskyLoss(_OverlapLoss):
    r"""Tversky loss: one minus a smoothed soft Tversky index of a batch.

    With ``p`` the softmax probability of the scored class, ``y`` its target and ``w`` the row
    weights, ``TP = sum w p y``, ``FP = sum w p (1 - y)``, ``FN = sum w (1 - p) y`` and

    ``loss = 1 - (TP + gamma) / (TP + alpha FP + beta FN + gamma)``.

    ``alpha = beta = 0.5`` is the Dice loss (:class:`SelfAdjustingDiceLoss` with
    ``alpha=0`` and twice the smoothing); raising ``beta`` penalises false negatives more,
    which favours recall of a rare class. Binary problems score the positive class;
    multiclass problems average the one-vs-rest losses over the classes.

    From Salehi, Erdogmus and Gholipour (2017), "Tversky loss function for image segmentation
    using 3D fully convolutional deep networks", MLMI 2017 (arXiv:1706.05721), as used for
    imbalanced NLP tasks by Li et al. (2020), "Dice Loss for Data-imbalanced NLP Tasks",
    ACL 2020.

    Parameters
    ----------
    alpha : float, default=0.3
        Weight of the false positives (``>= 0``).
    beta : float, default=0.7
        Weight of the false negatives (``>= 0``).
    smooth : float, default=1.0
        Smoothing term ``gamma`` (``>= 0``).

    Examples
    --------
    >>> import torch
    >>> from sklearn_fairloss.losses import TverskyLoss
    >>> logits, y = torch.zeros(2, 2), torch.tensor([0, 1])
    >>> # TP = FP = FN = 0.5: loss = 1 - 1.5 / (0.5 + 0.25 + 0.25 + 1)
    >>> round(float(TverskyLoss(alpha=0.5, beta=0.5)(logits, y)), 4)
    0.25
    """

    _parameter_constraints = {"alpha": [Real(0.0)], "beta": [Real(0.0)],
                              "smooth": [Real(0.0)]}

    def __init__(self, alpha=0.3, beta=0.7, smooth=1.0):
        super().__init__()
        self.alpha = alpha
        self.beta = beta
        self.smooth = smooth

    def _overlap(self, probs, targets, w):
        alpha, beta, smooth = float(self.alpha), float(self.beta), float(self.smooth)
        tp = (w * probs * targets).sum(0)
        fp = (w * probs * (1.0 - targets)).sum(0)
        fn = (w * (1.0 - probs) * targets).sum(0)
        return safe_ratio(tp + smooth, tp + alpha * fp + beta * fn + smooth)
