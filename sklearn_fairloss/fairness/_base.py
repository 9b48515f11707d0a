"""The contract every fairness penalty and group scaling of the package follows.

Fairness objects are small ``torch.nn.Module`` objects that are also scikit-learn style
parameter holders (``get_params``/``set_params``, ``clone``-able, picklable; see
:class:`~sklearn_fairloss._torch_utils.ParamsModule`), like the data losses of
:mod:`sklearn_fairloss.losses`, so that ``GridSearchCV`` can tune ``fairness__aggregate`` on
:class:`~sklearn_fairloss.FairLossClassifier`. Their parameters are declared in
``_parameter_constraints`` and checked once. There are two kinds; each composes itself with
the data loss in :meth:`objective`, so that the training engine needs no knowledge of either:

``total, terms = fairness.objective(loss, logits, y, batch, strength, training)``

with ``batch`` the dict of the batch's extras (``"sensitive"``, ``"sample_weight"``, optionally
``"sensitive_values"``), ``strength`` the current fairness strength and ``terms`` the detached
``"data_loss"`` and ``"fairness_penalty"`` (for a scaling: the scaled loss minus the data loss).

Every fairness object takes ``warmup`` (epochs over which the strength ramps up linearly from
``strength / warmup`` to the full strength) and declares, in :meth:`PenaltyBase.callbacks`,
the skorch callback :class:`~sklearn_fairloss._callbacks.StrengthWarmup` that applies it at the
start of every epoch (setting ``net.criterion_.strength`` and recording the history column
``"fairness_strength"``).

The batch
---------
- ``logits``: float tensor ``(n, n_classes)``, binary included (two columns);
  ``probs = softmax(logits)``.
- ``y``: int64 class codes ``(n,)``.
- ``sensitive``: int64 tensor ``(n, k)`` of group codes, one column per protected attribute,
  codes ``0 .. n_groups_j - 1`` over the whole training set (a batch may miss groups). A 1-D
  tensor is read as one attribute.
- ``sensitive_values``: float tensor ``(n, k)``, the numeric value of each attribute where it
  is numeric (age), its code otherwise. Only :class:`DistanceCovariance` reads it.
- ``sample_weight``: float tensor ``(n,)`` or ``None`` (all ones). Zero weights are allowed.

Set-up (both kinds)
-------------------
``obj.set_groups(n_groups, numeric=None)`` is called by the estimator on a *clone* at fit time,
before the first batch: ``n_groups`` is the list of the number of groups of each attribute
(``encoding.n_groups``), ``numeric`` the optional list of booleans saying which attributes are
numeric (``encoding.numeric``; :class:`DistanceCovariance` treats those as continuous). It
stores ``n_groups_``/``numeric_`` and allocates state (the group weights of
:class:`WorstGroupLoss`, a registered buffer, so that ``.to(device)`` moves it). It returns
``self``. Objects used without it infer the groups from each batch.

1. Additive penalties (:class:`PenaltyBase`)
--------------------------------------------
``penalty(logits, y, sensitive, sample_weight=None, sensitive_values=None) -> scalar``, a
differentiable function of ``softmax(logits)``, non-negative, zero when the predictions do not
depend on the groups. :meth:`PenaltyBase.objective` adds it to the data loss::

    total = data_loss + strength * penalty(...)

Group statistics are weighted means ``sum(w * v) / sum(w)`` within each group, so weight 2 on a
row equals duplicating it. Groups (or group-class cells) absent from a batch, or whose weights
sum to zero, are left out; a batch with a single group, a single class or no rows gives ``0``,
never NaN.

2. Group scalings (:class:`GroupScalingBase`)
---------------------------------------------
Group DRO (:class:`WorstGroupLoss`), fair error-bound scaling (:class:`FairErrorBoundScaling`)
and fair identity scaling (:class:`FairIdentityScaling`) do not add a term: they reweight the
*per-row data losses* (class attribute ``reweights_rows = True``), so the loss must be a mean of
per-row losses (``loss.per_sample``). :meth:`GroupScalingBase.objective`
takes the per-row losses ``l`` (shape ``(n,)``, with the autograd graph,
``loss.per_sample_loss``) and computes::

    if training:
        scaling.update(l.detach(), y, sensitive, sample_weight)   # state step, once per batch
    total = scaling(l, y, sensitive, sample_weight, strength=strength)

``scaling(...)`` (``forward``) is ``weighted_mean(l, w * row_weights(...) ** strength)``, that is
``sum(w * s**strength * l) / sum(w * s**strength)``. Its pieces, for estimators that compose
differently:

- ``row_weights(per_row_loss, y, sensitive, sample_weight=None) -> (n,)``: non-negative
  multipliers ``s`` of the sample weights, **detached** (no gradient flows through them) and
  normalised so that ``sum(w * s) == sum(w)``. Only ratios matter, since the weighted mean
  divides by ``sum(w * s)``. Each row's multiplier depends on its group (and, for fair identity
  scaling, on its own loss); groups are the cells of the combination of all attributes. The
  built-in scalings implement the hook ``_multipliers(loss, cells, weights)`` that
  ``row_weights`` calls with the detached losses, the cell of each row and the row weights.
- ``update(per_row_loss, y, sensitive, sample_weight=None) -> self``: one step of the state
  (the exponentiated-gradient step of group DRO). A no-op for stateless scalings. Call it once
  per *training* batch, before ``row_weights`` (the order of Sagawa et al.'s Algorithm 1), and
  not on validation batches, so that scoring never moves the state.

Why detached: the multipliers are importance weights over rows, chosen by the "adversary" of
group DRO (Sagawa et al. 2020 use ``loss.data`` for the update) or computed from detached
group losses (FairSeg's NumPy error bounds, FairVision's ``no_grad`` group distances). A
gradient through a loss-dependent weight would change what is minimised: through
``softmax(l / T)`` it pushes the loss of easy rows *up* (their gradient coefficient
``s_i * (1 + (l_i - mean) / T)`` turns negative below ``mean - T``). With detached weights the
objective at each step is an ordinary weighted loss and its gradient is
``sum(w s grad l) / sum(w s)``.

Why a power for the strength: ``s ** strength`` is the geometric path from ERM (``strength=0``,
all multipliers 1) to the method (``strength=1``), stays positive for every ``strength >= 0``
(a linear mixture ``1 - t + t * s`` turns negative above ``t = 1``), and lets ``GridSearchCV``
tune ``fairness_strength`` for scalings just as for penalties.
"""

import math

import torch

from .._callbacks import StrengthWarmup
from .._param_validation import Integer
from .._torch_utils import ParamsModule, accumulation_dtype, one_hot, row_weights, weighted_mean
from ._docstrings import fill_doc

__all__ = ["GroupScalingBase", "PenaltyBase"]


def _sensitive_2d(sensitive):
    """``sensitive`` as an int64 ``(n, k)`` tensor (a 1-D tensor is one attribute)."""
    sensitive = torch.as_tensor(sensitive)
    if sensitive.ndim == 1:
        sensitive = sensitive[:, None]
    if sensitive.ndim != 2:
        raise ValueError(
            f"sensitive must have shape (n, k); got a tensor of shape {tuple(sensitive.shape)}."
        )
    if sensitive.is_floating_point():
        raise ValueError("sensitive must hold integer group codes; got a float tensor.")
    return sensitive.long()


def _group_one_hot(codes, n_groups=None, dtype=torch.float32):
    """One-hot ``(n, G)`` of integer codes, ``G >= n_groups`` and ``> max(codes)``."""
    size = int(codes.max()) + 1 if codes.numel() else 1
    if n_groups is not None:
        size = max(size, int(n_groups))
    return one_hot(codes, size, dtype)


def _batch_cells(sensitive):
    """Cell index of each row among the combinations of attribute codes present in the batch."""
    if sensitive.shape[1] == 1:
        return sensitive[:, 0]
    return torch.unique(sensitive, dim=0, return_inverse=True)[1]


def _group_means(values, weights, cells, n_cells=None):
    """Weighted mean of ``values`` in each cell and whether the cell has positive weight.

    Returns ``(means, present)`` of shape ``(G,)``; absent cells have mean 0.
    """
    onehot = _group_one_hot(cells, n_cells, values.dtype)
    den = onehot.T @ weights
    num = onehot.T @ (weights * values)
    present = den > 0
    means = num / den.clamp_min(torch.finfo(values.dtype).tiny)
    return torch.where(present, means, torch.zeros_like(means)), present


def _normalise(multipliers, weights):
    """Rescale ``multipliers`` so that ``sum(w * s) == sum(w)`` (unchanged when that is 0)."""
    total = (weights * multipliers).sum()
    target = weights.sum()
    if not bool(total > 0):
        return torch.ones_like(multipliers)
    return multipliers * (target / total)


def _batch_probabilities(logits, sensitive, sample_weight):
    """Group codes ``(n, k)`` on ``logits``' device, the softmax probabilities in the
    accumulation dtype (float64: identical groups give exact zeros) and the row weights."""
    sensitive = _sensitive_2d(sensitive).to(logits.device)
    probs = torch.softmax(logits.to(accumulation_dtype(logits)), dim=1)
    return sensitive, probs, row_weights(sample_weight, probs)


class _FairnessObject(ParamsModule):
    """What penalties and scalings share: parameter holding, :meth:`set_groups`, the
    strength warm-up and the objective's interface."""

    _parameter_constraints = {"warmup": [Integer(0)]}

    #: Whether the term reweights the per-row data losses (then the loss must have
    #: ``per_sample = True``), a class-level capability.
    reweights_rows = False

    def __init__(self, warmup=0):
        super().__init__()
        self.warmup = warmup

    def set_groups(self, n_groups, numeric=None):
        """Learn the number of groups of each attribute (called on a clone in ``fit``).

        Parameters
        ----------
        n_groups : sequence of int
            Number of groups of each protected attribute, in the column order of
            ``sensitive``.
        numeric : sequence of bool or None, default=None
            Which attributes are numeric (their ``sensitive_values`` are values, not codes).

        Returns
        -------
        self
        """
        n_groups = [int(g) for g in n_groups]
        if not n_groups or any(g < 1 for g in n_groups):
            raise ValueError(
                f"n_groups must be a non-empty list of positive integers; got {n_groups!r}."
            )
        if numeric is not None:
            numeric = [bool(v) for v in numeric]
            if len(numeric) != len(n_groups):
                raise ValueError(
                    f"numeric has {len(numeric)} entries but n_groups has {len(n_groups)}; "
                    "give one per attribute."
                )
        self.n_groups_ = n_groups
        self.numeric_ = numeric
        return self

    def _n_groups(self, j):
        groups = getattr(self, "n_groups_", None)
        if groups is None or j >= len(groups):
            return None
        return groups[j]

    def callbacks(self):
        """The strength warm-up, ``[("fairness_warmup", StrengthWarmup(warmup))]``.

        It runs every epoch (also with ``warmup=0``), so the history always has the column
        ``"fairness_strength"``.

        Returns
        -------
        list of (str, skorch.callbacks.Callback)
        """
        return [("fairness_warmup", StrengthWarmup(self.warmup))]

    def objective(self, loss, logits, y, batch, strength, training=False):
        """The training objective of ``loss`` with this fairness term, and its parts.

        Parameters
        ----------
        loss : sklearn_fairloss.losses.LossBase
            The data loss.
        logits : torch.Tensor of shape (n, n_classes)
        y : torch.Tensor of shape (n,)
            Class codes.
        batch : dict of str to torch.Tensor
            The batch's extras: ``"sensitive"`` (group codes ``(n, k)``), and optionally
            ``"sample_weight"`` and ``"sensitive_values"``.
        strength : float
            The fairness strength of this batch.
        training : bool, default=False
            Whether this is a training batch (state, such as group DRO's weights, moves on
            training batches only).

        Returns
        -------
        total : torch.Tensor
            The scalar objective, with its autograd graph.
        terms : dict of str to torch.Tensor
            Detached ``"data_loss"`` and ``"fairness_penalty"``.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement objective.")


@fill_doc
class PenaltyBase(_FairnessObject):
    """Base class of the additive fairness penalties.

    Subclasses call ``super().__init__(warmup=warmup)`` first, store their constructor
    parameters unchanged, and implement :meth:`forward` (calling ``self._ensure_validated()``
    first). See the module docstring for the contract.

    Parameters
    ----------
    {warmup}

    See Also
    --------
    GroupScalingBase : The other kind of fairness term, which reweights the rows' losses.

    Examples
    --------
    >>> import torch
    >>> from sklearn_fairloss.fairness import PenaltyBase
    >>> class MeanPositive(PenaltyBase):
    ...     def forward(self, logits, y, sensitive, sample_weight=None, sensitive_values=None):
    ...         return logits.softmax(dim=1)[:, 1].mean()
    >>> float(MeanPositive()(torch.zeros(2, 2), torch.tensor([0, 1]), torch.tensor([0, 1])))
    0.5
    """

    def forward(self, logits, y, sensitive, sample_weight=None, sensitive_values=None):
        """The penalty, a scalar tensor; implemented by subclasses."""
        raise NotImplementedError(f"{type(self).__name__} must implement forward.")

    def objective(self, loss, logits, y, batch, strength, training=False):
        """``data_loss + strength * penalty`` (see :meth:`_FairnessObject.objective`).

        Examples
        --------
        >>> import torch
        >>> from sklearn_fairloss.fairness import DemographicParity
        >>> from sklearn_fairloss.losses import CrossEntropyLoss
        >>> logits = torch.tensor([[0.0, 2.0], [0.0, -2.0]])
        >>> batch = {"sensitive": torch.tensor([0, 1])}
        >>> total, terms = DemographicParity().objective(
        ...     CrossEntropyLoss(), logits, torch.tensor([1, 0]), batch, strength=2.0)
        >>> round(float(terms["fairness_penalty"]), 4), round(float(total), 4)
        (0.3808, 0.8885)
        """
        sample_weight = batch.get("sample_weight")
        data_loss = loss(logits, y, sample_weight=sample_weight)
        penalty = self(logits, y, batch["sensitive"], sample_weight=sample_weight,
                       sensitive_values=batch.get("sensitive_values"))
        total = data_loss + strength * penalty
        return total, {"data_loss": data_loss.detach(), "fairness_penalty": penalty.detach()}


@fill_doc
class GroupScalingBase(_FairnessObject):
    """Base class of the group scalings, which reweight per-row data losses.

    Subclasses implement ``_multipliers(loss, cells, weights)`` (the detached losses, the
    cell of each row and the row weights, for a non-empty batch) or :meth:`row_weights`
    itself and, when they keep state, :meth:`update`. See the module docstring for the
    contract and for why the weights are detached.

    Parameters
    ----------
    {warmup}

    See Also
    --------
    PenaltyBase : The additive fairness penalties.
    FairErrorBoundScaling, FairIdentityScaling

    Examples
    --------
    >>> import torch
    >>> from sklearn_fairloss.fairness import GroupScalingBase
    >>> class Uniform(GroupScalingBase):
    ...     def row_weights(self, per_row_loss, y, sensitive, sample_weight=None):
    ...         return torch.ones_like(per_row_loss)
    >>> loss = torch.tensor([1.0, 3.0])
    >>> float(Uniform()(loss, torch.tensor([0, 1]), torch.tensor([0, 1])))
    2.0
    """

    reweights_rows = True

    def _cells(self, sensitive):
        """Cell of each row: the combinations of attribute codes present in the batch."""
        return _batch_cells(_sensitive_2d(sensitive))

    def _detached_batch(self, per_row_loss, sensitive, sample_weight):
        """The detached per-row losses, the cell of each row and the row weights."""
        loss = per_row_loss.detach()
        cells = self._cells(sensitive).to(loss.device)
        return loss, cells, row_weights(sample_weight, loss)

    def _multipliers(self, loss, cells, weights):
        raise NotImplementedError(
            f"{type(self).__name__} must implement row_weights or _multipliers."
        )

    def row_weights(self, per_row_loss, y, sensitive, sample_weight=None):
        """Detached non-negative multipliers ``(n,)`` of the sample weights.

        Parameters
        ----------
        per_row_loss : torch.Tensor of shape (n,)
            Per-row data losses (only their values are used).
        y : torch.Tensor of shape (n,)
            Class codes.
        sensitive : torch.Tensor of shape (n, k)
            Group codes.
        sample_weight : torch.Tensor of shape (n,) or None
            Row weights.

        Returns
        -------
        torch.Tensor of shape (n,)
        """
        self._ensure_validated()
        if per_row_loss.numel() == 0:
            return torch.ones_like(per_row_loss.detach())
        return self._multipliers(*self._detached_batch(per_row_loss, sensitive, sample_weight))

    def update(self, per_row_loss, y, sensitive, sample_weight=None):
        """One step of the scaling's state on a training batch (no-op by default).

        Returns
        -------
        self
        """
        return self

    def forward(self, per_row_loss, y, sensitive, sample_weight=None, strength=1.0):
        """Reweighted mean ``sum(w s^strength l) / sum(w s^strength)`` of per-row losses.

        Parameters
        ----------
        per_row_loss : torch.Tensor of shape (n,)
            Per-row data losses, with their autograd graph.
        y : torch.Tensor of shape (n,)
            Class codes.
        sensitive : torch.Tensor of shape (n, k)
            Group codes.
        sample_weight : torch.Tensor of shape (n,) or None
            Row weights.
        strength : float, default=1.0
            Exponent of the multipliers: 0 gives the plain weighted mean (ERM), 1 the method.

        Returns
        -------
        torch.Tensor
            A scalar; zero (not NaN) for an empty batch or all-zero weights.
        """
        self._ensure_validated()
        strength = float(strength)
        if not math.isfinite(strength) or strength < 0:
            raise ValueError(f"strength must be a finite number >= 0; got {strength!r}.")
        weights = row_weights(sample_weight, per_row_loss)
        if per_row_loss.numel() == 0:
            return per_row_loss.sum()
        multipliers = self.row_weights(per_row_loss, y, sensitive, sample_weight)
        combined = weights * multipliers.to(per_row_loss.dtype).detach() ** strength
        total = combined.sum()
        return (combined * per_row_loss).sum() / total.clamp_min(
            torch.finfo(per_row_loss.dtype).tiny
        )

    def objective(self, loss, logits, y, batch, strength, training=False):
        """The per-row losses of ``loss`` reweighted by the scaling (see
        :meth:`_FairnessObject.objective`); the state moves on training batches.

        Examples
        --------
        >>> import torch
        >>> from sklearn_fairloss.fairness import WorstGroupLoss
        >>> from sklearn_fairloss.losses import CrossEntropyLoss
        >>> logits = torch.tensor([[0.0, 2.0], [0.0, -2.0]])
        >>> batch = {"sensitive": torch.tensor([0, 1])}
        >>> total, terms = WorstGroupLoss().objective(
        ...     CrossEntropyLoss(), logits, torch.tensor([0, 1]), batch, strength=1.0)
        >>> round(float(terms["data_loss"]), 4), round(float(terms["fairness_penalty"]), 4)
        (2.1269, 0.0)
        """
        sample_weight = batch.get("sample_weight")
        sensitive = batch["sensitive"]
        per_row = loss.per_sample_loss(logits, y)
        if training:  # the scaling's state moves on training batches only
            self.update(per_row.detach(), y, sensitive, sample_weight)
        total = self(per_row, y, sensitive, sample_weight, strength=strength)
        data_loss = weighted_mean(per_row.detach(), sample_weight)
        return total, {"data_loss": data_loss, "fairness_penalty": total.detach() - data_loss}

