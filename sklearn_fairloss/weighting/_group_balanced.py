"""Group-balanced weights: equal total weight per group, or per group x class cell."""

import numpy as np

from .._param_validation import Options
from ._base import WeightingStrategy
from ._docstrings import fill_doc

__all__ = ["GroupBalanced"]


@fill_doc
class GroupBalanced(WeightingStrategy):
    """Equal total weight for every group, or for every group x class cell.

    With ``by="group"`` a row of group ``a`` gets a weight proportional to ``1 / n_a``, so
    each group carries the same total weight whatever its size (the group analogue of
    ``class_weight="balanced"``). With ``by="group_class"`` a row of cell ``(a, y)`` gets
    ``1 / n_ay``, so every non-empty cell carries the same total weight: groups and classes are
    then balanced and, when every cell holds rows, the class is independent of the group.
    Several sensitive attributes make intersectional groups. Weights have mean 1 on the
    training rows.

    Read more in :doc:`/weighting`.

    Parameters
    ----------
    by : {"group", "group_class"}, default="group"
        The unit that gets equal total weight.

    {group_cell_attributes}

    See Also
    --------
    Reweighing : class independent of group, keeping the marginals.

    References
    ----------
    .. [1] F. Kamiran and T. Calders, "Data preprocessing techniques for classification
       without discrimination", Knowledge and Information Systems 33(1), 1-33, 2012
       (reweighing by cells); group-balanced weighting as in scikit-learn's
       ``class_weight="balanced"`` applied to groups.

    Examples
    --------
    >>> from sklearn_fairloss.weighting import GroupBalanced, strategy_sample_weight
    >>> y = [0, 1, 0, 1]
    >>> race = ["a", "a", "a", "b"]
    >>> strategy_sample_weight(GroupBalanced(), y, race)
    array([0.66666667, 0.66666667, 0.66666667, 2.        ])
    """

    _parameter_constraints = {"by": [Options("group", "group_class")]}

    def __init__(self, by="group"):
        self.by = by

    def _uses_groups(self):
        return True

    def _cell_factors(self, counts):
        if self.by == "group":
            return np.broadcast_to(1.0 / counts.sum(axis=1, keepdims=True), counts.shape)
        return 1.0 / counts
