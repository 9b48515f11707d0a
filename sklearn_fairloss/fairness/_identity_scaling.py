"""Fair identity scaling (FIS): group plus individual scaling of the per-row losses."""

import torch

from .._param_validation import Options, Real
from ._base import GroupScalingBase, _group_means, _group_one_hot
from ._docstrings import fill_doc

__all__ = ["FairIdentityScaling"]


def _weighted_softmax(scores, weights):
    """``exp(scores) / sum(pi exp(scores))`` with ``pi = w / sum(w)``: averages 1 under ``pi``."""
    log_pi = torch.log(weights / weights.sum())
    return torch.exp(scores - torch.logsumexp(scores + log_pi, dim=0))


def _wasserstein_to_batch(loss, weights, cells):
    """1-D Wasserstein-1 distance between each group's loss distribution and the batch's.

    ``W1 = integral |F_g(t) - F(t)| dt`` with weighted empirical CDFs, exact in one dimension.
    Returns ``(distances, present)`` of shape ``(G,)``.
    """
    order = torch.argsort(loss)
    sorted_loss = loss[order]
    onehot = _group_one_hot(cells[order], None, loss.dtype)
    w = weights[order]
    group_mass = onehot.T @ w
    present = group_mass > 0
    cdf = torch.cumsum(w, dim=0) / w.sum()
    cdf_g = torch.cumsum(w[:, None] * onehot, dim=0) / group_mass.clamp_min(
        torch.finfo(loss.dtype).tiny
    )
    steps = sorted_loss[1:] - sorted_loss[:-1]
    distances = ((cdf_g[:-1] - cdf[:-1, None]).abs() * steps[:, None]).sum(dim=0)
    return torch.where(present, distances, torch.zeros_like(distances)), present


@fill_doc
class FairIdentityScaling(GroupScalingBase):
    """Fair identity scaling (FIS): a mix of individual and group loss scaling.

    Luo, Khan, Tian, Shi, Dou, Elze, Fang & Wang (2024, "FairVision: Equitable Deep Learning
    for Eye Disease Screening via Fair Identity Scaling", arXiv:2310.02492; first released as
    "Harvard Eye Fairness") reweight each row's loss by a convex combination of an
    *individual* weight, which favours the hard rows, and a *group* weight, which favours the
    identity groups whose losses differ most from the whole batch's::

        s_i = (1 - c) * exp(l_i / T) / Z_ind + c * exp(d_g(i) / T) / Z_grp

    with ``l_i`` the row's data loss, ``d_g`` the group's statistic (below), ``T`` the
    temperature and ``Z`` the normalisers that make each part average 1 under the row weights
    (the authors' softmax over the batch). The multipliers are detached (the authors' code
    lets the gradient through the individual softmax, which pushes the loss of rows below
    ``mean - T`` up; see :mod:`sklearn_fairloss.fairness._base`) and computed afresh on
    every batch. Groups are the cells of the combination of all attributes.

    Parameters
    ----------
    group_coef : float, default=0.5
        ``c`` in ``[0, 1]``: the share of the group scaling (0: individual scaling only, 1:
        group scaling only); 0.5 is the authors' default ``fair_scaling_coef``.
    temperature : float, default=1.0
        ``T > 0`` of both softmaxes (the authors' default); smaller values sharpen the
        weights towards the hardest rows and groups.
    group_statistic : {"wasserstein", "mean"}, default="wasserstein"
        ``d_g``. ``"wasserstein"``: the distance between the distribution of the group's
        losses and that of the batch, as in the paper, computed exactly in one dimension as
        the Wasserstein-1 distance (the authors approximate an optimal-transport distance with
        a Sinkhorn solver from geomloss). ``"mean"``: the group's weighted mean loss, the
        simpler group scaling of the paper's first version, which favours the groups with the
        highest loss only (the distance also favours a group that does much *better* than the
        batch).
    {warmup}

    See Also
    --------
    FairErrorBoundScaling, WorstGroupLoss

    Examples
    --------
    >>> import torch
    >>> from sklearn_fairloss.fairness import FairIdentityScaling
    >>> fis = FairIdentityScaling(group_statistic="mean")
    >>> loss = torch.tensor([0.2, 0.4, 1.0, 1.2])
    >>> group = torch.tensor([[0], [0], [1], [1]])
    >>> y = torch.tensor([0, 1, 0, 1])
    >>> fis.row_weights(loss, y, group)
    tensor([0.5892, 0.6510, 1.3112, 1.4487])
    """

    _parameter_constraints = {
        **GroupScalingBase._parameter_constraints,
        "group_coef": [Real(0.0, 1.0)],
        "temperature": [Real(0.0, low_open=True)],
        "group_statistic": [Options("wasserstein", "mean")],
    }

    def __init__(self, group_coef=0.5, temperature=1.0, group_statistic="wasserstein",
                 warmup=0):
        super().__init__(warmup=warmup)
        self.group_coef = group_coef
        self.temperature = temperature
        self.group_statistic = group_statistic

    def _multipliers(self, loss, cells, weights):
        """Multipliers ``(1 - c) * individual + c * group`` (detached, averaging 1)."""
        coef, temperature = float(self.group_coef), float(self.temperature)
        if not bool(weights.sum() > 0):
            return torch.ones_like(loss)
        individual = _weighted_softmax(loss / temperature, weights)
        if self.group_statistic == "mean":
            statistic, _ = _group_means(loss, weights, cells)
        else:
            statistic, _ = _wasserstein_to_batch(loss, weights, cells)
        group = _weighted_softmax(statistic[cells] / temperature, weights)
        return (1.0 - coef) * individual + coef * group
