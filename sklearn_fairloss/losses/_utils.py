"""Private helpers shared by the losses.

- :class:`ClassCountsLossBase`: a :class:`~sklearn_fairloss.losses.LossBase` that learns the
  training class counts in :meth:`set_class_counts` and keeps them as a registered buffer.
- :func:`effective_number_weights`: the class weights of Cui et al. (2019).
- :func:`true_class_log_prob`, :func:`focal_nll`, :func:`one_vs_rest_log_odds`,
  :func:`safe_ratio`: small numerics shared by several losses.

Row weights, one-hot codes and the weighted mean come from
:mod:`sklearn_fairloss._torch_utils`, shared with the fairness and calibration terms.
"""

import math

import torch
import torch.nn.functional as F
from sklearn.exceptions import NotFittedError

from ._base import LossBase

__all__ = [
    "ClassCountsLossBase",
    "effective_number_weights",
    "focal_nll",
    "one_vs_rest_log_odds",
    "safe_ratio",
    "true_class_log_prob",
]


def safe_ratio(numerator, denominator):
    """``numerator / denominator`` with the denominator clamped to the dtype's epsilon.

    The clamp keeps values and gradients finite when a batch holds no row of a class.
    """
    return numerator / denominator.clamp_min(torch.finfo(denominator.dtype).eps)


def true_class_log_prob(logits, y):
    """``log softmax(logits)[i, y_i]`` of each row, shape ``(n,)``."""
    return F.log_softmax(logits, dim=1).gather(1, y[:, None]).squeeze(1)


def focal_nll(log_pt, gamma):
    """Focal modulation ``-(1 - p_t) ** gamma * log(p_t)`` from ``log(p_t)``.

    ``gamma`` is a number or a tensor of one exponent per row. ``1 - p_t`` is computed as
    ``-expm1(log p_t)`` (accurate for confident rows) and clamped away from zero so that
    ``gamma < 1`` keeps a finite gradient at ``p_t = 1``.
    """
    nll = -log_pt
    if not torch.is_tensor(gamma) and gamma == 0:
        return nll
    one_minus = (-torch.expm1(log_pt)).clamp_min(torch.finfo(log_pt.dtype).tiny)
    return one_minus.pow(gamma) * nll


def one_vs_rest_log_odds(logits):
    """Log-odds ``z_k - logsumexp_{j != k} z_j`` of each class against the rest, ``(n, K)``.

    Under the softmax this is ``log(p_k / (1 - p_k))``; for two classes it is
    ``(-m, m)`` with the margin ``m = z_1 - z_0``.
    """
    n_classes = logits.shape[1]
    if n_classes == 2:
        margin = logits[:, 1] - logits[:, 0]
        return torch.stack([-margin, margin], dim=1)
    diagonal = torch.eye(n_classes, dtype=torch.bool, device=logits.device)
    others = logits.unsqueeze(1).expand(-1, n_classes, -1).masked_fill(diagonal, -math.inf)
    return logits - torch.logsumexp(others, dim=2)


def effective_number_weights(counts, beta):
    """Class-balanced weights ``(1 - beta) / (1 - beta ** n_c)``, normalised to sum to K.

    ``1 / E_n`` with ``E_n = (1 - beta ** n) / (1 - beta)`` the effective number of samples
    (Cui et al. 2019). ``beta = 0`` gives equal weights; ``beta = 1`` gives inverse class
    frequencies (the limit ``E_n = n``).
    """
    beta = float(beta)
    if beta == 0.0:
        effective = torch.ones_like(counts)
    elif beta == 1.0:
        effective = counts
    else:
        effective = -torch.expm1(counts * math.log(beta)) / (1.0 - beta)
    weights = 1.0 / effective
    return weights * (counts.numel() / weights.sum())


class ClassCountsLossBase(LossBase):
    """A loss that needs the training class counts (priors, margins or class weights).

    :meth:`set_class_counts` stores the counts as the registered buffer ``class_counts_``
    (so that ``.to(device)`` moves them). Evaluating the loss before it raises
    :class:`~sklearn.exceptions.NotFittedError`: no silent fallback to a uniform prior.
    A class with a zero count (for example one whose rows all went to the validation
    split) is treated as being as rare as the rarest class that has rows.
    """

    def __init__(self):
        super().__init__()
        self.register_buffer("class_counts_", None)

    def set_class_counts(self, class_counts):
        """Store the (weighted) number of training rows of each class.

        Parameters
        ----------
        class_counts : array-like or torch.Tensor of shape (n_classes,)
            Non-negative, finite, with a positive sum and at least two classes.

        Returns
        -------
        self
        """
        counts = torch.as_tensor(class_counts).detach()
        if not counts.is_floating_point():
            counts = counts.to(torch.get_default_dtype())
        if (
            counts.ndim != 1
            or counts.numel() < 2
            or not bool(torch.isfinite(counts).all())
            or bool((counts < 0).any())
            or not bool(counts.sum() > 0)
        ):
            raise ValueError(
                "class_counts must be a 1-d array of at least two non-negative, finite "
                f"counts with a positive sum; got {class_counts!r}."
            )
        self.class_counts_ = counts.clone()
        return self

    def _counts(self, n_classes, like=None):
        """Class counts with zeros floored, in ``like``'s dtype and device (default float64)."""
        counts = self.class_counts_
        if counts is None:
            raise NotFittedError(
                f"{type(self).__name__} needs the training class counts: call "
                "set_class_counts(class_counts) first (FairLossClassifier does this in fit)."
            )
        if counts.numel() != n_classes:
            raise ValueError(
                f"{type(self).__name__} was given counts for {counts.numel()} classes but the "
                f"logits have {n_classes} columns."
            )
        if like is None:
            counts = counts.to(torch.float64)
        else:
            counts = counts.to(dtype=like.dtype, device=like.device)
        present = counts > 0
        floor = counts[present].min()
        return torch.where(present, counts, floor)

    def _log_priors(self, n_classes, like=None):
        counts = self._counts(n_classes, like)
        return torch.log(counts) - torch.log(counts.sum())
