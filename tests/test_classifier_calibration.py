"""FairLossClassifier: prior correction, decision rules, calibration terms, post-calibration."""

import numpy as np
import pandas as pd
import pytest
from sklearn import config_context
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import make_classification
from sklearn.metrics import f1_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_fairloss import FairLossClassifier
from sklearn_fairloss.calibration import TemperatureScaling
from sklearn_fairloss.losses import CrossEntropyLoss, LogitAdjustedLoss
from sklearn_fairloss.metrics import expected_calibration_error

# the plain network on all rows (features as given, no early-stopping split): the tests
# compare the net's logits on X with closed forms
PARAMS = dict(hidden_layer_sizes=(16,), max_epochs=20, lr=1e-2, batch_size=64, random_state=0,
              early_stopping=False, numerical_embedding=None, feature_scaling=None,
              linear_start=False)


@pytest.fixture(scope="module")
def imbalanced():
    X, y = make_classification(n_samples=800, n_features=6, n_informative=4, weights=[0.85],
                               flip_y=0.05, random_state=0)
    group = (X[:, 0] > 0).astype(int)
    return X, y, group


def test_logit_adjusted_loss_probabilities_undo_the_shift(imbalanced):
    X, y, _ = imbalanced
    clf = FairLossClassifier(**PARAMS, loss=LogitAdjustedLoss(tau=1.0)).fit(X, y)
    logits = clf.net_.predict_logits(X.astype(np.float32))
    prior = np.bincount(y) / len(y)
    shifted = logits + np.log(prior)  # the loss's log_prior_shift: tau * log(prior)
    expected = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(clf.predict_proba(X), expected, atol=1e-6)
    # predictions follow the training objective (balanced error): more minority predictions
    plain = FairLossClassifier(**PARAMS).fit(X, y)
    assert (clf.predict(X) == 1).sum() > (plain.predict(X) == 1).sum()
    np.testing.assert_array_equal(clf.predict(X), np.argmax(logits, axis=1))


def test_decision_rules(imbalanced):
    X, y, _ = imbalanced
    proba = FairLossClassifier(**PARAMS).fit(X, y).predict_proba(X)
    prior = np.bincount(y) / len(y)
    balanced = FairLossClassifier(**PARAMS, decision="balanced").fit(X, y)
    np.testing.assert_array_equal(balanced.predict(X), np.argmax(proba / prior, axis=1))
    threshold = FairLossClassifier(**PARAMS, decision=0.3).fit(X, y)
    assert threshold.threshold_ == 0.3
    np.testing.assert_array_equal(threshold.predict(X), (proba[:, 1] >= 0.3).astype(int))
    by_proba = FairLossClassifier(**PARAMS, decision="proba").fit(X, y)
    np.testing.assert_array_equal(by_proba.predict(X), np.argmax(proba, axis=1))


def test_metric_tuned_threshold_beats_one_half_on_imbalanced_data(imbalanced):
    X, y, _ = imbalanced
    X_test, y_test = make_classification(n_samples=4000, n_features=6, n_informative=4,
                                         weights=[0.85], flip_y=0.05, random_state=0)[0:2]
    tuned = FairLossClassifier(**PARAMS, decision="f1", validation_fraction=0.3).fit(X, y)
    assert 0 < tuned.threshold_ < 0.5  # a rare positive class wants a lower threshold
    plain = FairLossClassifier(**PARAMS, validation_fraction=0.3)
    plain.fit(X, y)
    p = tuned.predict_proba(X)[:, 1]
    np.testing.assert_array_equal(tuned.predict(X), (p >= tuned.threshold_).astype(int))
    # the tuned rule scores better F1 than the 0.5 rule of the same network on the same rows
    assert f1_score(y, tuned.predict(X)) > f1_score(y, (p >= 0.5).astype(int))


@pytest.mark.parametrize("params, message", [
    ({"decision": "f1"}, "needs a binary y"),
    ({"decision": 0.4}, "needs a binary y"),
    ({"decision": 1.5}, "threshold must be in \\(0, 1\\)"),
    ({"decision": "best"}, "decision must be 'argmax'"),
    ({"post_calibration": "platt"}, "platt"),
    ({"calibration": "ece"}, "Unknown calibration penalty"),
])
def test_bad_decision_and_calibration_parameters(params, message):
    X, y = make_classification(n_samples=90, n_classes=3, n_informative=4, random_state=0)
    with pytest.raises(ValueError, match=message):
        FairLossClassifier(max_epochs=1, **params).fit(X, y)


def test_calibration_penalty_joins_the_objective(imbalanced):
    X, y, _ = imbalanced
    clf = FairLossClassifier(**PARAMS, calibration="mmce", calibration_strength=2.0).fit(X, y)
    h = clf.history_
    np.testing.assert_allclose(h["train_loss"], h["data_loss"] + 2.0 * h["calibration_penalty"],
                               rtol=1e-5)
    assert (h["calibration_penalty"] >= 0).all()


class _RecordingLoss(CrossEntropyLoss):
    def set_epoch(self, epoch, max_epochs):
        self.epochs_ = [*getattr(self, "epochs_", []), (epoch, max_epochs)]
        return self


def test_loss_hears_every_epoch(imbalanced):
    X, y, _ = imbalanced
    clf = FairLossClassifier(**{**PARAMS, "max_epochs": 4}, loss=_RecordingLoss()).fit(X, y)
    assert clf.loss_.epochs_ == [(0, 4), (1, 4), (2, 4), (3, 4)]


def test_cape_targets_are_refitted_during_training(imbalanced):
    from sklearn_fairloss.calibration import CaPELoss

    X, y, _ = imbalanced
    clf = FairLossClassifier(**{**PARAMS, "max_epochs": 4},
                             loss=CaPELoss(warmup_epochs=1, n_ce_epochs=1)).fit(X, y)
    # epochs 0 (warm-up) and 1 (first calibration epoch): the map was fitted from the
    # model's scores on the training rows
    assert clf.loss_.epoch_ == 3
    assert clf.loss_.n_classes_ == 2 and clf.loss_.maps_ is not None


def test_temperature_post_calibration_on_held_out_split(imbalanced):
    X, y, _ = imbalanced
    # an over-confident network: large, long training without early stopping
    params = {**PARAMS, "hidden_layer_sizes": (128, 128), "max_epochs": 150, "tol": 0.0,
              "n_iter_no_change": 150}
    raw = FairLossClassifier(**params).fit(X, y)
    cal = FairLossClassifier(**params, post_calibration="temperature").fit(X, y)
    assert isinstance(cal.post_calibrator_, TemperatureScaling)
    assert cal.post_calibrator_.temperature_ > 1.0  # over-confidence is cooled down
    X_test, y_test = make_classification(n_samples=4000, n_features=6, n_informative=4,
                                         weights=[0.85], flip_y=0.05, random_state=0)[0:2]
    logits = cal._logits(X_test) / cal.post_calibrator_.temperature_
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(cal.predict_proba(X_test), expected, rtol=1e-10)
    # temperature keeps the argmax
    np.testing.assert_array_equal(np.argmax(cal.predict_proba(X_test), 1),
                                  np.argmax(cal._logits(X_test), 1))
    assert raw.n_iter_ == 150


def test_group_post_calibration_needs_and_routes_sensitive_features(imbalanced):
    X, y, group = imbalanced
    clf = FairLossClassifier(**PARAMS, post_calibration="group_temperature")
    with pytest.raises(ValueError, match="sensitive"):
        clf.fit(X, y)
    clf.fit(X, y, sensitive_features=group)
    with pytest.raises(ValueError, match="calibrates per group: pass sensitive_features"):
        clf.predict_proba(X)
    proba = clf.predict_proba(X, sensitive_features=group)
    temperatures = clf.post_calibrator_.group_temperatures_
    logits = clf._logits(X) / np.asarray(temperatures)[group][:, None]
    np.testing.assert_allclose(proba, np.exp(logits) / np.exp(logits).sum(1, keepdims=True),
                               rtol=1e-8)
    # column names of a DataFrame X are found again at predict time
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])]).assign(g=group)
    by_name = FairLossClassifier(**PARAMS, post_calibration="group_temperature")
    by_name.fit(frame, y, sensitive_features="g")
    np.testing.assert_allclose(by_name.predict_proba(frame),
                               by_name.predict_proba(frame, sensitive_features=group))
    # metadata routing through a pipeline's fit, predict_proba and predict
    with config_context(enable_metadata_routing=True):
        routed = FairLossClassifier(**PARAMS, post_calibration="group_temperature")
        routed.set_fit_request(sensitive_features=True)
        routed.set_predict_proba_request(sensitive_features=True)
        routed.set_predict_request(sensitive_features=True)
        pipe = make_pipeline(StandardScaler(), routed).fit(X, y, sensitive_features=group)
    direct = make_pipeline(StandardScaler(), FairLossClassifier(
        **PARAMS, post_calibration="group_temperature"))
    direct.fit(X, y, fairlossclassifier__sensitive_features=group)
    with config_context(enable_metadata_routing=True):
        np.testing.assert_allclose(pipe.predict_proba(X, sensitive_features=group),
                                   direct[-1].predict_proba(direct[0].transform(X),
                                                            sensitive_features=group))
        assert pipe.predict(X, sensitive_features=group).shape == y.shape


def test_works_inside_calibrated_classifier_cv(imbalanced):
    X, y, _ = imbalanced
    for method in ("sigmoid", "isotonic", "temperature"):
        cal = CalibratedClassifierCV(FairLossClassifier(**{**PARAMS, "max_epochs": 5}),
                                     method=method, cv=2).fit(X, y)
        proba = cal.predict_proba(X)
        assert proba.shape == (len(y), 2)
        assert expected_calibration_error(y, proba) < 0.2


def test_temperature_sampling_draws_classes_by_the_papers_formula(imbalanced, monkeypatch):
    from sklearn_fairloss._net import FairLossNet

    X, y, _ = imbalanced
    epochs = []
    original_begin = FairLossNet.on_epoch_begin
    original_loss = FairLossNet.get_loss

    def begin(net, *args, **kwargs):
        epochs.append([])
        return original_begin(net, *args, **kwargs)

    def record(net, y_pred, y_true, X=None, training=False):
        if training:
            epochs[-1].append(y_true.double().numpy())
        return original_loss(net, y_pred, y_true, X=X, training=training)

    monkeypatch.setattr(FairLossNet, "on_epoch_begin", begin)
    monkeypatch.setattr(FairLossNet, "get_loss", record)
    tau = 4.0
    clf = FairLossClassifier(**{**PARAMS, "max_epochs": 10}, sampling_temperature=tau,
                             sampling_cooldown=0.2).fit(X, y)
    counts = np.bincount(y)
    share = counts[1] ** (1 / tau) / np.sum(counts ** (1 / tau))  # class mass ~ n_c^(1/tau)
    sampled = np.concatenate([np.concatenate(e) for e in epochs[:8]])
    se = np.sqrt(share * (1 - share) / len(sampled))
    assert abs(sampled.mean() - share) < 5 * se
    # cooldown: the last 20% of the epochs see every row exactly once
    for e in epochs[8:]:
        labels = np.concatenate(e)
        assert len(labels) == len(y) and labels.sum() == y.sum()
    # with a cooldown no prior correction is applied
    np.testing.assert_allclose(clf._log_prior_shift, 0.0, atol=1e-12)


def test_temperature_sampling_without_cooldown_corrects_the_prior(imbalanced):
    X, y, _ = imbalanced
    tau = 4.0
    clf = FairLossClassifier(**PARAMS, sampling_temperature=tau).fit(X, y)
    counts = np.bincount(y).astype(float)
    data_prior = counts / counts.sum()
    sampled_prior = counts ** (1 / tau) / np.sum(counts ** (1 / tau))
    shift = np.log(data_prior) - np.log(sampled_prior)
    logits = clf.net_.predict_logits(X.astype(np.float32)) + shift
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(clf.predict_proba(X), expected, atol=1e-6)
    with pytest.raises(ValueError, match="cannot be combined"):
        FairLossClassifier(**PARAMS, sampling_temperature=2.0, stratify_batches=True).fit(X, y)
