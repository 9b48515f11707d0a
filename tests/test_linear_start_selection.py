"""The logistic-regression start competes with every epoch under early stopping (issue 13).

References: a closed form (a zero-weight model's cross-entropy is ln 2 per row), and
scikit-learn's ``LogisticRegression`` fitted on the same rows (the kept start is refitted on
every training row).
"""

import warnings

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from skorch import NeuralNet
from skorch.dataset import Dataset
from skorch.helper import predefined_split
from torch import nn

from sklearn_fairloss import FairLossClassifier
from sklearn_fairloss._callbacks import EarlyStoppingFromStart
from sklearn_fairloss.weighting import TemperatureSampling, WeightedBatchSampler


def _logistic_rows(n, seed=0, d=5):
    rng = np.random.default_rng(seed)
    coef = np.random.default_rng(123).normal(size=d)
    X = rng.normal(size=(n, d))
    return X, (rng.random(n) < 1 / (1 + np.exp(-X @ coef))).astype(int)


def _zero_net(lr, X, y):
    module = nn.Linear(X.shape[1], 2)
    nn.init.zeros_(module.weight)
    nn.init.zeros_(module.bias)
    valid = Dataset(X[:40], y[:40])
    stopping = EarlyStoppingFromStart(patience=3, threshold=1e-4, threshold_mode="abs",
                                      load_best=True)
    return NeuralNet(module, criterion=nn.CrossEntropyLoss, optimizer=torch.optim.SGD, lr=lr,
                     max_epochs=6, batch_size=16, train_split=predefined_split(valid),
                     callbacks=[("stopping", stopping)], verbose=0), stopping


def test_the_start_is_scored_as_epoch_zero_and_restored_when_no_epoch_beats_it():
    X, y = _logistic_rows(200)
    X, y = X.astype(np.float32), y.astype(np.int64)
    net, stopping = _zero_net(0.0, X, y)  # lr 0: no epoch can improve on the start
    net.fit(X[40:], y[40:])
    assert stopping.start_loss_ == pytest.approx(np.log(2), abs=1e-6)  # zero logits: ln 2
    assert stopping.best_epoch_ == 0
    assert len(net.history) == 3  # patience 3 counted from the start
    np.testing.assert_array_equal(net.module_.weight.detach().numpy(), 0.0)


def test_an_epoch_that_improves_on_the_start_is_kept():
    X, y = _logistic_rows(200)
    X, y = X.astype(np.float32), y.astype(np.int64)
    net, stopping = _zero_net(0.5, X, y)
    net.fit(X[40:], y[40:])
    assert stopping.best_epoch_ >= 1
    kept = net.history[stopping.best_epoch_ - 1, "valid_loss"]
    assert kept < stopping.start_loss_ - 1e-4
    assert np.abs(net.module_.weight.detach().numpy()).max() > 0


def _kept_start(**params):
    """A fit in which no epoch can beat the start: an improvement of more than tol=10."""
    return FairLossClassifier(feature_scaling=None, tol=10.0, n_iter_no_change=2,
                              early_stopping=True, random_state=0, **params)


def test_a_kept_start_is_logistic_regression_refitted_on_every_training_row():
    X, y = _logistic_rows(600)
    X_new, _ = _logistic_rows(500, seed=1)
    clf = _kept_start().fit(X, y)
    assert dict(clf.net_.callbacks_)["stopping"].best_epoch_ == 0
    assert clf.n_iter_ == 2
    reference = LogisticRegression().fit(X, y).predict_proba(X_new)
    np.testing.assert_allclose(clf.predict_proba(X_new), reference, atol=2e-4)
    # the reference can tell: the logistic regression of the 90 % not held out differs
    held_in = LogisticRegression().fit(X[60:], y[60:]).predict_proba(X_new)
    assert np.abs(held_in - reference).max() > 5e-3


def test_a_kept_start_with_post_calibration_is_not_refitted_on_the_held_out_rows():
    X, y = _logistic_rows(600)
    X_new, _ = _logistic_rows(500, seed=1)
    clf = _kept_start(post_calibration="temperature").fit(X, y)
    everything = LogisticRegression().fit(X, y).predict_proba(X_new)
    # the calibrator is fitted on the held-out rows: the model must not have seen them
    assert np.abs(clf.predict_proba(X_new) - everything).max() > 1e-3


def test_no_warning_when_the_default_objective_keeps_its_start():
    X, y = _logistic_rows(300)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _kept_start().fit(X, y)


@pytest.mark.parametrize("params, name", [
    (dict(loss="focal"), "loss=FocalLoss"),
    (dict(calibration="mmce", calibration_strength=1.0), "calibration=MMCE"),
])
def test_a_configured_term_that_never_acted_on_the_kept_start_warns(params, name):
    X, y = _logistic_rows(300)
    with pytest.warns(UserWarning, match=f"{name}.* never acted"):
        _kept_start(**params).fit(X, y)


def test_a_kept_start_under_temperature_sampling_gets_no_prior_correction():
    X, y = _logistic_rows(600)
    y[np.random.default_rng(2).random(len(y)) < 0.5] = 0  # imbalanced: a correction shows
    X_new, _ = _logistic_rows(500, seed=1)
    sampler = WeightedBatchSampler(TemperatureSampling(5.0), cooldown=0.0)
    with pytest.warns(UserWarning, match="temperature sampling"):
        clf = _kept_start(batch_sampler=sampler).fit(X, y)
    reference = LogisticRegression().fit(X, y).predict_proba(X_new)
    np.testing.assert_allclose(clf.predict_proba(X_new), reference, atol=2e-4)


def test_the_start_does_not_compete_without_linear_start_or_under_fairness_bound():
    X, y = _logistic_rows(300)
    clf = FairLossClassifier(linear_start=False, random_state=0, early_stopping=True).fit(X, y)
    assert type(dict(clf.net_.callbacks_)["stopping"]) is not EarlyStoppingFromStart
    clf = FairLossClassifier(fairness="demographic_parity", fairness_bound=0.2, random_state=0,
                             max_epochs=3)
    sex = np.random.default_rng(0).integers(0, 2, len(y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y, sensitive_features=sex)
    assert type(dict(clf.net_.callbacks_)["stopping"]) is not EarlyStoppingFromStart
