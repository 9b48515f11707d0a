"""Batch samplers: which training rows make each mini-batch of a network.

They are the estimator's ``batch_sampler=`` parameter (torch-free: they return numpy arrays
that the training loop turns into batches).

- :class:`StratifiedBatchSampler`: every batch holds each group x class cell in proportion
  (stratified batches, without replacement).
- :class:`WeightedBatchSampler`: every epoch draws rows with replacement, with probabilities
  proportional to a weighting strategy's weights ("upsampling" rather than "upweighting",
  Li et al. 2025), optionally back to uniform sampling for the last epochs (the cooldown).
"""

import numpy as np
from sklearn.base import BaseEstimator

from .._param_validation import InstanceOf, Options, ParamsValidationMixin, Real
from ._base import WeightingStrategy, _check_target
from ._docstrings import fill_doc
from ._registry import check_strategy

__all__ = ["StratifiedBatchSampler", "WeightedBatchSampler"]


def _check_codes(codes, name):
    """``codes`` as an int64 ndarray of non-negative codes."""
    codes = np.asarray(codes)
    if codes.size and (not np.issubdtype(codes.dtype, np.integer) or codes.min() < 0):
        raise ValueError(f"{name} must hold non-negative integer codes.")
    return codes.astype(np.int64, copy=False)


class StratifiedBatchSampler(ParamsValidationMixin, BaseEstimator):
    """Stratified batches: each batch holds every group x class cell in proportion.

    The training loop shuffles the rows within each stratum and interleaves the strata, so
    that any run of consecutive rows of the epoch's permutation (a batch) holds each stratum
    in proportion to its size. The strata are the group x class cells: the intersection of
    the sensitive attributes with the class, or the classes alone without sensitive
    features. Small groups then reach every batch, which batch-level fairness penalties need.

    Read more in :doc:`/weighting`.

    See Also
    --------
    WeightedBatchSampler : draw rows with probabilities from a weighting strategy.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_fairloss.weighting import StratifiedBatchSampler
    >>> y = np.array([0, 1, 0, 1, 1])
    >>> group = np.array([[0], [0], [1], [1], [1]])
    >>> StratifiedBatchSampler().strata(y, group)
    array([0, 1, 2, 3, 3])
    >>> StratifiedBatchSampler().strata(y)
    array([0, 1, 0, 1, 1])
    """

    _parameter_constraints = {}

    def strata(self, y_codes, group_codes=None):
        """The stratum (group x class cell) of each row.

        Strata are numbered in lexicographic order of (group codes..., class code), counting
        only the cells present.

        Parameters
        ----------
        y_codes : array-like of shape (n_samples,)
            Class codes (``0 .. n_classes - 1``).
        group_codes : array-like of shape (n_samples, n_attributes) or (n_samples,), \
                default=None
            Per-attribute group codes (``GroupCodes.codes``); None for classes alone.

        Returns
        -------
        strata : ndarray of shape (n_samples,), int64
        """
        y_codes = _check_codes(y_codes, "y_codes").ravel()
        cells = y_codes[:, None]
        if group_codes is not None:
            group_codes = _check_codes(group_codes, "group_codes")
            if group_codes.shape[0] != y_codes.shape[0]:
                raise ValueError(
                    f"group_codes has {group_codes.shape[0]} rows but y_codes has "
                    f"{y_codes.shape[0]} rows; they must have the same length."
                )
            cells = np.column_stack([group_codes, y_codes])
        return np.unique(cells, axis=0, return_inverse=True)[1].ravel().astype(np.int64)


@fill_doc
class WeightedBatchSampler(ParamsValidationMixin, BaseEstimator):
    """Upsampling: each epoch draws rows with replacement, in proportion to strategy weights.

    A weighting strategy can reach training in two ways: as per-row loss weights
    (``sample_weight_strategy=``, "upweighting") or as sampling probabilities (this sampler,
    "upsampling"). Li et al. (2025) show the two are equivalent under full-batch gradient
    descent; under SGD upsampling has lower gradient variance but repeats the rare rows,
    which invites overfitting late in training, hence the *cooldown*: the last ``cooldown``
    share of the epochs sample uniformly again. Each epoch draws as many rows as there are
    training rows, row ``i`` with probability proportional to its weight ``w_i``.

    With :class:`TemperatureSampling` (``by="class"``) a class of ``n_c`` rows is drawn with
    probability proportional to ``n_c ** (1 / tau)``: ``tau=1`` samples uniformly, large
    ``tau`` balances the classes.

    Read more in :doc:`/weighting`.

    Parameters
    ----------
    strategy : WeightingStrategy or str, default="temperature"
        The weighting strategy whose weights (without the user's ``sample_weight``) are the
        sampling probabilities; cloned, never modified. A string is an alias of
        :func:`check_strategy` (``"temperature"`` is ``TemperatureSampling()``, ``tau=1``,
        uniform sampling: pass ``TemperatureSampling(tau=...)`` to rebalance).
    cooldown : float, default=0.0
        Share of ``max_epochs``, in [0, 1], at the end of training that samples uniformly
        again: epochs from ``ceil((1 - cooldown) * max_epochs)`` on.
    cooldown_schedule : {"step", "linear"}, default="step"
        How the cooldown leaves the strategy's weights ``w``. ``"step"`` is the paper's
        COOLDOWN (Li et al. 2025, Section 4): the weights until the cooldown, then uniform
        sampling (``tau=1``) from its first epoch on. The paper trains with ``tau=5`` for the
        first half of the iterations and ``tau=1`` for the second (``cooldown=0.5``), and
        reports that denser, gradual decreasing schedules did worse (its Section 4.3,
        "curse of granularity"). ``"linear"`` is such a gradual schedule: over the ``m``
        cooldown epochs, epoch ``k = 1 .. m`` of the cooldown samples with weights
        ``w ** ((m - k) / m)``, so the last epoch is uniform and ``m = 1`` is the step. For
        :class:`TemperatureSampling` this moves the exponent ``1 / tau`` of the class sizes
        linearly from ``1 / tau`` to 1 (works for ``tau=inf`` and for every strategy).

    Attributes
    ----------
    strategy_ : WeightingStrategy
        The strategy fitted by the last call to :meth:`row_weights`.

    See Also
    --------
    StratifiedBatchSampler : every cell in every batch, without replacement.
    WeightedResampler : the same draw once, for scikit-learn classifiers.

    {li2025_references}

    Examples
    --------
    >>> from sklearn_fairloss.weighting import TemperatureSampling, WeightedBatchSampler
    >>> sampler = WeightedBatchSampler(TemperatureSampling(tau=float("inf")), cooldown=0.2)
    >>> sampler.row_weights([0, 0, 0, 1])  # each class drawn as often
    array([0.66666667, 0.66666667, 0.66666667, 2.        ])
    >>> WeightedBatchSampler(TemperatureSampling(tau=5.0), cooldown=0.5,
    ...                      cooldown_schedule="linear").cooldown_schedule
    'linear'
    >>> WeightedBatchSampler(cooldown=1.5)._validate_params()
    Traceback (most recent call last):
    ...
    ValueError: cooldown must be a real number in [0, 1]; got 1.5.
    """

    _parameter_constraints = {
        "strategy": [InstanceOf(str, "a string alias"),
                     InstanceOf(WeightingStrategy, "a WeightingStrategy")],
        "cooldown": [Real(0, 1)],
        "cooldown_schedule": [Options("step", "linear")],
    }

    def __init__(self, strategy="temperature", cooldown=0.0, cooldown_schedule="step"):
        self.strategy = strategy
        self.cooldown = cooldown
        self.cooldown_schedule = cooldown_schedule

    def _check_params(self):
        check_strategy(self.strategy)._validate_params()

    def row_weights(self, y, sensitive_features=None):
        """Sampling weight of each training row (mean 1; draw row ``i`` with probability
        ``w_i / sum(w)``).

        Parameters
        ----------
        y : array-like of shape (n_samples,)
            Class labels (or class codes) of the training rows.
        sensitive_features : array-like, Series, DataFrame or None, default=None
            Group of each row, for strategies that use groups.

        Returns
        -------
        weights : ndarray of shape (n_samples,), float64
        """
        self._ensure_validated()
        y = _check_target(y, type(self).__name__)
        self.strategy_ = check_strategy(self.strategy)
        weights = self.strategy_.fit_compute(y, sensitive_features)
        return np.asarray(weights, dtype=np.float64)
