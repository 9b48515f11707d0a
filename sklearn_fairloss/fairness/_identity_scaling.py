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


def _half_w2_squared(x, a, y, b):
    """Exact ``W2^2 / 2`` between weighted 1-D samples (weights summing to 1), from the
    quantile functions: ``1/2 int_0^1 (F^-1(u) - G^-1(u))^2 du``."""
    x, ix = torch.sort(x)
    y, iy = torch.sort(y)
    ca, cb = torch.cumsum(a[ix], 0), torch.cumsum(b[iy], 0)
    ca, cb = ca / ca[-1], cb / cb[-1]
    knots = torch.sort(torch.cat([ca, cb]))[0].clamp(0.0, 1.0)
    steps = torch.diff(torch.cat([knots.new_zeros(1), knots]))
    mid = knots - steps / 2  # inside each piece, where both quantile functions are constant
    qx = x[torch.searchsorted(ca, mid).clamp(max=len(x) - 1)]
    qy = y[torch.searchsorted(cb, mid).clamp(max=len(y) - 1)]
    return 0.5 * (steps * (qx - qy) ** 2).sum()


def _geomloss_sinkhorn(x, a, y, b):
    """The authors' ``SamplesLoss("sinkhorn", p=2, blur=0.1)`` (geomloss) on weighted samples."""
    try:
        from geomloss import SamplesLoss
    except ImportError as exc:  # pragma: no cover - exercised without the extra
        raise ImportError("group_statistic='sinkhorn' uses geomloss, the authors' library: "
                          "pip install geomloss (or sklearn-fairloss[fairvision]), or use "
                          "group_statistic='w2', its exact small-blur limit.") from exc
    both = torch.cat([x, y])
    if not float(both.max() - both.min()) > 0:  # identical samples (geomloss needs a spread)
        return both.new_zeros(())
    loss = SamplesLoss(loss="sinkhorn", p=2, blur=0.1)
    return loss(a, x[:, None], b, y[:, None])


def _distances_to_mixture(loss, weights, cells, distance):
    """``distance`` between each group's loss distribution and the group-balanced mixture of
    all groups' (FairVision compares each group's sample losses with the concatenation of
    equally sized per-group samples). Returns ``(distances, present)``."""
    onehot = _group_one_hot(cells, None, loss.dtype)
    mass = onehot.T @ weights
    present = mass > 0
    keep = weights > 0
    loss, cells, weights = loss[keep], cells[keep], weights[keep]
    group_share = weights / mass[cells]  # each group's rows sum to 1
    reference = group_share / float(present.sum())  # equal mass per present group
    distances = torch.zeros_like(mass)
    for g in torch.nonzero(present).flatten().tolist():
        rows = cells == g
        distances[g] = distance(loss[rows], group_share[rows], loss, reference)
    return distances, present


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
    group_statistic : {"w2", "sinkhorn", "wasserstein", "mean"}, default="w2"
        ``d_g``, a distance between the group's losses and the group-balanced mixture of all
        groups' losses (the authors concatenate equally sized per-group samples).
        ``"sinkhorn"``: the authors' statistic, the debiased Sinkhorn divergence of geomloss,
        ``SamplesLoss("sinkhorn", p=2, blur=0.1)`` (cost ``|a - b|^2 / 2``, entropic
        regularisation ``0.01``); needs ``geomloss``. ``"w2"``: its exact small-blur limit,
        ``W2^2 / 2`` computed from the quantile functions (no dependency; within about 10 %
        of geomloss's value at ``blur=0.1`` on loss scales, equal as the blur shrinks). The
        authors draw a separate small batch per group for the distance; here the rows of the
        training batch are used. ``"wasserstein"``: the package's earlier statistic, the
        exact Wasserstein-1 distance between the group's losses and the whole batch's
        (a different scale: ``W1`` rather
        than ``W2^2 / 2``, which changes what ``temperature`` does). ``"mean"``: the group's
        weighted mean loss, the simpler group scaling of the paper's first version, which
        favours the groups with the highest loss only (a distance also favours a group that
        does much *better* than the others).
    {warmup}

    See Also
    --------
    FairErrorBoundScaling, WorstGroupLoss

    References
    ----------
    Luo, Y., Khan, M. O., Tian, Y., Shi, M., Dou, Z., Elze, T., Fang, Y. and Wang, M.
    (2024). FairVision: equitable deep learning for eye disease screening via fair identity
    scaling. arXiv:2310.02492. Code: https://github.com/Harvard-Ophthalmology-AI-Lab/FairVision
    (``Fair_Loss_Scaler`` in ``src/modules.py``).

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
        "group_statistic": [Options("w2", "sinkhorn", "wasserstein", "mean")],
    }

    def __init__(self, group_coef=0.5, temperature=1.0, group_statistic="w2",
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
        elif self.group_statistic == "wasserstein":
            statistic, _ = _wasserstein_to_batch(loss, weights, cells)
        else:
            distance = _half_w2_squared if self.group_statistic == "w2" else _geomloss_sinkhorn
            statistic, _ = _distances_to_mixture(loss, weights, cells, distance)
        group = _weighted_softmax(statistic[cells] / temperature, weights)
        return (1.0 - coef) * individual + coef * group
