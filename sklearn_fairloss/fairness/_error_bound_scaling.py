"""FairSeg's fair error-bound scaling (FEBS): the paper's group-scaled Dice term, and the
package's per-row reweighting adaptation kept under its own name."""

import math

import torch

from .._param_validation import Real
from .._torch_utils import one_hot
from ._base import (
    GroupScalingBase,
    PenaltyBase,
    _batch_cells,
    _batch_probabilities,
    _group_means,
    _normalise,
)
from ._docstrings import fill_doc

__all__ = ["ErrorBoundReweighting", "FairErrorBoundScaling"]

_FAIRSEG_SMOOTH = 1e-5


def _dice_losses(probs, targets, weights):
    """FairSeg's (V-Net) Dice loss of each class column, summed over the classes:
    ``sum_c 1 - (2 sum w p t + s) / (sum w p^2 + sum w t^2 + s)`` with ``s = 1e-5``."""
    w = weights[:, None]
    intersect = (w * probs * targets).sum(0)
    denominator = (w * probs * probs).sum(0) + (w * targets * targets).sum(0)
    return (1.0 - (2.0 * intersect + _FAIRSEG_SMOOTH) / (denominator + _FAIRSEG_SMOOTH)).sum()


@fill_doc
class FairErrorBoundScaling(PenaltyBase):
    """Fair error-bound scaling (FEBS), as in the FairSeg paper and code.

    Tian, Shi, Luo, Kouhana, Elze & Wang (2024, "FairSeg: A Large-Scale Medical Image
    Segmentation Dataset for Fairness Learning Using Segment Anything Model with Fair
    Error-Bound Scaling", ICLR; arXiv:2311.02189; ``febs_loss`` in the authors'
    ``TransUNet/utils.py``) train with cross-entropy *plus* a Dice loss in which the
    predicted probabilities of each identity group are scaled by a bounded factor:

    - the error bound of group ``g`` is its Dice loss ``E_g = sum_c dice(p_c, t_c)`` over the
      group's rows of the batch (detached), with FairSeg's Dice
      ``dice(p, t) = 1 - (2 sum p t + s) / (sum p^2 + sum t^2 + s)``, ``s = 1e-5``, over
      every class column (class 0 included);
    - ``omega_g = tanh((min_h E_h / E_g) ** gamma)``, in ``(0, tanh 1]``: the best group gets
      ``tanh 1 = 0.76``, worse groups less;
    - the term is ``sum_c dice(omega_g(i) * p_ic, t_ic) / n_classes`` over the whole batch.

    Shrinking a group's probabilities lowers its overlap with the targets, so the worse
    groups' rows carry a larger Dice loss and a larger gradient. The estimator adds the term
    to the data loss: ``loss + fairness_strength * febs``; the authors' TransUNet trainer
    uses ``0.5 * CE + 0.5 * febs`` (``fairness_strength=1``), their SAMed trainer
    ``0.2 * CE + 0.8 * febs`` (``fairness_strength=4``). Sample weights weight the sums
    (weight 2 equals duplicating a row). Groups are the cells of the combination of all
    attributes present in the batch; the minimum runs over the groups present (the authors'
    code takes it over all groups, which zeroes every factor when a group is missing from
    a batch). This is a loss term, not a disparity: it is not zero when the predictions do
    not depend on the groups.

    Scaling the probabilities *inside cross-entropy* would change nothing
    (``-log(omega p) = -log p - log omega``), which is why the paper's factor acts through
    the Dice loss; :class:`ErrorBoundReweighting` is the package's earlier adaptation, an
    unbounded per-row weight on any per-row loss.

    Parameters
    ----------
    gamma : float, default=1.0
        Exponent of the error-bound ratio (``gamma >= 0``; the authors' SAMed default is 1):
        0 gives every group the same factor ``tanh 1``; larger values shrink the worse
        groups' probabilities more.
    {warmup}

    See Also
    --------
    ErrorBoundReweighting, WorstGroupLoss, FairIdentityScaling

    References
    ----------
    Tian, Y., Shi, M., Luo, Y., Kouhana, A., Elze, T. and Wang, M. (2024). FairSeg: a
    large-scale medical image segmentation dataset for fairness learning using Segment
    Anything Model with fair error-bound scaling. ICLR. arXiv:2311.02189. Code:
    https://github.com/Harvard-Ophthalmology-AI-Lab/FairSeg

    Examples
    --------
    >>> import torch
    >>> from sklearn_fairloss.fairness import FairErrorBoundScaling
    >>> logits = torch.tensor([[2.0, -2.0], [-2.0, 2.0], [0.0, 0.0], [0.0, 0.0]])
    >>> y = torch.tensor([0, 1, 0, 1])
    >>> group = torch.tensor([0, 0, 1, 1])
    >>> round(float(FairErrorBoundScaling()(logits, y, group)), 4)
    0.4152
    """

    _parameter_constraints = {**PenaltyBase._parameter_constraints, "gamma": [Real(0.0)]}

    def __init__(self, gamma=1.0, warmup=0):
        super().__init__(warmup=warmup)
        self.gamma = gamma

    def group_factors(self, logits, y, sensitive, sample_weight=None):
        """The factor ``omega`` of each row's group, shape ``(n,)`` (detached).

        Returns
        -------
        torch.Tensor of shape (n,)
        """
        self._ensure_validated()
        sensitive, probs, weights = _batch_probabilities(logits, sensitive, sample_weight)
        targets = one_hot(y.to(logits.device), probs.shape[1], probs.dtype)
        return self._factors(probs.detach(), targets, weights, _batch_cells(sensitive))

    def _factors(self, probs, targets, weights, cells):
        n_cells = int(cells.max()) + 1
        bounds = torch.zeros(n_cells, dtype=probs.dtype, device=probs.device)
        present = torch.zeros(n_cells, dtype=torch.bool, device=probs.device)
        for g in range(n_cells):
            rows = (cells == g) & (weights > 0)
            if bool(rows.any()):
                present[g] = True
                bounds[g] = _dice_losses(probs[rows], targets[rows], weights[rows])
        best = bounds[present].min()
        ratio = torch.where(bounds > 0, best / bounds.clamp_min(torch.finfo(probs.dtype).tiny),
                            torch.ones_like(bounds))
        return torch.tanh(ratio ** float(self.gamma))[cells]

    def forward(self, logits, y, sensitive, sample_weight=None, sensitive_values=None):
        """The FEBS Dice term ``sum_c dice(omega * p_c, t_c) / n_classes`` (a scalar)."""
        self._ensure_validated()
        sensitive, probs, weights = _batch_probabilities(logits, sensitive, sample_weight)
        if probs.shape[0] == 0 or not bool(weights.sum() > 0):
            return logits.sum() * 0.0
        targets = one_hot(y.to(logits.device), probs.shape[1], probs.dtype)
        omega = self._factors(probs.detach(), targets, weights, _batch_cells(sensitive))
        value = _dice_losses(omega[:, None] * probs, targets, weights) / probs.shape[1]
        return value.to(logits.dtype)


@fill_doc
class ErrorBoundReweighting(GroupScalingBase):
    """Error-bound reweighting: the package's per-row adaptation of FairSeg's FEBS.

    Tian, Shi, Luo, Kouhana, Elze & Wang (2024, "FairSeg: A Large-Scale Medical Image
    Segmentation Dataset for Fairness Learning Using Segment Anything Model with Fair
    Error-Bound Scaling", ICLR; arXiv:2311.02189) scale each identity group's training loss
    by the group's error bound, so that groups the model serves worse weigh more. In each
    batch the error bound of group ``g`` is its weighted mean data loss ``E_g`` (for
    cross-entropy, ``E_g / log 2`` bounds the group's 0-1 error from above), and FairSeg's
    factor is ``omega_g = tanh((min_h E_h / E_g) ** gamma)``, in ``(0, tanh 1]``.

    FairSeg multiplies a group's predicted mask probabilities by ``omega_g`` inside its Dice
    loss (that is :class:`FairErrorBoundScaling`), which *raises* the Dice loss of the
    groups with ``omega_g < 1`` (the worse ones). This class is *not* the paper's method but
    the package's adaptation to any per-row loss, where the factor is used as a divisor: a
    row of group ``g`` gets the unbounded multiplier ``tanh(1) / omega_g`` (1 for the best group,
    about ``tanh(1) * (E_g / min E) ** gamma`` for a much worse one), normalised so that
    ``sum(w * s) == sum(w)``. Groups are the cells of the combination of all attributes; the
    error bounds are detached and computed afresh on every batch (no state).

    Parameters
    ----------
    gamma : float, default=1.0
        Exponent of the error-bound ratio (``gamma >= 0``): 0 gives every group the same
        weight (ERM); larger values emphasise the worse groups more.
    {warmup}

    See Also
    --------
    FairErrorBoundScaling, WorstGroupLoss, FairIdentityScaling

    References
    ----------
    Tian, Y., Shi, M., Luo, Y., Kouhana, A., Elze, T. and Wang, M. (2024). FairSeg: a
    large-scale medical image segmentation dataset for fairness learning using Segment
    Anything Model with fair error-bound scaling. ICLR. arXiv:2311.02189.

    Examples
    --------
    >>> import torch
    >>> from sklearn_fairloss.fairness import ErrorBoundReweighting
    >>> febs = ErrorBoundReweighting()
    >>> loss = torch.tensor([0.5, 0.5, 1.0, 1.0])
    >>> group = torch.tensor([[0], [0], [1], [1]])
    >>> y = torch.tensor([0, 1, 0, 1])
    >>> febs.row_weights(loss, y, group)  # tanh(1) / tanh(0.5) = 1.648 times more for group 1
    tensor([0.7553, 0.7553, 1.2447, 1.2447])
    >>> round(float(febs(loss, y, group)), 4)
    0.8112
    """

    _parameter_constraints = {**GroupScalingBase._parameter_constraints, "gamma": [Real(0.0)]}

    def __init__(self, gamma=1.0, warmup=0):
        super().__init__(warmup=warmup)
        self.gamma = gamma

    def _multipliers(self, loss, cells, weights):
        """Multipliers ``tanh(1) / tanh((min E / E_g) ** gamma)`` (detached, normalised)."""
        gamma = float(self.gamma)
        bounds, present = _group_means(loss, weights, cells)
        if not bool(present.any()):
            return torch.ones_like(loss)
        eps = torch.finfo(loss.dtype).eps
        bounds = bounds.clamp_min(eps)
        best = bounds[present].min()
        ratio = (best / bounds).clamp(max=1.0)
        factor = math.tanh(1.0) / torch.tanh(ratio**gamma).clamp_min(eps)
        return _normalise(factor[cells], weights)
