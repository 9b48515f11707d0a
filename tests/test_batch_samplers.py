"""Batch samplers: stratum numbering and upsampling weights (torch-free)."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from sklearn_fairloss.weighting import (
    ClassBalanced,
    GroupBalanced,
    Reweighing,
    StratifiedBatchSampler,
    TemperatureSampling,
    WeightedBatchSampler,
    compute_sample_weight,
)


def _codes(seed=0, n=300, k=2):
    rng = np.random.default_rng(seed)
    y = rng.choice(3, size=n, p=[0.7, 0.2, 0.1])
    groups = np.column_stack([rng.integers(0, 3, n) for _ in range(k)])
    return y, groups


# ----------------------------------------------------------------------------------------------
# StratifiedBatchSampler
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 2, 3])
def test_strata_number_cells_as_the_estimator_did(k):
    y, groups = _codes(k=k)
    expected = np.unique(np.column_stack([groups, y]), axis=0, return_inverse=True)[1].ravel()
    strata = StratifiedBatchSampler().strata(y, groups)
    assert strata.dtype == np.int64
    np.testing.assert_array_equal(strata, expected)


def test_strata_without_groups_are_the_classes():
    y, _ = _codes()
    expected = np.unique(y[:, None], axis=0, return_inverse=True)[1].ravel()
    np.testing.assert_array_equal(StratifiedBatchSampler().strata(y), expected)
    np.testing.assert_array_equal(StratifiedBatchSampler().strata([2, 0, 2]), [1, 0, 1])


def test_strata_hand_written_and_one_dimensional_groups():
    y = [1, 0, 1, 0, 1]
    groups = [1, 1, 0, 0, 0]
    # cells (group, class): (1,1) (1,0) (0,1) (0,0) (0,1) -> sorted (0,0) (0,1) (1,0) (1,1)
    np.testing.assert_array_equal(StratifiedBatchSampler().strata(y, groups), [3, 2, 1, 0, 1])


def test_strata_input_errors():
    with pytest.raises(ValueError, match="group_codes has 2 rows but y_codes has 3 rows"):
        StratifiedBatchSampler().strata([0, 1, 0], [[0], [1]])
    with pytest.raises(ValueError, match="y_codes must hold non-negative integer codes"):
        StratifiedBatchSampler().strata([0.5, 1.0])
    with pytest.raises(ValueError, match="group_codes must hold non-negative integer codes"):
        StratifiedBatchSampler().strata([0, 1], [[-1], [0]])


# ----------------------------------------------------------------------------------------------
# WeightedBatchSampler
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0, 10.0, np.inf])
def test_temperature_weights_are_proportional_to_the_estimator_formula(temperature):
    y, _ = _codes(seed=1)
    counts = np.bincount(y).astype(np.float64)
    expected = np.power(np.maximum(counts, 1.0), 1.0 / temperature - 1.0)[y]
    weights = WeightedBatchSampler(TemperatureSampling(tau=temperature)).row_weights(y)
    assert weights.dtype == np.float64 and weights.shape == y.shape
    ratio = weights / expected
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-12)
    # Sampling probabilities are the normalised weights.
    np.testing.assert_allclose(weights / weights.sum(), expected / expected.sum(), rtol=1e-12)


def test_row_weights_are_the_strategy_weights_with_groups():
    y, groups = _codes(seed=2)
    sensitive = pd.DataFrame(groups, columns=["a", "b"])
    for strategy in (Reweighing(), GroupBalanced(by="group_class"), ClassBalanced(beta=0.9),
                     TemperatureSampling(tau=3.0, by="group")):
        sampler = WeightedBatchSampler(strategy, cooldown=0.25)
        np.testing.assert_allclose(sampler.row_weights(y, sensitive),
                                   compute_sample_weight(strategy, y, sensitive))
        assert type(sampler.strategy_) is type(strategy)
        assert not hasattr(strategy, "cell_weights_")  # the argument is not fitted


def test_default_and_alias_strategy():
    sampler = WeightedBatchSampler()
    assert sampler.get_params() == {"strategy": "temperature", "cooldown": 0.0,
                                    "cooldown_schedule": "step"}
    np.testing.assert_allclose(sampler.row_weights([0, 0, 0, 1]), 1.0)  # tau=1: uniform
    np.testing.assert_allclose(
        WeightedBatchSampler("class_balanced").row_weights([0, 0, 0, 1]),
        [2 / 3, 2 / 3, 2 / 3, 2.0])


@pytest.mark.parametrize("params, error, match", [
    ({"cooldown": 1.5}, ValueError, r"cooldown must be a real number in \[0, 1\]; got 1.5"),
    ({"cooldown": -0.1}, ValueError, "cooldown must be"),
    ({"cooldown": "0.2"}, ValueError, "cooldown must be"),
    ({"cooldown_schedule": "cosine"}, ValueError,
     r"cooldown_schedule must be one of \['linear', 'step'\]"),
    ({"strategy": 3}, ValueError, "strategy must be a string alias or a WeightingStrategy"),
    ({"strategy": "balanced"}, ValueError, "Unknown sample-weight strategy 'balanced'"),
    ({"strategy": TemperatureSampling(tau=-1.0)}, ValueError, "tau must be"),
])
def test_invalid_parameters(params, error, match):
    sampler = WeightedBatchSampler(**params)
    with pytest.raises(error, match=match):
        sampler._validate_params()
    with pytest.raises(error, match=match):
        sampler.row_weights([0, 1])


def test_group_strategy_needs_sensitive_features():
    with pytest.raises(ValueError, match="Reweighing needs sensitive_features"):
        WeightedBatchSampler(Reweighing()).row_weights([0, 1, 0])


def test_samplers_are_parameter_holders():
    sampler = WeightedBatchSampler(TemperatureSampling(tau=2.0), cooldown=0.2)
    copy = clone(sampler)
    assert copy.get_params()["cooldown"] == 0.2
    assert copy.strategy is not sampler.strategy
    sampler.set_params(strategy__tau=4.0)
    assert sampler.strategy.tau == 4.0
    restored = pickle.loads(pickle.dumps(sampler))
    np.testing.assert_allclose(restored.row_weights([0, 0, 1]), sampler.row_weights([0, 0, 1]))
    assert repr(StratifiedBatchSampler()) == "StratifiedBatchSampler()"
    assert clone(StratifiedBatchSampler())._validate_params() is not None
