"""Prior-corrected softmax losses: logit adjustment and balanced softmax."""

import torch.nn.functional as F

from .._param_validation import Real
from ._utils import ClassCountsLossBase

__all__ = ["BalancedSoftmaxLoss", "LogitAdjustedLoss"]


class LogitAdjustedLoss(ClassCountsLossBase):
    r"""Logit-adjusted softmax cross-entropy: the training prior is added to the logits.

    ``loss_i = -log softmax(z_i + tau * log pi)[y_i]``, averaged with the row weights, with
    ``pi`` the training class prior learned by :meth:`set_class_counts`
    (``FairLossClassifier`` calls it in ``fit``; calling the loss before raises
    ``NotFittedError``). ``tau = 0`` is plain cross-entropy.

    From Menon, Jayasumana, Rawat, Jain, Veit and Kumar (2021), "Long-tail learning via
    logit adjustment", ICLR 2021 (arXiv:2007.07314).

    Parameters
    ----------
    tau : float, default=1.0
        Scale of the adjustment (``>= 0``); ``1`` is Fisher-consistent for the balanced error.

    Notes
    -----
    The loss is minimised when ``z + tau * log pi = log p(y | x) + const``, so the trained
    logits are ``z = log p(y | x) - tau * log pi``: their argmax is the balanced-error
    classifier. :meth:`log_prior_shift` returns ``+tau * log pi``; adding it to the logits
    (as ``predict_proba`` does) recovers the true class distribution.

    Examples
    --------
    >>> import torch
    >>> from sklearn_fairloss.losses import LogitAdjustedLoss
    >>> loss = LogitAdjustedLoss(tau=1.0).set_class_counts(torch.tensor([3.0, 1.0]))
    >>> round(float(loss(torch.zeros(1, 2), torch.tensor([1]))), 4)  # -log(0.25)
    1.3863
    >>> [round(v, 4) for v in loss.log_prior_shift(2).tolist()]  # log(0.75), log(0.25)
    [-0.2877, -1.3863]
    """

    _parameter_constraints = {"tau": [Real(0.0)]}

    def __init__(self, tau=1.0):
        super().__init__()
        self.tau = tau

    def _shift(self, n_classes, like=None):
        self._ensure_validated()
        return float(self.tau) * self._log_priors(n_classes, like)

    def per_sample_loss(self, logits, y):
        adjusted = logits + self._shift(logits.shape[1], logits)
        return F.cross_entropy(adjusted, y, reduction="none")

    def log_prior_shift(self, n_classes):
        """``+tau * log pi`` (float64); add it to the logits to get the true distribution."""
        return self._shift(n_classes).detach()


class BalancedSoftmaxLoss(ClassCountsLossBase):
    r"""Balanced softmax cross-entropy: the log class counts are added to the logits.

    ``loss_i = -log softmax(z_i + log n)[y_i]`` with ``n`` the training class counts
    (learned by :meth:`set_class_counts`), averaged with the row weights. Equivalent to
    :class:`LogitAdjustedLoss` with ``tau = 1`` (``log n`` and ``log pi`` differ by a
    constant); with a uniform prior it is plain cross-entropy.

    From Ren, Yu, Sheng, Ma, Zhao, Yi and Li (2020), "Balanced Meta-Softmax for Long-Tailed
    Visual Recognition", NeurIPS 2020 (arXiv:2007.10740).

    Notes
    -----
    The trained logits estimate ``log p(y | x) - log pi`` (the label-shift to a balanced
    test distribution); :meth:`log_prior_shift` returns ``+log pi`` so that
    ``predict_proba`` recovers the training (true) class distribution.

    Examples
    --------
    >>> import torch
    >>> from sklearn_fairloss.losses import BalancedSoftmaxLoss
    >>> loss = BalancedSoftmaxLoss().set_class_counts(torch.tensor([3.0, 1.0]))
    >>> round(float(loss(torch.zeros(1, 2), torch.tensor([1]))), 4)  # -log(1 / 4)
    1.3863
    """

    def per_sample_loss(self, logits, y):
        adjusted = logits + self._log_priors(logits.shape[1], logits)
        return F.cross_entropy(adjusted, y, reduction="none")

    def log_prior_shift(self, n_classes):
        """``+log pi`` (float64); add it to the logits to get the true distribution."""
        return self._log_priors(n_classes).detach()
