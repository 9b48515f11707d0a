"""Epoch schedules under early stopping: a schedule that never acted on the kept model warns,
and temperature sampling whose cooldown never ran still gets the prior correction."""

import warnings

import numpy as np
import pytest

from sklearn_fairloss import FairLossClassifier
from sklearn_fairloss.fairness import DemographicParity
from sklearn_fairloss.losses import CaPELoss, LDAMLoss
from sklearn_fairloss.weighting import TemperatureSampling, WeightedBatchSampler

STOP_EARLY = dict(hidden_layer_sizes=(16,), batch_size=128, lr=0.05, max_epochs=60,
                  early_stopping=True, n_iter_no_change=2, random_state=0)


@pytest.fixture(scope="module")
def rare():
    """A 5 % positive class that a network learns in a few epochs."""
    rng = np.random.default_rng(0)
    n = 4000
    X = rng.normal(size=(n, 4))
    y = (X[:, 0] + 0.3 * rng.normal(size=n) > 1.65).astype(int)
    group = rng.integers(0, 2, n)
    return X, y, group


def _fit(X, y, group, **params):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf = FairLossClassifier(**{**STOP_EARLY, **params}).fit(X, y, sensitive_features=group)
    return clf, [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


def test_ldam_reweighting_that_never_started_warns(rare):
    X, y, group = rare
    clf, messages = _fit(X, y, group, loss=LDAMLoss(drw_start=0.8))
    assert clf.n_iter_ < 0.8 * STOP_EARLY["max_epochs"]  # stopped before the switch
    assert any("deferred re-weighting" in m and "never applied" in m for m in messages)
    _, quiet = _fit(X, y, group, loss=LDAMLoss(drw_start=0.8), early_stopping=False,
                    max_epochs=6, n_iter_no_change=10)
    assert not [m for m in quiet if "re-weighting" in m]


def test_cape_without_a_calibration_epoch_warns(rare):
    X, y, group = rare
    _, messages = _fit(X, y, group, loss=CaPELoss(warmup_epochs=30))
    assert any("CaPE's calibration epochs" in m for m in messages)
    _, quiet = _fit(X, y, group, loss=CaPELoss(warmup_epochs=1), early_stopping=False,
                    max_epochs=4)
    assert not [m for m in quiet if "CaPE" in m]


def test_fairness_warm_up_unfinished_at_the_kept_epoch_warns(rare):
    X, y, group = rare
    clf, messages = _fit(X, y, group, fairness=DemographicParity(warmup=50))
    assert any("warm-up (warmup=50)" in m for m in messages)
    _, quiet = _fit(X, y, group, fairness=DemographicParity(warmup=1))
    assert not [m for m in quiet if "warm-up" in m]


def test_a_cooldown_that_never_ran_warns_and_keeps_probabilities_at_the_base_rate(rare):
    X, y, group = rare
    sampler = WeightedBatchSampler(TemperatureSampling(tau=10.0), cooldown=0.5)
    clf, messages = _fit(X, y, group, batch_sampler=sampler)
    assert clf.n_iter_ < 30  # stopped before the cooldown was due
    assert any("cooldown" in m and "never ran" in m for m in messages)
    # before the fix the prior correction was dropped: mean probability 0.38 at a 5 % base
    # rate; the tempered sampling's prior shift is now undone
    mean_proba = clf.predict_proba(X)[:, 1].mean()
    assert mean_proba == pytest.approx(y.mean(), abs=0.03)


def test_a_cooldown_that_ran_restores_the_prior_without_correction(rare):
    X, y, group = rare
    sampler = WeightedBatchSampler(TemperatureSampling(tau=10.0), cooldown=0.5)
    clf, messages = _fit(X, y, group, batch_sampler=sampler, early_stopping=False,
                         max_epochs=6, n_iter_no_change=10)
    assert not [m for m in messages if "cooldown" in m]
    np.testing.assert_allclose(clf._log_prior_shift, 0.0, atol=1e-12)
