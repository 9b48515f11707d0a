"""FairLossClassifier as a composition of named parts: parameters checked before training,
user callbacks, decision rules as objects, deprecated spellings, no half-fitted state."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import Callback

from sklearn_fairloss import FairLossClassifier
from sklearn_fairloss import _classifier as classifier_module
from sklearn_fairloss._net import FairLossNet
from sklearn_fairloss.fairness import DemographicParity
from sklearn_fairloss.losses import FocalLoss
from sklearn_fairloss.postprocessing import GroupThresholds
from sklearn_fairloss.weighting import TemperatureSampling, WeightedBatchSampler

PARAMS = dict(hidden_layer_sizes=(8,), max_epochs=4, lr=1e-2, batch_size=32, random_state=0)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    n = 300
    group = rng.integers(0, 2, n)
    X = np.column_stack([rng.normal(size=n) + group, rng.normal(size=(n, 2))])
    y = (X[:, 0] + rng.normal(scale=0.7, size=n) > 0.8).astype(int)
    return X, y, group


@pytest.mark.parametrize("params, message", [
    ({"loss": FocalLoss(gamma=-1.0)}, r"gamma must be a real number in \[0, inf\)"),
    ({"fairness": DemographicParity(warmup=-2)}, "warmup must be a non-negative integer"),
    ({"decision": GroupThresholds(tolerance=-0.5)}, "tolerance"),
    ({"batch_sampler": WeightedBatchSampler(cooldown=2.0)}, "cooldown"),
])
def test_a_bad_part_fails_before_any_training(data, monkeypatch, params, message):
    def no_training(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(FairLossNet, "fit", no_training)
    X, y, group = data
    with pytest.raises(ValueError, match=message):
        FairLossClassifier(**PARAMS, **params).fit(X, y, sensitive_features=group)


def test_a_failed_fit_leaves_the_estimator_unfitted(data, monkeypatch):
    X, y, group = data
    clf = FairLossClassifier(**PARAMS)

    def broken(*args, **kwargs):
        raise RuntimeError("post-processing failed")

    with monkeypatch.context() as patch:
        patch.setattr(classifier_module, "post_process", broken)
        with pytest.raises(RuntimeError, match="post-processing failed"):
            clf.fit(X, y)
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)
    assert not [name for name in vars(clf) if name.endswith("_")]
    # a failed refit leaves no stale model from the previous fit either
    clf.fit(X, y)
    check_is_fitted(clf)
    with monkeypatch.context() as patch:
        patch.setattr(classifier_module, "post_process", broken)
        with pytest.raises(RuntimeError):
            clf.set_params(max_epochs=2).fit(X, y)
    with pytest.raises(NotFittedError):
        clf.predict(X)
    assert not [name for name in vars(clf) if name.endswith("_")]


class EpochCounter(Callback):
    def __init__(self, seen=None):
        self.seen = seen

    def initialize(self):
        self.seen = []
        return self

    def on_epoch_end(self, net, **kwargs):
        self.seen.append(len(net.history))


@pytest.mark.parametrize("as_pair", [False, True])
def test_user_callbacks_run_every_epoch_and_are_cloned(data, as_pair):
    X, y, _ = data
    counter = EpochCounter()
    callbacks = [("counter", counter)] if as_pair else [counter]
    clf = FairLossClassifier(**PARAMS, callbacks=callbacks).fit(X, y)
    assert counter.seen is None  # the user's object is cloned, never used
    name = "counter" if as_pair else "EpochCounter"
    used = dict(clf.net_.callbacks_)[name]
    assert used.seen == list(range(1, clf.n_iter_ + 1))


def test_the_constructor_is_keyword_only():
    with pytest.raises(TypeError):
        FairLossClassifier((8,), "tanh")
    assert FairLossClassifier((8,)).hidden_layer_sizes == (8,)


def _fit_both(old, new, X, y, group):
    with pytest.warns(FutureWarning, match="deprecated"):
        before = FairLossClassifier(**PARAMS, **old).fit(X, y, sensitive_features=group)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        after = FairLossClassifier(**PARAMS, **new).fit(X, y, sensitive_features=group)
    return before, after


@pytest.mark.parametrize("old, new", [
    ({"stratify_batches": True}, {"batch_sampler": "stratified"}),
    ({"sampling_temperature": 3.0, "sampling_cooldown": 0.5},
     {"batch_sampler": WeightedBatchSampler(TemperatureSampling(tau=3.0),
                                            cooldown=0.5)}),
    ({"fairness": "demographic_parity", "fairness_warmup": 3},
     {"fairness": DemographicParity(warmup=3)}),
    ({"group_thresholds": "demographic_parity"}, {"decision": GroupThresholds()}),
])
def test_deprecated_spellings_warn_and_give_the_same_model(data, old, new):
    X, y, group = data
    before, after = _fit_both(old, new, X, y, group)
    np.testing.assert_array_equal(before.predict_proba(X), after.predict_proba(X))
    np.testing.assert_array_equal(before.predict(X, sensitive_features=group),
                                  after.predict(X, sensitive_features=group))


@pytest.mark.parametrize("params, name", [
    ({"calibration_strength": 2.0}, "calibration_strength"),
    ({"sampling_cooldown": 0.3}, "sampling_cooldown"),
    ({"fairness_warmup": 2}, "fairness_warmup"),
])
def test_a_setting_that_does_nothing_alone_warns(data, params, name):
    X, y, _ = data
    with pytest.warns(UserWarning, match=f"{name} does nothing without"):
        FairLossClassifier(**PARAMS, **params).fit(X, y)


def test_old_and_new_sampler_spellings_cannot_be_mixed(data):
    X, y, _ = data
    with pytest.raises(ValueError, match="set only batch_sampler"):
        FairLossClassifier(**PARAMS, stratify_batches=True, batch_sampler="stratified").fit(X, y)
    with pytest.raises(ValueError, match="Unknown batch_sampler 'nope'"):
        FairLossClassifier(**PARAMS, batch_sampler="nope").fit(X, y)


@pytest.mark.parametrize("decision, n_classes, message", [
    ("f1", 3, "decision='f1' tunes a threshold, which needs a binary y; got 3 classes"),
    (0.3, 3, "decision=0.3 is a probability threshold, which needs a binary y"),
    (GroupThresholds(), 3, r"needs a binary y \(one threshold per group\); got 3 classes"),
    (GroupThresholds(), 2, "chooses one threshold per group: pass sensitive_features to fit"),
])
def test_a_decision_rule_the_data_cannot_serve_fails_before_training(
        data, monkeypatch, decision, n_classes, message):
    def no_training(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(FairLossNet, "fit", no_training)
    X, y, _ = data
    y = np.arange(len(y)) % n_classes
    with pytest.raises(ValueError, match=message):
        FairLossClassifier(**PARAMS, decision=decision).fit(X, y)
