"""Focal loss (Lin et al. 2017)."""

import numbers

import numpy as np
import torch

from .._param_validation import InstanceOf, Real
from ._base import LossBase
from ._utils import focal_nll, true_class_log_prob

__all__ = ["FocalLoss"]


def _alpha_weights(alpha, n_classes, like):
    """Per-class weights of the focal loss's ``alpha``, or ``None`` for no weighting."""
    if alpha is None:
        return None
    if isinstance(alpha, numbers.Real):
        alpha = float(alpha)
        if n_classes != 2:
            raise ValueError(
                "alpha as a single number is the weight of class 1 in a binary problem; "
                f"with {n_classes} classes pass one weight per class (a sequence of length "
                f"{n_classes}) or None."
            )
        return torch.tensor([1.0 - alpha, alpha], dtype=like.dtype, device=like.device)
    weights = torch.as_tensor(alpha, dtype=like.dtype).to(like.device)
    if (
        weights.ndim != 1
        or weights.numel() != n_classes
        or not bool(torch.isfinite(weights).all())
        or bool((weights < 0).any())
    ):
        raise ValueError(
            f"alpha must be None, a number in [0, 1] (binary problems), or {n_classes} "
            f"non-negative finite class weights; got {alpha!r}."
        )
    return weights


class FocalLoss(LossBase):
    r"""Softmax focal loss: cross-entropy down-weighted on well-classified rows.

    ``loss_i = -alpha_{y_i} * (1 - p_{i,y_i}) ** gamma * log p_{i,y_i}``, with ``p`` the
    softmax of the logits, averaged with the row weights (``sum w * loss / sum w``).
    ``gamma = 0`` and ``alpha=None`` give plain cross-entropy.

    From Lin, Goyal, Girshick, He and Dollár (2017), "Focal Loss for Dense Object
    Detection", ICCV 2017 (arXiv:1708.02002).

    Parameters
    ----------
    gamma : float, default=2.0
        Focusing parameter (``>= 0``): the larger, the less well-classified rows count.
    alpha : None, float or sequence of float, default=None
        Class weighting. ``None``: none. A float in ``[0, 1]`` (binary problems only):
        weight ``alpha`` on class 1 and ``1 - alpha`` on class 0, as in the paper (which
        uses 0.25 with ``gamma=2`` for object detection). A sequence: one non-negative
        weight per class.

    Notes
    -----
    The focal loss is not a proper scoring rule, so the softmax of a model trained with it
    is not a calibrated estimate of the class distribution; :meth:`log_prior_shift` returns
    ``None`` (no closed-form correction).

    Examples
    --------
    >>> import torch
    >>> from sklearn_fairloss.losses import FocalLoss
    >>> logits, y = torch.zeros(2, 2), torch.tensor([0, 1])
    >>> round(float(FocalLoss(gamma=2.0)(logits, y)), 4)  # 0.5 ** 2 * log(2)
    0.1733
    >>> round(float(FocalLoss(gamma=0.0)(logits, y)), 4)  # cross-entropy
    0.6931
    """

    _parameter_constraints = {
        "gamma": [Real(0.0)],
        "alpha": [None, Real(0.0, 1.0), InstanceOf((list, tuple, np.ndarray, torch.Tensor),
                                                   "a sequence of class weights")],
    }

    def __init__(self, gamma=2.0, alpha=None):
        super().__init__()
        self.gamma = gamma
        self.alpha = alpha

    def per_sample_loss(self, logits, y):
        self._ensure_validated()
        alpha = _alpha_weights(self.alpha, logits.shape[1], logits)
        loss = focal_nll(true_class_log_prob(logits, y), float(self.gamma))
        if alpha is not None:
            loss = alpha[y] * loss
        return loss
