"""EnsLoss: a random convex, calibrated loss per training batch (Dai, 2024)."""

import torch
import torch.nn.functional as F

from .._param_validation import Real
from .._torch_utils import one_hot
from ._base import LossBase
from ._utils import one_vs_rest_log_odds

__all__ = ["EnsLoss"]

# Derivatives are shifted by this amount so that they are strictly negative (calibration).
_SHIFT = 1e-6


def ovr_margins(logits, y):
    """Functional margins ``s = t * m`` of the binary problems EnsLoss trains.

    Binary (two columns): one column, ``s = (2y - 1) * (z_1 - z_0)``.
    Multiclass: one column per class ``k`` (one-vs-rest), with the log-odds of class ``k``
    under the softmax, ``m_k = z_k - logsumexp_{j != k} z_j = log(p_k / (1 - p_k))``, and
    ``t = +1`` on rows of class ``k``, ``-1`` elsewhere.

    Returns
    -------
    torch.Tensor of shape (n, 1) or (n, n_classes)
    """
    n_classes = logits.shape[1]
    log_odds = one_vs_rest_log_odds(logits)
    if n_classes == 2:
        sign = 2.0 * y.to(logits.dtype) - 1.0
        return (sign * log_odds[:, 1])[:, None]
    sign = 2.0 * one_hot(y, n_classes, logits.dtype) - 1.0
    return sign * log_odds


class EnsLoss(LossBase):
    r"""EnsLoss: stochastic calibrated loss ensembles, one random loss per batch.

    Each training batch draws a new random surrogate loss ``psi`` through its derivatives at
    the batch's functional margins ``s_i = t_i f(x_i)`` and takes a gradient step on it, so
    that SGD ensembles many losses, all *convex* and *classification-calibrated* (CC). A
    convex margin loss is calibrated iff ``psi'(0) < 0`` (Bartlett, Jordan and McAuliffe
    2006), so the derivatives are drawn so that

    1. they are negative: ``psi'(s_i) < 0`` for every row (calibration);
    2. they are non-decreasing in the margin: ``s_i <= s_j  =>  psi'(s_i) <= psi'(s_j)``
       (convexity).

    Sampling, following the authors' code (``statmlben/ensLoss``, ``losses.py``): draw
    ``n`` values ``-BC^{-1}(Z)``, ``Z ~ N(0, 1)``, with ``BC^{-1}`` the inverse Box-Cox
    transform of parameter ``box_cox_lambda`` (``exp`` for ``0``: log-normal magnitudes),
    clip them to ``[-1, 0]``, sort them and give the most negative to the smallest margin;
    on margins ``s > 1`` divide by ``s`` (a decaying tail, as the logistic loss has); finally
    subtract ``1e-6`` so that every derivative is strictly negative. The draws use torch's
    global random number generator, which :class:`~sklearn_fairloss.FairLossClassifier`
    seeds from its ``random_state``.

    **What** ``forward`` **returns.** In training mode (``loss.training``, which skorch
    switches with the module), the first-order surrogate
    ``sum_i w_i sum_c g_ic s_ic / sum_i w_i`` with the sampled derivatives ``g`` detached: its
    gradient with respect to each margin is exactly the sampled derivative, as in the
    authors' code (``loss = g_batch * s_batch``). Its *value* is not a loss level (it is
    negative and random); do not monitor it. In evaluation mode (validation batches) it
    returns the logistic loss ``log(1 + exp(-s))`` of the same margins, a fixed convex
    calibrated loss, so that validation losses and early stopping are meaningful.

    **Multiclass.** The paper is binary. With ``n_classes > 2`` the loss is one-vs-rest on
    the softmax log-odds ``m_k = log(p_k / (1 - p_k))``: one binary problem per class with
    margins ``t_ik m_ik``, each with its own random derivatives, summed over classes. With
    two classes this is exactly the binary loss on ``z_1 - z_0`` (the logistic loss in
    evaluation mode is then cross-entropy).

    From Dai, Ben (2024), "EnsLoss: Stochastic Calibrated Loss Ensembles for Preventing
    Overfitting in Classification", arXiv:2409.00908.

    Parameters
    ----------
    box_cox_lambda : float, default=0.0
        Parameter (``>= 0``) of the inverse Box-Cox transform of the Gaussian draws; ``0``
        (the authors' choice) gives log-normal derivative magnitudes.

    Examples
    --------
    >>> import torch
    >>> from sklearn_fairloss.losses import EnsLoss
    >>> loss = EnsLoss()
    >>> logits = torch.tensor([[0.0, 2.0], [1.0, 0.0], [0.0, 0.5]])
    >>> y = torch.tensor([1, 1, 0])
    >>> _ = torch.manual_seed(0)
    >>> g = loss.sample_derivatives(loss.margins(logits, y))
    >>> bool((g < 0).all())
    True
    >>> _ = loss.eval()  # validation: the logistic loss (binary: cross-entropy)
    >>> round(float(loss(logits, y)), 4)
    0.8048
    """

    _parameter_constraints = {"box_cox_lambda": [Real(0.0)]}

    def __init__(self, box_cox_lambda=0.0):
        super().__init__()
        self.box_cox_lambda = box_cox_lambda

    @staticmethod
    def margins(logits, y):
        """Functional margins, shape ``(n, 1)`` (binary) or ``(n, n_classes)``."""
        return ovr_margins(logits, y)

    def _inverse_box_cox(self, z):
        self._ensure_validated()
        lam = float(self.box_cox_lambda)
        if lam == 0.0:
            return torch.exp(z)
        return (1.0 + lam * z).clamp_min(0.0) ** (1.0 / lam)

    def sample_derivatives(self, margins):
        """Draw random loss derivatives at ``margins`` (detached), one column at a time.

        Parameters
        ----------
        margins : torch.Tensor of shape (n, m)
            Functional margins (see :meth:`margins`).

        Returns
        -------
        torch.Tensor of shape (n, m)
            Strictly negative, non-decreasing in the margin within each column.
        """
        with torch.no_grad():
            margins = margins.detach()
            draws = -self._inverse_box_cox(
                torch.randn(margins.shape, dtype=margins.dtype, device=margins.device)
            )
            draws = draws.clamp_min(-1.0).sort(dim=0).values  # most negative first
            order = margins.argsort(dim=0)
            derivatives = torch.empty_like(draws).scatter_(0, order, draws)
            tail = margins > 1.0
            derivatives = torch.where(tail, derivatives / margins.clamp_min(1.0), derivatives)
            return derivatives - _SHIFT

    def per_sample_loss(self, logits, y):
        self._ensure_validated()
        margins = self.margins(logits, y)
        if not self.training:
            return F.softplus(-margins).sum(dim=1)
        derivatives = self.sample_derivatives(margins)
        return (derivatives * margins).sum(dim=1)
