"""Worst-group loss: online group distributionally robust optimisation (group DRO)."""

import math

import torch

from .._param_validation import Real
from ._base import GroupScalingBase, _group_means, _sensitive_2d
from ._docstrings import fill_doc

__all__ = ["WorstGroupLoss"]


@fill_doc
class WorstGroupLoss(GroupScalingBase):
    """Minimise the loss of the worst-performing group (online group DRO).

    The online algorithm of Sagawa, Koh, Hashimoto & Liang (2020, "Distributionally Robust
    Neural Networks for Group Shifts: On the Importance of Regularization for Worst-Case
    Generalization", ICLR, Algorithm 1) keeps a distribution ``q`` over the groups and, at
    each training batch, takes an exponentiated-gradient step towards the groups with the
    highest loss, then minimises the ``q``-weighted group losses::

        q_g <- q_g * exp(step_size * L_g)   for the groups g in the batch;  q <- q / sum(q)
        loss = sum_g q_g L_g / sum_{g in batch} q_g

    where ``L_g`` is the weighted mean data loss of group ``g`` in the batch. Over training,
    ``q`` concentrates on the groups whose loss stays highest, so the model minimises the
    worst group's loss rather than the average. Junias, Kini & Chaspari (2025, "Assessing
    Algorithmic Bias in Language-Based Depression Detection: A Comparison of DNN and LLM
    Approaches", arXiv:2509.25795) found this worst-group loss gave the best balance of
    performance and fairness among the fairness-aware losses they compared.

    Groups are the cells of the combination of all protected attributes (with one attribute,
    its groups). As row multipliers (see :mod:`sklearn_fairloss.fairness._base`): a row of
    group ``g`` gets ``q_g / p_g``, with ``p_g`` the group's share of the batch's weight,
    normalised so that ``sum(w * s) == sum(w)``.

    Parameters
    ----------
    step_size : float, default=0.01
        Step size ``eta`` of the exponentiated-gradient update of the group weights, the
        default of the authors' code. Larger values move ``q`` faster towards the worst group
        (``eta -> inf`` gives the hard max); 0 keeps ``q`` uniform, i.e. every group weighted
        equally regardless of its size.
    {warmup}

    Attributes
    ----------
    group_weights_ : torch.Tensor of shape (n_cells,)
        The group distribution ``q`` (a registered buffer), created by :meth:`set_groups`
        with ``n_cells = prod(n_groups)``, uniform at the start. Cell of a row:
        ``sum_j code_j * prod_{l<j} n_groups_l``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_fairloss.fairness import WorstGroupLoss
    >>> dro = WorstGroupLoss(step_size=1.0).set_groups([2])
    >>> loss = torch.tensor([0.1, 0.1, 1.0, 1.0])
    >>> group = torch.tensor([[0], [0], [1], [1]])
    >>> y = torch.tensor([0, 1, 0, 1])
    >>> _ = dro.update(loss, y, group)
    >>> dro.group_weights_
    tensor([0.2891, 0.7109])
    >>> round(float(dro(loss, y, group)), 3)  # 0.2891 * 0.1 + 0.7109 * 1.0
    0.74
    """

    _parameter_constraints = {**GroupScalingBase._parameter_constraints,
                              "step_size": [Real(0.0)]}

    def __init__(self, step_size=0.01, warmup=0):
        super().__init__(warmup=warmup)
        self.step_size = step_size

    def set_groups(self, n_groups, numeric=None):
        super().set_groups(n_groups, numeric)
        n_cells = math.prod(self.n_groups_)
        self.register_buffer("group_weights_", torch.full((n_cells,), 1.0 / n_cells))
        return self

    def _cells(self, sensitive):
        """Global cell of each row, ``sum_j code_j * prod_{l<j} n_groups_l``."""
        sensitive = _sensitive_2d(sensitive)
        if getattr(self, "n_groups_", None) is None:
            # Standalone use: infer the groups from this batch.
            self.set_groups((sensitive.max(dim=0).values + 1).tolist())
        if sensitive.shape[1] != len(self.n_groups_):
            raise ValueError(
                f"sensitive has {sensitive.shape[1]} attributes but set_groups was given "
                f"{len(self.n_groups_)}."
            )
        sizes = torch.tensor(self.n_groups_, device=sensitive.device)
        if sensitive.numel() and bool(((sensitive < 0) | (sensitive >= sizes)).any()):
            raise ValueError(
                f"sensitive holds group codes outside 0 .. n_groups - 1 for n_groups="
                f"{self.n_groups_}; call set_groups with the number of groups of each attribute."
            )
        strides = torch.cumprod(torch.cat([sizes.new_ones(1), sizes[:-1]]), dim=0)
        return (sensitive * strides).sum(dim=1)

    def update(self, per_row_loss, y, sensitive, sample_weight=None):
        """Exponentiated-gradient step of the group weights on a training batch.

        Parameters
        ----------
        per_row_loss : torch.Tensor of shape (n,)
            Per-row data losses (detached or not; only their values are used).
        y : torch.Tensor of shape (n,)
            Class codes (unused).
        sensitive : torch.Tensor of shape (n, k)
            Group codes.
        sample_weight : torch.Tensor of shape (n,) or None
            Row weights of the group means.

        Returns
        -------
        self
        """
        self._ensure_validated()
        if per_row_loss.numel() == 0:
            return self
        loss, cells, weights = self._detached_batch(per_row_loss, sensitive, sample_weight)
        q = self.group_weights_
        means, present = _group_means(loss, weights, cells, q.shape[0])
        logits = torch.log(q.to(loss.device, loss.dtype)) + float(self.step_size) * torch.where(
            present, means, torch.zeros_like(means)
        )
        q_new = torch.softmax(logits, dim=0)
        with torch.no_grad():
            self.group_weights_.copy_(q_new.to(self.group_weights_.dtype))
        return self

    def _multipliers(self, loss, cells, weights):
        """Multipliers ``q_g / p_g`` of each row's group (detached, ``sum(w s) = sum(w)``)."""
        q = self.group_weights_.to(loss.device, loss.dtype)
        onehot_mass = torch.zeros_like(q).index_add_(0, cells, weights)
        total = weights.sum()
        present = onehot_mass > 0
        if not bool(total > 0):
            return torch.ones_like(loss)
        q_present = torch.where(present, q, torch.zeros_like(q))
        if not bool(q_present.sum() > 0):  # every present group's weight underflowed
            q_present = present.to(q.dtype)
        # s_g = q_g / (p_g * sum_{present} q), p_g = W_g / W.
        per_cell = q_present * total / (
            onehot_mass.clamp_min(torch.finfo(loss.dtype).tiny) * q_present.sum()
        )
        return per_cell[cells]
