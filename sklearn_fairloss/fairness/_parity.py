"""Soft group-parity penalties: demographic parity, equalized odds, equal opportunity.

Each compares soft group rates (weighted means of predicted probabilities) with the overall
rate, one-vs-rest per class, and aggregates the absolute gaps.
"""

import torch

from .._param_validation import InstanceOf, Options
from ._base import PenaltyBase, _batch_cells, _batch_probabilities, _group_one_hot
from ._docstrings import fill_doc

__all__ = ["DemographicParity", "EqualOpportunity", "EqualizedOdds"]


def _rate_gaps(values, weights, onehot):
    """Absolute gaps between group rates and the overall rate, and which entries exist.

    ``values`` and ``weights`` have shape ``(n, m)`` (one column per rate), ``onehot`` has shape
    ``(n, G)``. A group's rate is ``sum(w v) / sum(w)`` over its rows. Returns ``(gaps, present)``
    of shape ``(G, m)``; ``present`` is False where the group (or the whole batch) has no weight.
    """
    tiny = torch.finfo(values.dtype).tiny
    weighted = weights * values
    num_g = onehot.T @ weighted
    den_g = onehot.T @ weights
    num = weighted.sum(dim=0)
    den = weights.sum(dim=0)
    present = (den_g > 0) & (den > 0)
    rate_g = num_g / den_g.clamp_min(tiny)
    rate = num / den.clamp_min(tiny)
    gaps = (rate_g - rate).abs()
    return torch.where(present, gaps, torch.zeros_like(gaps)), present


def _reduce(values, present, how):
    """Mean or max of ``values`` over the ``present`` entries (0 when there are none)."""
    if how == "max":
        return values.amax() if values.numel() else values.sum()
    count = present.sum().to(values.dtype)
    return values.sum() / count.clamp_min(1.0)


class _GroupParity(PenaltyBase):
    """Shared machinery: rates per group, per attribute, aggregated."""

    _conditions = ()  # subclasses: which label conditions, among "all", "positive", "negative"

    _parameter_constraints = {
        **PenaltyBase._parameter_constraints,
        "aggregate": [Options("mean", "max")],
        "intersectional": [InstanceOf(bool, "a bool")],
    }

    def __init__(self, aggregate="mean", intersectional=False, warmup=0):
        super().__init__(warmup=warmup)
        self.aggregate = aggregate
        self.intersectional = intersectional

    def _rates(self, probs, y, weights):
        """Values ``(n, m)`` and weights ``(n, m)`` of the m rates to equalise across groups."""
        n_classes = probs.shape[1]
        columns = [1] if n_classes == 2 else list(range(n_classes))
        values = probs[:, columns]
        if y is not None:
            y = torch.as_tensor(y, device=probs.device).long().reshape(-1)
        all_values, all_weights = [], []
        for condition in self._conditions:
            if condition == "all":
                cond_weights = weights[:, None].expand_as(values)
            else:
                positive = (y[:, None] == torch.tensor(columns, device=probs.device)).to(
                    probs.dtype
                )
                cond = positive if condition == "positive" else 1.0 - positive
                cond_weights = weights[:, None] * cond
            all_values.append(values)
            all_weights.append(cond_weights)
        return torch.cat(all_values, dim=1), torch.cat(all_weights, dim=1)

    def forward(self, logits, y, sensitive, sample_weight=None, sensitive_values=None):
        """The penalty for one batch (see the class docstring); a scalar tensor."""
        self._ensure_validated()
        if logits.ndim != 2 or logits.shape[1] < 2:
            raise ValueError(
                "logits must have shape (n, n_classes) with n_classes >= 2; got shape "
                f"{tuple(logits.shape)}."
            )
        if logits.shape[0] == 0:
            return logits.sum() * 0.0
        sensitive, probs, weights = _batch_probabilities(logits, sensitive, sample_weight)
        values, rate_weights = self._rates(probs, y, weights)
        if self.intersectional and sensitive.shape[1] > 1:
            columns = [_batch_cells(sensitive)]
            sizes = [None]
        else:
            columns = [sensitive[:, j] for j in range(sensitive.shape[1])]
            sizes = [self._n_groups(j) for j in range(sensitive.shape[1])]
        per_attribute, has_entries = [], []
        for codes, size in zip(columns, sizes):
            onehot = _group_one_hot(codes, size, probs.dtype)
            gaps, present = _rate_gaps(values, rate_weights, onehot)
            per_attribute.append(_reduce(gaps, present, self.aggregate))
            has_entries.append(present.any())
        per_attribute = torch.stack(per_attribute)
        has_entries = torch.stack(has_entries)
        return _reduce(per_attribute, has_entries, self.aggregate).to(logits.dtype)


@fill_doc
class DemographicParity(_GroupParity):
    """Soft demographic-parity penalty: group mean predicted probabilities vs the overall.

    For each protected attribute, group ``g`` and class ``c``, the soft rate
    ``r_gc = sum_{i in g} w_i p_ic / sum_{i in g} w_i`` is compared with the overall rate
    ``r_c`` (same formula over the batch), and the absolute gaps ``|r_gc - r_c|`` are
    aggregated. In binary classification only the positive class (code 1) is used (the gaps
    of the two classes are equal); in multiclass every class is taken one-vs-rest.
    Demographic parity (statistical parity) asks ``P(Yhat = c | A = g) = P(Yhat = c)``
    (Calders, Kamiran & Pechenizkiy 2009, "Building Classifiers with Independency
    Constraints", ICDM Workshops; Dwork et al. 2012, "Fairness through Awareness", ITCS);
    the soft, probability-based relaxation used as a differentiable penalty follows
    Zafar et al. 2017 ("Fairness Constraints: Mechanisms for Fair Classification", AISTATS)
    and fairret (Buyl, Defrance & De Bie 2024, "fairret: a Framework for Differentiable
    Fairness Regularization Terms", ICLR).

    {parity_parameters}

    See Also
    --------
    EqualizedOdds, EqualOpportunity, DistanceCovariance

    Examples
    --------
    >>> import torch
    >>> from sklearn_fairloss.fairness import DemographicParity
    >>> logits = torch.tensor([[0.0, 2.0], [0.0, 2.0], [0.0, -2.0], [0.0, -2.0]])
    >>> y = torch.tensor([1, 0, 1, 0])
    >>> group = torch.tensor([[0], [0], [1], [1]])
    >>> round(float(DemographicParity()(logits, y, group)), 4)  # |0.8808 - 0.5|
    0.3808
    >>> float(DemographicParity()(torch.zeros(4, 2), y, group))
    0.0
    """

    _conditions = ("all",)


@fill_doc
class EqualizedOdds(_GroupParity):
    """Soft equalized-odds penalty: group rates conditional on the true class.

    Equalized odds asks ``P(Yhat = c | A = g, Y = y) = P(Yhat = c | Y = y)`` for all ``y``
    (Hardt, Price & Srebro 2016, "Equality of Opportunity in Supervised Learning", NeurIPS).
    One-vs-rest for each class ``c``, the soft true-positive rate (mean ``p_c`` over rows with
    ``y = c``) and the soft false-positive rate (mean ``p_c`` over rows with ``y != c``) of
    each group are compared with the overall rates, and the absolute gaps are aggregated.
    Binary: the positive class only, i.e. the TPR and FPR gaps. A group with no row of a
    label in the batch is left out for that rate.

    {parity_parameters}

    See Also
    --------
    EqualOpportunity : The true-positive-rate gaps alone.
    DemographicParity
    sklearn_fairloss.metrics.equalized_odds_difference

    Examples
    --------
    >>> import torch
    >>> from sklearn_fairloss.fairness import EqualizedOdds, EqualOpportunity
    >>> logits = torch.tensor([[0.0, 2.0], [0.0, 2.0], [0.0, 2.0], [0.0, 0.0]])
    >>> y = torch.tensor([1, 0, 1, 0])
    >>> group = torch.tensor([0, 0, 1, 1])
    >>> round(float(EqualizedOdds()(logits, y, group)), 4)  # FPR gaps: (0.19 + 0.19) / 4
    0.0952
    >>> float(EqualOpportunity()(logits, y, group))  # equal TPRs: the FPR gaps are not seen
    0.0
    """

    _conditions = ("positive", "negative")


@fill_doc
class EqualOpportunity(_GroupParity):
    """Soft equal-opportunity penalty: group true-positive rates vs the overall.

    Equal opportunity asks ``P(Yhat = c | A = g, Y = c) = P(Yhat = c | Y = c)`` (Hardt, Price &
    Srebro 2016, "Equality of Opportunity in Supervised Learning", NeurIPS). The soft
    true-positive rate of class ``c`` in group ``g`` is the weighted mean of ``p_c`` over the
    group's rows with ``y = c``. Binary: the positive class (code 1) only; multiclass: every
    class one-vs-rest. A group with no row of a class in the batch is left out for that class.

    {parity_parameters}

    See Also
    --------
    EqualizedOdds : Also equalises the false-positive rates.
    DemographicParity
    sklearn_fairloss.metrics.equal_opportunity_difference

    Examples
    --------
    >>> import torch
    >>> from sklearn_fairloss.fairness import EqualOpportunity
    >>> logits = torch.tensor([[0.0, 2.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    >>> y = torch.tensor([1, 0, 1, 0])
    >>> group = torch.tensor([0, 0, 1, 1])
    >>> round(float(EqualOpportunity()(logits, y, group)), 4)  # |0.8808 - 0.6904|
    0.1904
    """

    _conditions = ("positive",)
