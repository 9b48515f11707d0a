"""Cross-entropy, the default data loss."""

import torch.nn.functional as F

from .._param_validation import Real
from ._base import LossBase

__all__ = ["CrossEntropyLoss"]


class CrossEntropyLoss(LossBase):
    """Softmax cross-entropy (negative log-likelihood), averaged with the row weights.

    ``loss = sum_i w_i * (-log softmax(z_i)[y_i]) / sum_i w_i``: the log-loss that
    scikit-learn's ``MLPClassifier`` and ``LogisticRegression`` minimise, and the proper
    scoring rule whose minimiser is the true class distribution (Good 1952,
    "Rational Decisions", JRSS B 14).

    Parameters
    ----------
    label_smoothing : float, default=0.0
        Mass in ``[0, 1)`` spread uniformly over the classes in the target
        (Szegedy et al. 2016, "Rethinking the Inception Architecture for Computer Vision").
        ``0`` is plain cross-entropy.

    Examples
    --------
    >>> import torch
    >>> from sklearn_fairloss.losses import CrossEntropyLoss
    >>> loss = CrossEntropyLoss()
    >>> round(float(loss(torch.zeros(2, 2), torch.tensor([0, 1]))), 4)  # log(2)
    0.6931
    """

    _parameter_constraints = {"label_smoothing": [Real(0.0, 1.0, high_open=True)]}

    def __init__(self, label_smoothing=0.0):
        super().__init__()
        self.label_smoothing = label_smoothing

    def per_sample_loss(self, logits, y):
        self._ensure_validated()
        return F.cross_entropy(
            logits, y, reduction="none", label_smoothing=float(self.label_smoothing)
        )
