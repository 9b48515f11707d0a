"""Temperature sampling weights (Li et al., "Upsample or Upweight?", NAACL 2025)."""

import numpy as np

from .._param_validation import Options, Real
from ._base import WeightingStrategy
from ._docstrings import fill_doc

__all__ = ["TemperatureSampling"]


@fill_doc
class TemperatureSampling(WeightingStrategy):
    """Weights proportional to ``frequency ** (1/tau - 1)`` of the row's class or group.

    Temperature sampling draws a unit (a class, a group, or a group x class cell) ``k`` of
    frequency ``p_k = n_k / n`` with probability proportional to ``p_k ** (1/tau)``. The
    per-row weight that gives each unit the same total weight in expectation is
    ``p_k ** (1/tau) / p_k = p_k ** (1/tau - 1)``: ``tau = 1`` keeps the data as it is
    (uniform weights), ``tau -> inf`` gives every unit the same total weight (inverse
    frequency), and ``1 < tau < inf`` interpolates. Use these weights to upweight the loss
    (scalarization) or, with :class:`WeightedResampler`, to upsample; Li et al. show the two are
    equivalent under full-batch gradient descent and differ in gradient variance under SGD.
    Weights have mean 1 on the training rows.

    Read more in :doc:`/weighting`.

    Parameters
    ----------
    tau : float, default=1.0
        The temperature, ``> 0`` (``numpy.inf`` allowed). Values below 1 sharpen the
        imbalance.
    by : {"class", "group", "group_class"}, default="class"
        The unit whose frequency is tempered. ``"group"`` and ``"group_class"`` need
        sensitive features.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Classes seen in ``fit``.
    groups_ : ndarray of shape (n_groups,) or None
        Groups seen in ``fit``, None when ``by="class"``.
    cell_counts_ : ndarray of shape (n_groups, n_classes)
        Weighted number of training rows per cell (one row when ``by="class"``).
    cell_weights_ : ndarray of shape (n_groups, n_classes)
        Weight of a row of each cell.

    See Also
    --------
    ClassBalanced : inverse (effective) class frequency with an exponent.
    WeightedResampler : draw rows instead of weighting them.

    {li2025_references}

    Examples
    --------
    >>> from sklearn_fairloss.weighting import TemperatureSampling, strategy_sample_weight
    >>> y = [0, 0, 0, 1]
    >>> strategy_sample_weight(TemperatureSampling(tau=1.0), y)
    array([1., 1., 1., 1.])
    >>> strategy_sample_weight(TemperatureSampling(tau=float("inf")), y)
    array([0.66666667, 0.66666667, 0.66666667, 2.        ])
    """

    _parameter_constraints = {
        "tau": [Real(0, low_open=True, finite=False)],
        "by": [Options("class", "group", "group_class")],
    }

    def __init__(self, tau=1.0, by="class"):
        self.tau = tau
        self.by = by

    def _uses_groups(self):
        return self.by != "class"

    def _cell_factors(self, counts):
        if self.by == "class":
            size = counts.sum(axis=0, keepdims=True)
        elif self.by == "group":
            size = counts.sum(axis=1, keepdims=True)
        else:
            size = counts
        frequency = size / counts.sum()
        return np.broadcast_to(np.power(frequency, 1.0 / float(self.tau) - 1.0), counts.shape)
