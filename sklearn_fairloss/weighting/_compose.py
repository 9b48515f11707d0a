"""Composition of strategies: the product of their weights."""

import numpy as np
from sklearn.base import clone

from .._param_validation import InstanceOf
from ._base import WeightingStrategy
from ._registry import check_strategy

__all__ = ["ProductWeighting"]


class ProductWeighting(WeightingStrategy, product=True):
    """Product of the weights of several strategies, renormalised to mean 1.

    Each row gets the product of its weights under every strategy. Because every strategy
    here gives a weight per group x class cell, the product is again a per-cell weight; for
    example ``Reweighing() * ClassBalanced()`` makes the class independent of the group *and*
    balances the classes (the weighted cell masses become ``P(A=a) / n_classes``). Each
    strategy is computed on the same (unweighted, or ``sample_weight``-weighted) counts, so
    the order does not matter. ``a * b`` builds ``ProductWeighting([a, b])``.

    Read more in :doc:`/weighting`.

    Parameters
    ----------
    strategies : list of WeightingStrategy or str
        The strategies to multiply (string aliases allowed, see :func:`check_strategy`).

    Attributes
    ----------
    strategies_ : list of WeightingStrategy
        The fitted component strategies.
    classes_, groups_, cell_counts_, cell_weights_
        As for every strategy.

    Examples
    --------
    >>> from sklearn_fairloss.weighting import ClassBalanced, Reweighing
    >>> strategy = Reweighing() * ClassBalanced()
    >>> strategy
    ProductWeighting(strategies=[Reweighing(), ClassBalanced()])
    >>> y = [1, 1, 0, 0, 0, 0, 0, 0]
    >>> sex = ["m", "f", "m", "m", "m", "f", "f", "f"]
    >>> table = strategy.fit(y, sex).weight_table()
    >>> (table * strategy.cell_counts_).round(3)  # total weight per cell
    class    0    1
    f      2.0  2.0
    m      2.0  2.0
    """

    _parameter_constraints = {
        "strategies": [InstanceOf((list, tuple), "a non-empty list of strategies")],
    }

    def __init__(self, strategies):
        self.strategies = strategies

    def _resolved(self):
        if not isinstance(self.strategies, (list, tuple)) or len(self.strategies) == 0:
            raise ValueError(
                f"strategies must be a non-empty list of strategies; got {self.strategies!r}."
            )
        return [check_strategy(s) for s in self.strategies]

    def _check_params(self):
        self.strategies_ = self._resolved()
        for strategy in self.strategies_:
            strategy._validate_params()

    def _uses_groups(self):
        strategies = getattr(self, "strategies_", None) or self._resolved()
        return any(s._uses_groups() for s in strategies)

    def _cell_factors(self, counts):
        product = np.ones_like(counts)
        for strategy in self.strategies_:
            factors = np.broadcast_to(strategy._cell_factors(counts), counts.shape)
            product = product * factors
        return product

    def fit(self, y, sensitive_features=None, sample_weight=None):
        super().fit(y, sensitive_features, sample_weight=sample_weight)
        # The components, fitted on the same rows, for inspection.
        self.strategies_ = [clone(s).fit(y, sensitive_features, sample_weight=sample_weight)
                            for s in self.strategies_]
        return self

    fit.__doc__ = WeightingStrategy.fit.__doc__
