"""Sample-weight strategies for fairness and class imbalance (numpy, pandas, scikit-learn only).

Strategies (:class:`Reweighing`, :class:`ClassBalanced`, :class:`GroupBalanced`,
:class:`TemperatureSampling`, and their product :class:`ProductWeighting`) give each training
row a weight from its class and group, normalised to mean 1. They reach a model in three ways:
:func:`strategy_sample_weight` for the array, :class:`WeightedClassifier` for any scikit-learn
classifier that takes ``sample_weight``, and :class:`WeightedResampler` (``fit_resample``) for
an imbalanced-learn pipeline around classifiers that do not. :class:`StratifiedBatchSampler`
and :class:`WeightedBatchSampler` decide which rows make each training batch of a network.
"""

from ._base import WeightingStrategy
from ._batch_samplers import StratifiedBatchSampler, WeightedBatchSampler
from ._class_balanced import ClassBalanced
from ._compose import ProductWeighting
from ._compute import compute_sample_weight, strategy_sample_weight
from ._group_balanced import GroupBalanced
from ._registry import check_strategy
from ._resampler import WeightedResampler
from ._reweighing import Reweighing
from ._temperature import TemperatureSampling
from ._weighted_classifier import WeightedClassifier

__all__ = [
    "ClassBalanced",
    "GroupBalanced",
    "ProductWeighting",
    "Reweighing",
    "StratifiedBatchSampler",
    "TemperatureSampling",
    "WeightedBatchSampler",
    "WeightedClassifier",
    "WeightedResampler",
    "WeightingStrategy",
    "check_strategy",
    "compute_sample_weight",
    "strategy_sample_weight",
]
