"""Reweighing (Kamiran & Calders 2012): make the class independent of the group."""


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

    Read more in :doc:`/weighting`.

    {group_cell_attributes}

    See Also
    --------
    GroupBalanced : equal total weight per group or per group x class cell.
    compute_sample_weight : the weights as an array.

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

    def _cell_factors(self, counts):
        total = counts.sum()
        p_group = counts.sum(axis=1, keepdims=True) / total
        p_class = counts.sum(axis=0, keepdims=True) / total
        return p_group * p_class / (counts / total)
