"""Epoch schedules under early stopping: a schedule that never acted on the kept model warns,
and temperature sampling whose cooldown never ran still gets the prior correction. Also the
cooldown's per-epoch sampling probabilities against the paper's formula."""

import warnings

import numpy as np
import pytest
from skorch.callbacks import Callback

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


@pytest.mark.parametrize("schedule", ["step", "linear"])
def test_a_cooldown_that_never_ran_warns_and_keeps_probabilities_at_the_base_rate(rare,
                                                                                  schedule):
    X, y, group = rare
    sampler = WeightedBatchSampler(TemperatureSampling(tau=10.0), cooldown=0.5,
                                   cooldown_schedule=schedule)
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


class _RecordSampling(Callback):
    """Records the sampling weights each epoch trains with (after the package's schedule)."""

    def initialize(self):
        self.seen_ = []
        return self

    def on_epoch_begin(self, net, **kwargs):
        weights = net.train_iterator_.sampling_weights
        self.seen_.append(None if weights is None else weights.numpy().copy())


def _paper_class_probabilities(counts, tau):
    """Li et al. 2025 (Lemma 2.1): p(j; tau) = D_j ** (1 / tau) / sum_k D_k ** (1 / tau)."""
    powered = counts ** (1.0 / tau)
    return powered / powered.sum()


@pytest.mark.parametrize("schedule", ["step", "linear"])
def test_cooldown_samples_each_epoch_with_the_papers_class_probabilities(rare, schedule):
    X, y, group = rare
    X, y, group = X[:600], y[:600], group[:600]
    tau, max_epochs, cooldown = 5.0, 8, 0.5
    record = _RecordSampling()
    sampler = WeightedBatchSampler(TemperatureSampling(tau=tau), cooldown=cooldown,
                                   cooldown_schedule=schedule)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = FairLossClassifier(hidden_layer_sizes=(4,), batch_size=200,
                                 max_epochs=max_epochs, early_stopping=False,
                                 batch_sampler=sampler, callbacks=[("record", record)],
                                 random_state=0).fit(X, y)
    record = dict(clf.net_.callbacks_)["record"]  # the fitted copy
    counts = np.bincount(y).astype(float)
    # the schedule written out by hand: tau for epochs 1-4, then the cooldown's 4 epochs
    if schedule == "step":  # the paper's COOLDOWN: tau, then tau = 1 (proportional)
        taus = [tau] * 4 + [1.0] * 4
    else:  # 1 / tau rises linearly to 1 over the 4 cooldown epochs
        taus = [tau] * 4 + [1.0 / (1 / tau + (1 - 1 / tau) * k / 4) for k in (1, 2, 3, 4)]
    assert len(record.seen_) == max_epochs
    for epoch, (weights, tau_e) in enumerate(zip(record.seen_, taus)):
        if weights is None:  # uniform shuffling: proportional sampling, tau = 1
            assert tau_e == 1.0, epoch
            continue
        assert len(weights) == len(y)  # no validation split without early stopping
        drawn = np.bincount(y, weights=weights) / weights.sum()
        np.testing.assert_allclose(drawn, _paper_class_probabilities(counts, tau_e),
                                   rtol=1e-10, err_msg=f"epoch {epoch + 1}")


def test_a_linear_cooldown_stopped_part_way_corrects_with_the_kept_epochs_tau(rare):
    """Early stopping keeps an epoch inside a linear cooldown: the model was trained on the
    class probabilities p(j; tau_e) of that epoch (Li et al. 2025, Lemma 2.1), with
    1 / tau_e between 1 / tau and 1, so predict_proba must undo that shift (not none, as
    after a finished cooldown, nor the full tau's)."""
    X, y, group = rare
    tau, max_epochs, cooldown = 10.0, 20, 0.9
    sampler = WeightedBatchSampler(TemperatureSampling(tau=tau), cooldown=cooldown,
                                   cooldown_schedule="linear")
    clf, _ = _fit(X, y, group, batch_sampler=sampler, max_epochs=max_epochs,
                  linear_start=False)
    uniform_from = int(np.ceil((1 - cooldown) * max_epochs))  # first cooldown epoch, 0-based
    kept = dict(clf.net_.callbacks_)["stopping"].best_epoch_ - 1
    assert uniform_from <= kept < max_epochs - 1  # part-way through the cooldown
    # the schedule by hand: cooldown epoch k = kept - uniform_from + 1 of m samples with the
    # weights ** ((m - k) / m), i.e. 1 / tau_e = share / tau + (1 - share)
    m = max_epochs - uniform_from
    share = (m - (kept - uniform_from + 1)) / m
    tau_e = 1.0 / (share / tau + 1.0 - share)
    counts = np.bincount(y).astype(float)  # the training part is a stratified 90 %
    trained = _paper_class_probabilities(counts, tau_e)
    expected = np.log(counts / counts.sum()) - np.log(trained)
    expected -= expected.mean()
    np.testing.assert_allclose(clf._log_prior_shift, expected, atol=0.02)
    # neither "no correction" (a finished cooldown) nor the full tau's correction
    full = np.log(counts / counts.sum()) - np.log(_paper_class_probabilities(counts, tau))
    assert abs(clf._log_prior_shift[1]) > 0.5
    assert abs(clf._log_prior_shift[1] - (full - full.mean())[1]) > 0.1
