"""Focal loss with a sample-dependent focusing parameter (FLSD-53, Mukhoti et al. 2020)."""

import torch
import torch.nn.functional as F

from .._param_validation import Real
from ._base import LossBase
from ._utils import focal_nll, true_class_log_prob

__all__ = ["SampleDependentFocalLoss"]


class SampleDependentFocalLoss(LossBase):
    r"""Focal loss whose ``gamma`` depends on each row's true-class probability (FLSD-53).

    ``loss_i = -(1 - p_i) ** gamma_i * log p_i`` with ``p_i = softmax(z_i)[y_i]`` and

    - ``gamma_i = gamma_low`` (5) when ``p_i < threshold`` (0.2),
    - ``gamma_i = gamma_high`` (3) otherwise,

    averaged with the row weights (``sum w * loss / sum w``). ``gamma_i`` is chosen from the
    detached probability (no gradient flows through the choice), as in the authors' code.
    The large ``gamma`` on badly classified rows keeps their gradient close to
    cross-entropy's, while ``gamma = 3`` on the rest acts as the entropy regulariser that
    makes focal-loss training better calibrated than cross-entropy.

    From Mukhoti, Kulharia, Sanyal, Golodetz, Torr and Dokania (2020), "Calibrating Deep
    Neural Networks using Focal Loss", NeurIPS 2020 (arXiv:2002.09437); their code is
    ``torrvision/focal_calibration`` (``FocalLossAdaptive`` with ``gamma=3``).

    Parameters
    ----------
    gamma_low : float, default=5.0
        Focusing parameter (``>= 0``) of rows whose true-class probability is below
        ``threshold``.
    gamma_high : float, default=3.0
        Focusing parameter (``>= 0``) of the other rows.
    threshold : float, default=0.2
        Probability in ``[0, 1]`` at which ``gamma`` switches.

    Notes
    -----
    Focal losses are not proper scoring rules; the paper pairs FLSD-53 with temperature
    scaling on held-out data for the final calibration.

    Examples
    --------
    >>> import torch
    >>> from sklearn_fairloss.losses import SampleDependentFocalLoss
    >>> loss = SampleDependentFocalLoss()
    >>> logits = torch.log(torch.tensor([[0.9, 0.1], [0.9, 0.1]]))
    >>> y = torch.tensor([0, 1])  # p = 0.9 (gamma 3) and p = 0.1 (gamma 5)
    >>> round(float(loss.per_sample_loss(logits, y)[0]), 6)  # 0.1 ** 3 * -log(0.9)
    0.000105
    >>> round(float(loss.per_sample_loss(logits, y)[1]), 4)  # 0.9 ** 5 * -log(0.1)
    1.3597
    """

    _parameter_constraints = {
        "gamma_low": [Real(0.0)],
        "gamma_high": [Real(0.0)],
        "threshold": [Real(0.0, 1.0)],
    }

    def __init__(self, gamma_low=5.0, gamma_high=3.0, threshold=0.2):
        super().__init__()
        self.gamma_low = gamma_low
        self.gamma_high = gamma_high
        self.threshold = threshold

    def gammas(self, logits, y):
        """Per-row focusing parameters ``(n,)`` (detached) chosen by the FLSD-53 rule."""
        self._ensure_validated()
        with torch.no_grad():
            p_true = F.softmax(logits, dim=1).gather(1, y[:, None]).squeeze(1)
            low = torch.full_like(p_true, float(self.gamma_low))
            high = torch.full_like(p_true, float(self.gamma_high))
            return torch.where(p_true < float(self.threshold), low, high)

    def per_sample_loss(self, logits, y):
        return focal_nll(true_class_log_prob(logits, y), self.gammas(logits, y))
