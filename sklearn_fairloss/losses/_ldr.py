"""Label-distributionally robust losses: LDR-KL and adaptive ALDR-KL (Zhu et al. 2023)."""

import math

import torch

from .._param_validation import Real
from .._torch_utils import one_hot
from ._base import LossBase
from ._docstrings import fill_doc

__all__ = ["AdaptiveLDRKLLoss", "LDRKLLoss"]

#: Fixed-point iterations of the adaptive lambda (each is a softmax over the classes).
_ALDR_ITERATIONS = 20


def _margin_gaps(logits, y, margin):
    """``d_k = margin * [k != y] + z_k - z_y``, shape ``(n, K)`` (zero in the true column)."""
    targets = one_hot(y, logits.shape[1], logits.dtype)
    true_logit = (logits * targets).sum(1, keepdim=True)
    return margin * (1.0 - targets) + logits - true_logit


def _ldr_kl(gaps, lam):
    """``lam * log(mean_k exp(d_k / lam))``: the worst case over label distributions.

    ``lam`` is a float or a tensor of shape ``(n,)`` (one strength per row).
    """
    n_classes = gaps.shape[1]
    scale = lam[:, None] if torch.is_tensor(lam) else lam
    return lam * (torch.logsumexp(gaps / scale, dim=1) - math.log(n_classes))


def _adaptive_lambdas(gaps, lam, alpha):
    """Per-row strengths: ``_ALDR_ITERATIONS`` steps of the authors' update
    ``lam_i <- lam (1 - KL(softmax(d / lam_i), u) / (alpha log K))`` from ``lam_i = lam``.

    The steps stay in the autograd graph: the gradient is that of the value computed.
    """
    log_k = math.log(gaps.shape[1])
    lam_i = torch.full_like(gaps[:, 0], lam)
    for _ in range(_ALDR_ITERATIONS):
        log_q = torch.log_softmax(gaps / lam_i[:, None], dim=1)
        kl = (log_q.exp() * (log_q + log_k)).sum(1).clamp(0.0, log_k)
        lam_i = lam * (1.0 - kl / (alpha * log_k))
    return lam_i


@fill_doc
class LDRKLLoss(LossBase):
    r"""Label-distributionally robust loss with a KL penalty (LDR-KL).

    The loss of a row is the worst expected margin gap over distributions ``q`` on the labels,
    penalised by their KL divergence from the uniform distribution ``u``:

    ``loss_i = max_q sum_k q_k d_ik - lam KL(q, u) = lam log((1/K) sum_k exp(d_ik / lam))``,

    with ``d_ik = margin [k != y_i] + z_ik - z_{i y_i}``; averaged with the row weights.
    ``lam -> 0`` gives the Crammer-Singer hinge ``max_k d_ik``; ``lam -> infinity`` the mean
    gap; ``lam = 1, margin = 0`` is cross-entropy minus ``log K``.

    {zhu2023_reference}

    Parameters
    ----------
    {ldr_margin}
    lam : float, default=1.0
        The KL regularisation strength ``lambda`` (``> 0``).

    Notes
    -----
    The authors' code also rescales the model's scores (softplus, then division by their
    mean) before the loss; here the loss applies to the raw logits, which ``predict_proba``
    then uses. :meth:`log_prior_shift` returns ``None``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_fairloss.losses import LDRKLLoss
    >>> logits, y = torch.zeros(1, 2), torch.tensor([0])
    >>> # gaps (0, 1): log((exp(0) + exp(1)) / 2)
    >>> round(float(LDRKLLoss(margin=1.0, lam=1.0)(logits, y)), 4)
    0.6201
    """

    _parameter_constraints = {"margin": [Real(0.0)], "lam": [Real(0.0, low_open=True)]}

    def __init__(self, margin=1.0, lam=1.0):
        super().__init__()
        self.margin = margin
        self.lam = lam

    def per_sample_loss(self, logits, y):
        self._ensure_validated()
        return _ldr_kl(_margin_gaps(logits, y, float(self.margin)), float(self.lam))


@fill_doc
class AdaptiveLDRKLLoss(LDRKLLoss):
    r"""Adaptive label-distributionally robust loss (ALDR-KL): a per-row KL strength.

    As :class:`LDRKLLoss`, but each row gets its own strength ``lam_i`` near ``lam``, the
    adversary trading it against a quadratic penalty:

    ``loss_i = lam_i log((1/K) sum_k exp(d_ik / lam_i)) - alpha log(K) / (2 lam) (lam_i - lam)^2``

    where ``lam_i`` is a stationary point in ``lam_i`` (a maximum from the right):
    ``lam_i = lam (1 - KL(q_i, u) / (alpha log K))`` with ``q_i = softmax(d_i / lam_i)``
    the worst-case label distribution. It is computed with the authors' update
    ``lam_i <- lam (1 - KL(q_i, u) / (alpha log K))``, started at ``lam`` and repeated 20
    times within each batch (the authors apply one step per visit of a row, keeping
    ``lam_i`` across epochs by sample id; no per-row state is kept here). The iterates
    decrease towards the largest stationary point and stay in ``[lam (1 - 1/alpha), lam]``;
    the gradient flows through them, so it is the exact gradient of the value computed
    (at convergence it equals the authors' gradient with ``lam_i`` held fixed, by the
    envelope theorem). Rows whose worst-case distribution is far from uniform (confidently
    wrong, for example mislabelled ones) get a smaller ``lam_i``.

    {zhu2023_reference}

    Parameters
    ----------
    {ldr_margin}
    lam : float, default=1.0
        The reference KL strength ``lambda_0`` (``> 0``).
    alpha : float, default=2.0
        Strength of the pull of ``lam_i`` towards ``lam`` (``> 1``, which keeps ``lam_i``
        positive).

    Examples
    --------
    >>> import torch
    >>> from sklearn_fairloss.losses import AdaptiveLDRKLLoss
    >>> logits, y = torch.tensor([[0.0, 0.0]]), torch.tensor([0])
    >>> round(float(AdaptiveLDRKLLoss(margin=0.0)(logits, y)), 4)  # uniform q: lam_i = lam
    0.0
    """

    _parameter_constraints = {**LDRKLLoss._parameter_constraints,
                              "alpha": [Real(1.0, low_open=True)]}

    def __init__(self, margin=1.0, lam=1.0, alpha=2.0):
        super().__init__(margin=margin, lam=lam)
        self.alpha = alpha

    def _gaps_and_lambdas(self, logits, y):
        """The margin gaps ``(n, K)`` and the per-row strengths ``lam_i``, shape ``(n,)``."""
        self._ensure_validated()
        gaps = _margin_gaps(logits, y, float(self.margin))
        return gaps, _adaptive_lambdas(gaps, float(self.lam), float(self.alpha))

    def row_lambdas(self, logits, y):
        """The per-row strengths ``lam_i`` (detached), shape ``(n,)``."""
        with torch.no_grad():
            return self._gaps_and_lambdas(logits, y)[1]

    def per_sample_loss(self, logits, y):
        gaps, lam_i = self._gaps_and_lambdas(logits, y)
        lam, alpha = float(self.lam), float(self.alpha)
        penalty = alpha * math.log(logits.shape[1]) / (2.0 * lam) * (lam_i - lam) ** 2
        return _ldr_kl(gaps, lam_i) - penalty
