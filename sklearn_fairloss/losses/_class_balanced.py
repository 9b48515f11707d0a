"""Class-balanced loss with the effective number of samples (Cui et al. 2019)."""

import torch
import torch.nn.functional as F

from .._param_validation import Options, Real
from ._utils import ClassCountsLossBase, effective_number_weights, focal_nll, true_class_log_prob

__all__ = ["ClassBalancedLoss"]


class ClassBalancedLoss(ClassCountsLossBase):
    r"""Cross-entropy or focal loss re-weighted by the inverse effective number of samples.

    Each row of class ``c`` is weighted by ``(1 - beta) / (1 - beta ** n_c)`` (the inverse
    of the effective number of samples ``E_c = (1 - beta ** n_c) / (1 - beta)``), with the
    class weights normalised to sum to the number of classes:
    ``loss_i = cb_{y_i} * base_loss_i``, averaged with the row weights
    (``sum w * loss / sum w``). ``beta = 0`` gives the unweighted base loss; ``beta -> 1``
    approaches inverse class-frequency weighting.

    The counts ``n_c`` are the (weighted) training class counts, learned by
    :meth:`set_class_counts` (``FairLossClassifier`` calls it in ``fit``; calling the loss
    before raises ``NotFittedError``).

    From Cui, Jia, Lin, Song and Belongie (2019), "Class-Balanced Loss Based on Effective
    Number of Samples", CVPR 2019 (arXiv:1901.05555).

    Parameters
    ----------
    beta : float, default=0.9999
        Hyper-parameter in ``[0, 1]`` of the effective number (the paper's choices range
        from 0.9 to 0.9999).
    base : {"cross_entropy", "focal"}, default="cross_entropy"
        The loss that is re-weighted (the paper's softmax CE and focal variants).
    gamma : float, default=2.0
        Focusing parameter of the focal base loss; ignored for ``"cross_entropy"``.

    Notes
    -----
    Weighting class ``c`` by ``cb_c`` makes the cross-entropy minimiser the class
    distribution tilted by ``cb``: ``q_c ∝ cb_c p_c``. :meth:`log_prior_shift` therefore
    returns ``-log cb`` so that ``predict_proba`` (which adds it to the logits) estimates the
    true class distribution. For the focal base the focal distortion itself is not undone.

    Examples
    --------
    >>> import torch
    >>> from sklearn_fairloss.losses import ClassBalancedLoss
    >>> loss = ClassBalancedLoss(beta=0.9).set_class_counts(torch.tensor([9.0, 1.0]))
    >>> [round(w, 4) for w in loss.class_weights(2).tolist()]  # 1/E_c, summing to 2
    [0.2807, 1.7193]
    >>> round(float(loss(torch.zeros(2, 2), torch.tensor([0, 1]))), 4)
    0.6931
    """

    _parameter_constraints = {
        "beta": [Real(0.0, 1.0)],
        "base": [Options("cross_entropy", "focal")],
        "gamma": [Real(0.0)],
    }

    def __init__(self, beta=0.9999, base="cross_entropy", gamma=2.0):
        super().__init__()
        self.beta = beta
        self.base = base
        self.gamma = gamma

    def class_weights(self, n_classes, like=None):
        """The normalised class weights ``cb``, shape ``(n_classes,)``.

        Parameters
        ----------
        n_classes : int
        like : torch.Tensor, optional
            A tensor whose dtype and device the weights take (default float64 on the CPU).

        Returns
        -------
        torch.Tensor
        """
        self._ensure_validated()
        return effective_number_weights(self._counts(n_classes, like), self.beta)

    def per_sample_loss(self, logits, y):
        weights = self.class_weights(logits.shape[1], logits)
        if self.base == "focal":
            loss = focal_nll(true_class_log_prob(logits, y), float(self.gamma))
        else:
            loss = F.cross_entropy(logits, y, reduction="none")
        return weights[y] * loss

    def log_prior_shift(self, n_classes):
        """``-log cb``: undoes the class re-weighting in ``predict_proba`` (see Notes)."""
        return -torch.log(self.class_weights(n_classes)).detach()
