"""Comp-sum losses: generalized cross-entropy and mean absolute error (Mao et al. 2023)."""

import torch

from .._param_validation import Real
from ._base import LossBase
from ._utils import true_class_log_prob

__all__ = ["GeneralizedCrossEntropyLoss", "MAELoss"]


class GeneralizedCrossEntropyLoss(LossBase):
    r"""Generalized cross-entropy ``(1 - p_y ** q) / q``: between cross-entropy and MAE.

    ``loss_i = (1 - p_{i,y_i} ** q) / q``, averaged with the row weights, with ``p`` the
    softmax of the logits. ``q -> 0`` is cross-entropy (``q = 0`` is accepted and computes
    it), ``q = 1`` is the mean absolute error ``1 - p_y`` (:class:`MAELoss`); intermediate
    values trade cross-entropy's fit for MAE's robustness to label noise.

    It is the comp-sum loss ``Phi^tau(sum_{k != y} exp(z_k - z_y))`` with
    ``tau = 1 + q`` studied (with H-consistency bounds) by Mao, Mohri and Zhong (2023),
    "Cross-Entropy Loss Functions: Theoretical Analysis and Applications", ICML 2023
    (arXiv:2304.07288); introduced by Zhang and Sabuncu (2018), "Generalized Cross Entropy
    Loss for Training Deep Neural Networks with Noisy Labels", NeurIPS 2018.

    Parameters
    ----------
    q : float, default=0.7
        Exponent in ``[0, 1]`` (0.7 is Zhang and Sabuncu's default).

    Examples
    --------
    >>> import torch
    >>> from sklearn_fairloss.losses import GeneralizedCrossEntropyLoss
    >>> logits, y = torch.zeros(1, 2), torch.tensor([0])
    >>> round(float(GeneralizedCrossEntropyLoss(q=1.0)(logits, y)), 4)  # 1 - 0.5
    0.5
    """

    _parameter_constraints = {"q": [Real(0.0, 1.0)]}

    def __init__(self, q=0.7):
        super().__init__()
        self.q = q

    def per_sample_loss(self, logits, y):
        self._ensure_validated()
        q = float(self.q)
        log_pt = true_class_log_prob(logits, y)
        if q == 0.0:
            return -log_pt
        return -torch.expm1(q * log_pt) / q


class MAELoss(LossBase):
    r"""Mean absolute error on the softmax probabilities, ``1 - p_y``.

    ``loss_i = 1 - p_{i,y_i}`` (half the L1 distance between ``p_i`` and the one-hot target),
    averaged with the row weights. Bounded and symmetric, hence robust to label noise, but
    slow to fit. The comp-sum loss with ``tau = 2`` of Mao, Mohri and Zhong (2023),
    "Cross-Entropy Loss Functions: Theoretical Analysis and Applications", ICML 2023
    (arXiv:2304.07288); see also Ghosh, Kumar and Sastry (2017), "Robust Loss Functions
    under Label Noise for Deep Neural Networks", AAAI 2017.

    Examples
    --------
    >>> import torch
    >>> from sklearn_fairloss.losses import MAELoss
    >>> logits, y = torch.zeros(2, 2), torch.tensor([0, 1])
    >>> float(MAELoss()(logits, y))
    0.5
    """

    def per_sample_loss(self, logits, y):
        return -torch.expm1(true_class_log_prob(logits, y))
