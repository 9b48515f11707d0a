"""Parameter-holder behaviour shared by every fairness object: params, clone, pickle, repr."""

import copy
import pickle

import pytest
import torch
from sklearn.base import BaseEstimator, clone
from torch import nn

import sklearn_fairloss.fairness as fairness
from sklearn_fairloss.fairness import (
    DemographicParity,
    DistanceCovariance,
    EqualizedOdds,
    EqualOpportunity,
    ErrorBoundReweighting,
    FairErrorBoundScaling,
    FairIdentityScaling,
    GroupScalingBase,
    PenaltyBase,
    WorstGroupLoss,
)

NON_DEFAULT = [
    (DemographicParity, {"aggregate": "max", "intersectional": True}),
    (EqualizedOdds, {"aggregate": "max", "intersectional": True}),
    (EqualOpportunity, {"aggregate": "max", "intersectional": True}),
    (DistanceCovariance, {"method": "jdcov", "c": 2.0, "continuous": [True, False]}),
    (FairErrorBoundScaling, {"gamma": 2.0}),
    (WorstGroupLoss, {"step_size": 0.1, "adjustment": 1.0}),
    (ErrorBoundReweighting, {"gamma": 2.0}),
    (FairIdentityScaling, {"group_coef": 0.2, "temperature": 2.0, "group_statistic": "mean"}),
]
CLASSES = [cls for cls, _ in NON_DEFAULT]


def _batch():
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(10, 2, generator=generator)
    y = torch.arange(10) % 2
    sensitive = torch.stack([torch.arange(10) % 2, torch.arange(10) % 3], 1)
    return logits, y, sensitive


def _evaluate(obj):
    logits, y, sensitive = _batch()
    if isinstance(obj, WorstGroupLoss) and not hasattr(obj, "group_counts_"):
        obj.set_group_counts(sensitive)
    if isinstance(obj, GroupScalingBase):
        loss = torch.nn.functional.cross_entropy(logits, y, reduction="none")
        obj.update(loss, y, sensitive)
        return obj(loss, y, sensitive)
    return obj(logits, y, sensitive, None, sensitive.float())


def test_public_api():
    assert sorted(fairness.__all__) == sorted(
        [cls.__name__ for cls in CLASSES]
        + ["PenaltyBase", "GroupScalingBase", "GroupThresholds", "FAIRNESS", "get_fairness",
           "FairIdentityNormalizer"]  # a network layer (tests/test_identity_normalization.py)
    )
    for cls in CLASSES:
        assert cls.__doc__ and "Examples" in cls.__doc__
        assert issubclass(cls, BaseEstimator) and issubclass(cls, nn.Module)
    for cls in CLASSES[:5]:
        assert issubclass(cls, PenaltyBase)
    for cls in CLASSES[5:]:
        assert issubclass(cls, GroupScalingBase)


@pytest.mark.parametrize("cls, params", NON_DEFAULT)
def test_get_set_params_and_clone(cls, params):
    obj = cls(**params)
    assert {k: obj.get_params()[k] for k in params} == params
    default = cls()
    default.set_params(**params)
    assert default.get_params() == obj.get_params()
    cloned = clone(obj.set_groups([2, 3]))
    assert cloned is not obj
    assert cloned.get_params() == obj.get_params()
    assert not hasattr(cloned, "n_groups_")  # clone forgets what set_groups learned
    assert "group_weights_" not in dict(cloned.named_buffers())


@pytest.mark.parametrize("cls, params", NON_DEFAULT)
def test_pickle_and_deepcopy_keep_params_and_results(cls, params):
    obj = cls(**params).set_groups([2, 3], numeric=[False, False])
    if cls is DistanceCovariance:
        obj.set_params(continuous="auto")
    value = _evaluate(obj)
    for restored in (pickle.loads(pickle.dumps(obj)), copy.deepcopy(obj)):
        assert restored.get_params() == obj.get_params()
        assert restored.n_groups_ == [2, 3]
        if isinstance(obj, WorstGroupLoss):
            assert torch.equal(restored.group_weights_, obj.group_weights_)
            # Same state -> same next step.
            torch.testing.assert_close(_evaluate(restored), _evaluate(copy.deepcopy(obj)))
        else:
            torch.testing.assert_close(_evaluate(restored), value)


@pytest.mark.parametrize("cls, params", NON_DEFAULT)
def test_repr_is_scikit_learn_style(cls, params):
    assert repr(cls()) == f"{cls.__name__}()"
    text = repr(cls(**params))
    assert text.startswith(f"{cls.__name__}(")
    for key in params:
        assert key in text


@pytest.mark.parametrize("cls", CLASSES)
def test_set_groups_validates(cls):
    obj = cls()
    assert obj.set_groups([2, 3]) is obj
    assert obj.n_groups_ == [2, 3] and obj.numeric_ is None
    with pytest.raises(ValueError, match="n_groups"):
        cls().set_groups([])
    with pytest.raises(ValueError, match="n_groups"):
        cls().set_groups([2, 0])
    with pytest.raises(ValueError, match="numeric"):
        cls().set_groups([2, 3], numeric=[True])


def test_grid_search_style_nested_params():
    # A holder that stores a penalty as a parameter exposes penalty__param (as the estimator).
    class Holder(BaseEstimator):
        def __init__(self, fairness=None):
            self.fairness = fairness

    holder = Holder(fairness=DemographicParity())
    assert holder.get_params()["fairness__aggregate"] == "mean"
    holder.set_params(fairness__aggregate="max")
    assert holder.fairness.aggregate == "max"
    assert clone(holder).fairness.aggregate == "max"


@pytest.mark.parametrize("cls", CLASSES)
def test_no_trainable_parameters(cls):
    # Penalties and scalings add no parameters to the optimiser.
    assert list(cls().set_groups([2, 3]).parameters()) == []


def test_get_fairness_aliases_and_objects():
    for alias, factory in fairness.FAIRNESS.items():
        obj = fairness.get_fairness(alias)
        assert isinstance(obj, (PenaltyBase, GroupScalingBase)), alias
        assert repr(obj) == repr(factory())
    assert fairness.get_fairness(None) is None
    original = DemographicParity(aggregate="max").set_groups([2])
    fresh = fairness.get_fairness(original)
    assert fresh is not original and fresh.aggregate == "max"
    assert not hasattr(fresh, "n_groups_")
    with pytest.raises(ValueError, match="Unknown fairness 'parity'"):
        fairness.get_fairness("parity")
    with pytest.raises(TypeError, match="fairness must be"):
        fairness.get_fairness(3)
