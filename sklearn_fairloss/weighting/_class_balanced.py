"""Class-balanced weights: inverse class frequency, or inverse effective number of samples."""

import numpy as np

from .._param_validation import Real
from ._base import WeightingStrategy

__all__ = ["ClassBalanced"]


def _effective_number(counts, beta):
    """Effective number of samples ``(1 - beta**n) / (1 - beta)`` (Cui et al. 2019, eq. 2)."""
    if beta == 0:
        return np.where(counts > 0, 1.0, 0.0)
    # 1 - beta**n computed as -expm1(n log beta) keeps precision when beta is close to 1.
    return -np.expm1(counts * np.log(beta)) / (1.0 - beta)


class ClassBalanced(WeightingStrategy):
    """Weights inversely proportional to a power of the class size.

    A row of class ``k`` gets a weight proportional to ``E_k ** -power``, where ``E_k`` is

    - the number ``n_k`` of training rows of class ``k`` when ``beta`` is None (inverse class
      frequency; ``power=1`` gives scikit-learn's ``class_weight="balanced"``, ``power=0.5``
      the square-root variant, ``power=0`` uniform weights);
    - the effective number of samples ``(1 - beta**n_k) / (1 - beta)`` of Cui et al. (2019)
      when ``beta`` in ``[0, 1)`` is given: ``beta=0`` gives uniform weights and ``beta -> 1``
      tends to inverse frequency.

    Classes only: sensitive features are not needed and are ignored. Weights have mean 1 on
    the training rows.

    Read more in :doc:`/weighting`.

    Parameters
    ----------
    power : float, default=1.0
        Exponent applied to the (effective) class size, ``>= 0``.
    beta : float or None, default=None
        ``None`` for the plain class count, or the effective-number hyperparameter in
        ``[0, 1)`` (the paper uses 0.9, 0.99, 0.999, 0.9999).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Classes seen in ``fit``.
    groups_ : None
        This strategy uses no groups.
    cell_counts_ : ndarray of shape (1, n_classes)
        Weighted number of training rows per class.
    cell_weights_ : ndarray of shape (1, n_classes)
        Weight of a row of each class.

    See Also
    --------
    TemperatureSampling : weights proportional to ``frequency ** (1/tau - 1)``.

    References
    ----------
    .. [1] Y. Cui, M. Jia, T.-Y. Lin, Y. Song and S. Belongie, "Class-Balanced Loss Based on
       Effective Number of Samples", CVPR 2019.

    Examples
    --------
    >>> from sklearn_fairloss.weighting import ClassBalanced, strategy_sample_weight
    >>> y = [0, 0, 0, 1]
    >>> strategy_sample_weight(ClassBalanced(), y)
    array([0.66666667, 0.66666667, 0.66666667, 2.        ])
    >>> strategy_sample_weight(ClassBalanced(beta=0.0), y)
    array([1., 1., 1., 1.])
    """

    _parameter_constraints = {
        "power": [Real(0)],
        "beta": [None, Real(0, 1, high_open=True)],
    }

    def __init__(self, power=1.0, beta=None):
        self.power = power
        self.beta = beta

    def _uses_groups(self):
        return False

    def _cell_factors(self, counts):
        class_counts = counts.sum(axis=0, keepdims=True)
        if self.beta is not None:
            class_counts = _effective_number(class_counts, float(self.beta))
        return np.broadcast_to(np.power(class_counts, -float(self.power)), counts.shape)
