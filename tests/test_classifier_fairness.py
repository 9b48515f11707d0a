"""FairLossClassifier with fairness terms: composition, history, warm-up, stratified batches."""

import numpy as np
import pytest
import torch
from fairlearn.metrics import demographic_parity_difference as fairlearn_dp
from sklearn.model_selection import GridSearchCV

from sklearn_fairloss import FairLossClassifier
from sklearn_fairloss._net import stratified_permutation
from sklearn_fairloss.fairness import DemographicParity, WorstGroupLoss
from sklearn_fairloss.losses import LossBase

PARAMS = dict(hidden_layer_sizes=(16,), max_epochs=15, lr=1e-2, batch_size=64, random_state=0)


@pytest.fixture(scope="module")
def biased():
    """Labels that depend on a binary group, which is also visible in the features."""
    rng = np.random.default_rng(0)
    n = 600
    group = rng.integers(0, 2, n)
    X = np.column_stack([rng.normal(size=n) + 1.5 * group, rng.normal(size=(n, 3))])
    y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(scale=0.5, size=n) > 0.75).astype(int)
    return X, y, group


def test_strength_zero_is_the_plain_model(biased):
    X, y, group = biased
    plain = FairLossClassifier(**PARAMS).fit(X, y, sensitive_features=group)
    zero = FairLossClassifier(**PARAMS, fairness=DemographicParity(), fairness_strength=0.0)
    zero.fit(X, y, sensitive_features=group)
    np.testing.assert_allclose(zero.predict_proba(X), plain.predict_proba(X), atol=1e-6)


def test_history_total_is_data_loss_plus_strength_times_penalty(biased):
    X, y, group = biased
    clf = FairLossClassifier(**PARAMS, fairness="demographic_parity", fairness_strength=3.0,
                             fairness_warmup=4).fit(X, y, sensitive_features=group)
    h = clf.history_
    assert {"data_loss", "fairness_penalty", "fairness_strength"} <= set(h.columns)
    expected_strength = 3.0 * np.minimum(1.0, h["epoch"].to_numpy() / 4)
    np.testing.assert_allclose(h["fairness_strength"], expected_strength)
    np.testing.assert_allclose(h["train_loss"],
                               h["data_loss"] + h["fairness_strength"] * h["fairness_penalty"],
                               rtol=1e-5)
    assert (h["fairness_penalty"] >= 0).all()


def test_demographic_parity_penalty_closes_the_gap(biased):
    X, y, group = biased
    params = {**PARAMS, "max_epochs": 40}
    plain = FairLossClassifier(**params).fit(X, y, sensitive_features=group)
    fair = FairLossClassifier(**params, fairness=DemographicParity(), fairness_strength=5.0)
    fair.fit(X, y, sensitive_features=group)
    gap_plain = fairlearn_dp(y, plain.predict(X), sensitive_features=group)
    gap_fair = fairlearn_dp(y, fair.predict(X), sensitive_features=group)
    assert gap_plain > 0.3
    assert gap_fair < 0.5 * gap_plain


def test_worst_group_scaling_moves_its_group_weights(biased):
    X, y, group = biased
    clf = FairLossClassifier(**PARAMS, fairness=WorstGroupLoss(step_size=0.1))
    clf.fit(X, y, sensitive_features=group)
    q = clf.fairness_.group_weights_.numpy()
    assert q.shape == (2,) and abs(q.sum() - 1) < 1e-5 and abs(q[0] - q[1]) > 1e-3
    h = clf.history_
    # for a scaling the "penalty" is the scaled loss minus the data loss
    np.testing.assert_allclose(h["train_loss"], h["data_loss"] + h["fairness_penalty"],
                               rtol=1e-5)


def test_fairness_needs_sensitive_features(biased):
    X, y, _ = biased
    with pytest.raises(ValueError, match="needs the protected attribute"):
        FairLossClassifier(**PARAMS, fairness="demographic_parity").fit(X, y)


class _BatchOnlyLoss(LossBase):
    def forward(self, logits, y, sample_weight=None):
        return torch.nn.functional.cross_entropy(logits, y)


def test_scaling_needs_a_per_row_loss(biased):
    X, y, group = biased
    clf = FairLossClassifier(**PARAMS, loss=_BatchOnlyLoss(), fairness="worst_group")
    with pytest.raises(ValueError, match="not a mean of per-row losses"):
        clf.fit(X, y, sensitive_features=group)


@pytest.mark.parametrize("params, message", [
    ({"fairness_strength": -1.0}, "fairness_strength must be a number"),
    ({"fairness_warmup": -2}, "fairness_warmup must be a non-negative integer"),
    ({"fairness": "fairest"}, "Unknown fairness"),
])
def test_bad_fairness_parameters(biased, params, message):
    X, y, group = biased
    with pytest.raises(ValueError, match=message):
        FairLossClassifier(**PARAMS, **params).fit(X, y, sensitive_features=group)


def test_gridsearch_tunes_strength_and_penalty_parameters(biased):
    X, y, group = biased
    grid = GridSearchCV(
        FairLossClassifier(**{**PARAMS, "max_epochs": 3}, fairness=DemographicParity()),
        {"fairness_strength": [0.0, 1.0], "fairness__aggregate": ["mean", "max"]}, cv=2)
    grid.fit(X, y, sensitive_features=group)
    assert len(grid.cv_results_["params"]) == 4


def test_stratified_permutation_spreads_every_stratum():
    rng = np.random.default_rng(0)
    strata = torch.as_tensor(rng.choice(6, size=1000, p=[0.5, 0.2, 0.15, 0.1, 0.04, 0.01]))
    perm = stratified_permutation(strata, torch.Generator().manual_seed(0))
    assert sorted(perm.tolist()) == list(range(1000))
    counts = torch.bincount(strata).numpy()
    batch = 100  # each stratum's count in any batch is within 2 of its proportional share
    for start in range(0, 1000, batch):
        in_batch = torch.bincount(strata[perm[start:start + batch]], minlength=6).numpy()
        expected = counts * batch / 1000
        assert np.all(np.abs(in_batch - expected) < 2)
        assert np.all(in_batch[expected >= 2] >= 1)
    # a plain shuffle gives no such guarantee: the rarest stratum misses some batches
    plain = torch.randperm(1000, generator=torch.Generator().manual_seed(0))
    misses = [int((strata[plain[s:s + batch]] == 4).sum()) == 0 for s in range(0, 1000, batch)]
    assert any(misses)


def test_stratify_batches_puts_every_group_in_every_batch(biased, monkeypatch):
    from sklearn_fairloss._net import FairLossNet

    X, y, _ = biased
    group = np.where(np.arange(len(y)) % 20 == 0, 2, np.arange(len(y)) % 2)  # a 5% group
    seen = []
    original = FairLossNet.get_loss

    def record(net, y_pred, y_true, X=None, training=False):
        if training:
            seen.append(set(X["sensitive"][:, 0].tolist()))
        return original(net, y_pred, y_true, X=X, training=training)

    monkeypatch.setattr(FairLossNet, "get_loss", record)
    FairLossClassifier(**{**PARAMS, "max_epochs": 2, "early_stopping": False},
                       stratify_batches=True).fit(
        X, y, sensitive_features=group)
    assert len(seen) == 2 * int(np.ceil(len(y) / 64))
    assert all(s == {0, 1, 2} for s in seen)


def test_validation_loss_uses_the_full_strength_during_warm_up(biased, monkeypatch):
    from sklearn_fairloss._net import FairLossNet

    X, y, group = biased
    seen, held_out = [], []
    original = FairLossNet.get_loss

    def record(net, y_pred, y_true, X=None, training=False):
        seen.append((training, net.criterion_.strength, net.criterion_.fairness_strength))
        held_out.append(net.train_split)  # the fitted net keeps no rows: read them here
        return original(net, y_pred, y_true, X=X, training=training)

    monkeypatch.setattr(FairLossNet, "get_loss", record)
    clf = FairLossClassifier(**{**PARAMS, "max_epochs": 3}, fairness="demographic_parity",
                             fairness_strength=4.0, fairness_warmup=3, early_stopping=True)
    clf.fit(X, y, sensitive_features=group)
    # training batches see the ramp 4/3, 8/3, 4; the valid_loss of each epoch equals the
    # data loss plus the full strength times the penalty, recomputed here on the held-out rows
    assert sorted({round(s, 6) for t, s, _ in seen if t}) == [1.333333, 2.666667, 4.0]
    h = clf.history_
    assert (h["fairness_strength"].to_numpy() < 4.0).sum() == 2
    valid = held_out[0].keywords["valid_ds"]
    with torch.no_grad():
        logits = clf.net_.module_(valid.X)
        batch = {"sample_weight": valid.sample_weight, **valid.extras}
        data = clf.loss_(logits, valid.y, sample_weight=valid.sample_weight)
        penalty = clf.fairness_(logits, valid.y, batch["sensitive"],
                                sample_weight=valid.sample_weight)
    best = int(h["valid_loss"].to_numpy().argmin())
    assert h["valid_loss"].iloc[best] == pytest.approx(float(data + 4.0 * penalty), rel=1e-4)


def test_pickled_fair_model_keeps_its_fitted_terms(biased):
    import pickle

    X, y, group = biased
    clf = FairLossClassifier(**{**PARAMS, "max_epochs": 3},
                             fairness=WorstGroupLoss(step_size=0.1)).fit(
        X, y, sensitive_features=group)
    restored = pickle.loads(pickle.dumps(clf))
    assert restored.fairness_ is restored.net_.criterion_.fairness
    np.testing.assert_array_equal(restored.fairness_.group_weights_.numpy(),
                                  clf.fairness_.group_weights_.numpy())
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
