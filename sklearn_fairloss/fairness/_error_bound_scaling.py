"""FairSeg's fair error-bound scaling: reweight each group's loss by its error bound."""

import math

import torch

from .._param_validation import Real
from ._base import GroupScalingBase, _group_means, _normalise
from ._docstrings import fill_doc

__all__ = ["FairErrorBoundScaling"]


@fill_doc
class FairErrorBoundScaling(GroupScalingBase):
    """Fair error-bound scaling (FEBS): groups with a higher loss get a larger weight.

    Tian, Shi, Luo, Kouhana, Elze & Wang (2024, "FairSeg: A Large-Scale Medical Image
    Segmentation Dataset for Fairness Learning Using Segment Anything Model with Fair
    Error-Bound Scaling", ICLR; arXiv:2311.02189) scale each identity group's training loss
    by the group's error bound, so that groups the model serves worse weigh more. In each
    batch the error bound of group ``g`` is its weighted mean data loss ``E_g`` (for
    cross-entropy, ``E_g / log 2`` bounds the group's 0-1 error from above), and FairSeg's
    factor is ``omega_g = tanh((min_h E_h / E_g) ** gamma)``, in ``(0, tanh 1]``.

    FairSeg multiplies a group's predicted mask probabilities by ``omega_g`` inside its Dice
    loss, which *raises* the Dice loss of the groups with ``omega_g < 1`` (the worse ones).
    A per-row classification loss has no such place, so the factor is used as a divisor: a
    row of group ``g`` gets the multiplier ``tanh(1) / omega_g`` (1 for the best group,
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
    WorstGroupLoss, FairIdentityScaling

    Examples
    --------
    >>> import torch
    >>> from sklearn_fairloss.fairness import FairErrorBoundScaling
    >>> febs = FairErrorBoundScaling()
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
