"""Reweighing (Kamiran & Calders 2012): make the class independent of the group."""

import warnings

import numpy as np

from ._base import WeightingStrategy
from ._docstrings import fill_doc

__all__ = ["Reweighing"]


@fill_doc
class Reweighing(WeightingStrategy):
    """Kamiran & Calders reweighing: weight ``P(A=a) P(Y=y) / P(A=a, Y=y)`` per cell.

    Each row of group ``a`` and class ``y`` gets the weight the cell would have if the class
    were independent of the group, divided by the weight it has. In the weighted training data
    the class is then exactly independent of the group (``P_w(Y=y | A=a) = P(Y=y)`` for every
    group), while the group and class marginals are kept. Several sensitive attributes (a 2-D
    array or a DataFrame) make intersectional groups, so the class becomes independent of the
    attributes jointly, hence of each one.

    The probabilities are counted with the user's ``sample_weight`` when one is given. When
    every cell holds rows the weights have mean 1 as they stand; otherwise they are rescaled
    to mean 1.

    A group without any row of some class (no positives, say) cannot be made independent of
    the class by weights: its empty cells keep weight 0. ``fit`` then warns, naming the groups
    and the classes concerned.

    Read more in :doc:`/weighting`.

    {group_cell_attributes}

    See Also
    --------
    GroupBalanced : equal total weight per group or per group x class cell.
    strategy_sample_weight : the weights as an array.

    {kamiran2012_references}

    Examples
    --------
    >>> from sklearn_fairloss.weighting import Reweighing
    >>> y =   [1, 1, 1, 0, 1, 0, 0, 0]
    >>> sex = ["m", "m", "m", "m", "f", "f", "f", "f"]
    >>> rw = Reweighing().fit(y, sex)
    >>> rw.weight_table().round(3)
    class      0      1
    f      0.667  2.000
    m      2.000  0.667
    """

    _parameter_constraints = {}

    def _uses_groups(self):
        return True

    def fit(self, y, sensitive_features=None, sample_weight=None):
        """Learn the cell counts and the weight of each cell from training data.

        Warns (``UserWarning``) when a group has no training rows of a class: the weights
        cannot make the class independent of the group there.

        Parameters
        ----------
        y : array-like of shape (n_samples,)
            Class labels of the training rows.
        sensitive_features : array-like of shape (n_samples,) or (n_samples, k), DataFrame
            Group of each row; several columns make intersectional groups.
        sample_weight : array-like of shape (n_samples,) or None, default=None
            The user's weights; the cells are counted with them.

        Returns
        -------
        self : Reweighing
            The fitted strategy.
        """
        super().fit(y, sensitive_features, sample_weight=sample_weight)
        _warn_empty_cells(self.cell_counts_, self.groups_, self.classes_)
        return self

    def _cell_factors(self, counts):
        total = counts.sum()
        p_group = counts.sum(axis=1, keepdims=True) / total
        p_class = counts.sum(axis=0, keepdims=True) / total
        return p_group * p_class / (counts / total)


_SHOWN = 10  # groups listed in the warning


def _label(value):
    return value.item() if isinstance(value, np.generic) else value


def _warn_empty_cells(counts, groups, classes):
    """Warn about the groups that lack a class present elsewhere (weight cannot fix them)."""
    empty = (counts == 0) & (counts.sum(axis=1, keepdims=True) > 0) \
        & (counts.sum(axis=0, keepdims=True) > 0)
    rows = np.flatnonzero(empty.any(axis=1))
    if len(rows) == 0:
        return
    parts = [
        f"group {_label(groups[g])!r} has no rows of class(es) "
        f"{[_label(c) for c in classes[empty[g]]]}"
        for g in rows[:_SHOWN]
    ]
    more = f" (and {len(rows) - _SHOWN} more groups)" if len(rows) > _SHOWN else ""
    warnings.warn(
        "Reweighing cannot make group and label independent: " + "; ".join(parts) + more
        + ". These cells have no training rows (or only zero sample_weight), so no weight "
        "can give those groups the overall class distribution; merge small groups or "
        "collect rows of the missing classes.",
        UserWarning,
        stacklevel=3,
    )
