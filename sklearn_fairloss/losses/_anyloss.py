"""AnyLoss: confusion-matrix metrics made differentiable (Han et al. 2024)."""

import torch

from .._param_validation import Options, Real
from .._torch_utils import one_hot, row_weights
from ._base import LossBase
from ._utils import safe_ratio

__all__ = ["AnyLoss"]


class AnyLoss(LossBase):
    r"""One minus a confusion-matrix metric computed on an amplified soft confusion matrix.

    Each softmax probability ``p_ik`` is pushed towards 0 or 1 by the paper's approximation
    function ``A(p) = 1 / (1 + exp(-L (p - 0.5)))`` (``L``, the amplifier, is large), and the
    soft confusion matrix of the batch is ``C[j, k] = sum_i w_i [y_i = j] A(p_ik)`` (rows:
    true class, columns: predicted class; binary: ``[[TN, FP], [FN, TP]]``). With
    ``t_j = sum_i w_i [y_i = j]`` the weighted class totals and ``r_j = C[j, j] / t_j`` the
    soft recalls, the metrics are:

    - ``"accuracy"``: ``trace(C) / sum(t)``;
    - ``"f_beta"``: ``(1 + beta^2) C[k, k] / (beta^2 t_k + sum_j C[j, k])``, for class 1 in
      binary problems, averaged over the classes present in the batch otherwise;
    - ``"gmean"``: the product of the recalls of the classes present (the paper's surrogate
      ``TP TN / (n_1 n_0)``, the square of the binary geometric mean; it avoids the square
      root's infinite slope at 0);
    - ``"balanced_accuracy"``: the mean recall of the classes present;
    - ``"mcc"``: Matthews' correlation in its multiclass form (Gorodkin 2004), which is the
      binary MCC for two classes; the loss is ``1 - MCC`` in ``[0, 2]``.

    The loss is ``1 - metric``, computed over the whole batch; all these metrics are ratios,
    so multiplying all weights by a constant changes nothing and weight 2 equals duplicating
    a row. A batch whose weights are all zero gives 0.

    From Han, Moniz and Chawla (2024), "AnyLoss: Transforming Classification Metrics into
    Loss Functions", KDD 2024 (arXiv:2405.14745).

    Parameters
    ----------
    metric : {"f_beta", "accuracy", "gmean", "balanced_accuracy", "mcc"}, default="f_beta"
        The metric turned into a loss.
    beta : float, default=1.0
        The ``beta`` of the F-beta score (``> 0``); 1 gives F1.
    amplifier : float, default=73.0
        The amplifying scale ``L`` (``> 0``) of the approximation function. Larger values make
        ``C`` closer to the hard confusion matrix (thresholds at ``p = 0.5``) but flatten the
        gradient away from ``p = 0.5``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_fairloss.losses import AnyLoss
    >>> logits = torch.tensor([[2.0, -2.0], [-2.0, 2.0], [2.0, -2.0]])
    >>> y = torch.tensor([0, 1, 1])
    >>> AnyLoss(amplifier=1000.0).soft_confusion_matrix(logits, y).round().tolist()
    [[1.0, 0.0], [1.0, 1.0]]
    >>> round(float(AnyLoss(metric="f_beta", amplifier=1000.0)(logits, y)), 4)  # 1 - 2/3
    0.3333
    """

    _parameter_constraints = {
        "metric": [Options("accuracy", "f_beta", "gmean", "balanced_accuracy", "mcc")],
        "beta": [Real(0.0, low_open=True)],
        "amplifier": [Real(0.0, low_open=True)],
    }

    def __init__(self, metric="f_beta", beta=1.0, amplifier=73.0):
        super().__init__()
        self.metric = metric
        self.beta = beta
        self.amplifier = amplifier

    def soft_confusion_matrix(self, logits, y, sample_weight=None):
        """The amplified soft confusion matrix ``C``, shape ``(n_classes, n_classes)``.

        Parameters
        ----------
        logits : torch.Tensor of shape (n, n_classes)
        y : torch.Tensor of shape (n,)
        sample_weight : torch.Tensor of shape (n,) or None

        Returns
        -------
        torch.Tensor
            ``C[j, k] = sum_i w_i [y_i = j] A(softmax(logits)_ik)`` (rows: true class).
        """
        self._ensure_validated()
        soft = torch.sigmoid(float(self.amplifier) * (torch.softmax(logits, dim=1) - 0.5))
        weights = row_weights(sample_weight, logits)
        targets = one_hot(y, logits.shape[1], logits.dtype) * weights[:, None]
        return targets.T @ soft

    def forward(self, logits, y, sample_weight=None):
        self._ensure_validated()
        n, n_classes = logits.shape
        w = row_weights(sample_weight, logits)
        total = w.sum()
        if not bool(total > 0):
            return (logits * 0.0).sum()
        # The metrics are ratios: rescaling the weights to mean 1 changes nothing but keeps
        # the epsilon guarding the denominators small relative to the counts.
        w = w * (n / total)
        conf = self.soft_confusion_matrix(logits, y, w)
        totals = (one_hot(y, n_classes, logits.dtype) * w[:, None]).sum(0)
        present = totals > 0
        diag = conf.diagonal()
        if self.metric == "accuracy":
            value = safe_ratio(diag.sum(), totals.sum())
        elif self.metric in ("balanced_accuracy", "gmean"):
            recall = safe_ratio(diag, totals)[present]
            value = recall.mean() if self.metric == "balanced_accuracy" else recall.prod()
        elif self.metric == "f_beta":
            b2 = float(self.beta) ** 2
            f = safe_ratio((1.0 + b2) * diag, b2 * totals + conf.sum(0))
            value = f[1] if n_classes == 2 else f[present].mean()
        else:  # mcc
            s = totals.sum()
            predicted = conf.sum(0)
            covariance = diag.sum() * s - (predicted * totals).sum()
            variance = (s * s - (predicted * predicted).sum()) * (s * s - (totals * totals).sum())
            eps = torch.finfo(logits.dtype).eps
            value = covariance / variance.clamp_min(eps).sqrt()
        return 1.0 - value
