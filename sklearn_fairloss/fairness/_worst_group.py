"""Worst-group loss: online group distributionally robust optimisation (group DRO)."""

import math

import torch

from .._param_validation import Real
from .._torch_utils import row_weights
from ._base import GroupScalingBase, _group_means, _sensitive_2d
from ._docstrings import fill_doc

__all__ = ["WorstGroupLoss"]


@fill_doc
class WorstGroupLoss(GroupScalingBase):
    """Minimise the loss of the worst-performing group (online group DRO).

    The online algorithm of Sagawa, Koh, Hashimoto & Liang (2020, "Distributionally Robust
    Neural Networks for Group Shifts: On the Importance of Regularization for Worst-Case
    Generalization", ICLR, Algorithm 1, and the authors' ``LossComputer`` in
    ``kohpangwei/group_DRO/loss.py``) keeps a distribution ``q`` over the groups and, at
    each training batch, takes an exponentiated-gradient step towards the groups with the
    highest *adjusted* loss, then minimises the ``q``-weighted group losses::

        A_g = L_g + C / sqrt(n_g)                  (every group; L_g = 0 if not in the batch)
        q_g <- q_g * exp(step_size * A_g);  q <- q / sum(q)
        loss = sum_g q_g L_g

    where ``L_g`` is the weighted mean data loss of group ``g`` in the batch, ``n_g`` the
    number of training rows of group ``g`` and ``C`` the ``adjustment`` (the paper's
    generalisation adjustment, Section 5: small groups overfit, so their training loss
    understates their test loss; the authors' ``--generalization_adjustment``). As in the
    authors' code the step runs over all groups (a group absent from the batch moves only by
    its adjustment) and the loss is not renormalised over the groups present in the batch.
    Over training, ``q`` concentrates on the groups whose (adjusted) loss stays highest, so
    the model minimises the worst group's loss rather than the average. Junias, Kini &
    Chaspari (2025, "Assessing Algorithmic Bias in Language-Based Depression Detection: A
    Comparison of DNN and LLM Approaches", arXiv:2509.25795) found this worst-group loss
    gave the best balance of performance and fairness among the fairness-aware losses they
    compared.

    Groups are the cells of the combination of all protected attributes (with one attribute,
    its groups). As row multipliers (see :mod:`sklearn_fairloss.fairness._base`): a row of
    group ``g`` gets ``q_g / p_g``, with ``p_g`` the group's share of the batch's weight,
    normalised so that ``sum(w * s) == sum(w)``; :meth:`forward` then multiplies the
    reweighted mean by ``(sum_{g in batch} q_g) ** strength``, which gives ``sum_g q_g L_g``
    at ``strength=1``.

    Parameters
    ----------
    step_size : float, default=0.01
        Step size ``eta`` of the exponentiated-gradient update of the group weights, the
        default of the authors' code. Larger values move ``q`` faster towards the worst group
        (``eta -> inf`` gives the hard max); 0 keeps ``q`` uniform, i.e. every group weighted
        equally regardless of its size.
    adjustment : float, default=0.0
        The generalisation adjustment ``C >= 0`` (the authors' default is 0, i.e. none; the
        paper tunes ``C`` in ``{0, 1, 2, 3, 4, 5}`` on validation data). It needs the
        training group sizes, which the estimator passes to :meth:`set_group_counts`;
        standalone use with ``C > 0`` must call it first.
    {warmup}

    Attributes
    ----------
    group_weights_ : torch.Tensor of shape (n_cells,)
        The group distribution ``q`` (a registered buffer), created by :meth:`set_groups`
        with ``n_cells = prod(n_groups)``, uniform at the start. Cell of a row:
        ``sum_j code_j * prod_{l<j} n_groups_l``.
    group_counts_ : torch.Tensor of shape (n_cells,)
        Training rows per cell (a registered buffer), set by :meth:`set_group_counts`.

    References
    ----------
    Sagawa, S., Koh, P. W., Hashimoto, T. B. and Liang, P. (2020). Distributionally robust
    neural networks for group shifts: on the importance of regularization for worst-case
    generalization. ICLR. Code: https://github.com/kohpangwei/group_DRO

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

    With the generalisation adjustment, the smaller group gains weight sooner:

    >>> dro = WorstGroupLoss(step_size=1.0, adjustment=1.0).set_groups([2])
    >>> dro = dro.set_group_counts(torch.tensor([[0]] * 100 + [[1]] * 4))
    >>> _ = dro.update(torch.tensor([0.5, 0.5]), torch.tensor([0, 1]), torch.tensor([0, 1]))
    >>> dro.group_weights_  # exp(0.5 + 1/10) : exp(0.5 + 1/2)
    tensor([0.4013, 0.5987])
    """

    _parameter_constraints = {**GroupScalingBase._parameter_constraints,
                              "step_size": [Real(0.0)], "adjustment": [Real(0.0)]}

    def __init__(self, step_size=0.01, adjustment=0.0, warmup=0):
        super().__init__(warmup=warmup)
        self.step_size = step_size
        self.adjustment = adjustment

    def set_groups(self, n_groups, numeric=None):
        super().set_groups(n_groups, numeric)
        n_cells = math.prod(self.n_groups_)
        self.register_buffer("group_weights_", torch.full((n_cells,), 1.0 / n_cells))
        return self

    def set_group_counts(self, sensitive):
        """Count the training rows of each cell (for the generalisation adjustment).

        Parameters
        ----------
        sensitive : array-like of shape (n, k)
            Group codes of the training rows (one column per attribute).

        Returns
        -------
        self
        """
        cells = self._cells(torch.as_tensor(sensitive))
        counts = torch.bincount(cells, minlength=self.group_weights_.shape[0])
        self.register_buffer("group_counts_", counts.to(torch.float64))
        return self

    def _adjustments(self, like):
        """``C / sqrt(n_g)`` per cell (0 for cells without training rows)."""
        c = float(self.adjustment)
        if c == 0:
            return torch.zeros_like(like)
        counts = getattr(self, "group_counts_", None)
        if counts is None:
            raise ValueError("adjustment > 0 needs the training group sizes: call "
                             "set_group_counts with the training rows' group codes first.")
        counts = counts.to(like.device, like.dtype)
        return torch.where(counts > 0, c / counts.clamp_min(1.0).sqrt(), torch.zeros_like(like))

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
        adjusted = torch.where(present, means, torch.zeros_like(means))
        adjusted = adjusted + self._adjustments(adjusted)
        logits = torch.log(q.to(loss.device, loss.dtype)) + float(self.step_size) * adjusted
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

    def forward(self, per_row_loss, y, sensitive, sample_weight=None, strength=1.0):
        """``sum_g q_g L_g`` at ``strength=1`` (not renormalised over the groups present).

        The reweighted mean of :meth:`GroupScalingBase.forward` times
        ``(sum_{g in batch} q_g) ** strength`` (see the class docstring).
        """
        mean = super().forward(per_row_loss, y, sensitive, sample_weight, strength=strength)
        if per_row_loss.numel() == 0:
            return mean
        weights = row_weights(sample_weight, per_row_loss).detach()
        cells = self._cells(sensitive).to(per_row_loss.device)
        mass = torch.zeros_like(self.group_weights_, dtype=weights.dtype).index_add_(
            0, cells, weights)
        q = self.group_weights_.to(weights.device, weights.dtype)
        present_q = float(torch.where(mass > 0, q, torch.zeros_like(q)).sum())
        if not present_q > 0:
            return mean
        return mean * present_q ** float(strength)
