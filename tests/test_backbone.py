"""The network's input stage and body: feature scaling, categorical columns, numerical
embeddings and TabM ensembles (``_features.py``, ``_backbone.py``)."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.special import log_softmax, softmax
from scipy.stats import norm

from sklearn_fairloss import FairLossClassifier
from sklearn_fairloss._backbone import TabularNetwork, numerical_bins
from sklearn_fairloss._features import FeatureEncoder

FAST = dict(hidden_layer_sizes=(16, 16), max_epochs=15, lr=1e-2, batch_size=64, random_state=0,
            early_stopping=False)


def _frame(n=300, seed=0):
    rng = np.random.default_rng(seed)
    city = rng.choice(["north", "south", "east", "west"], size=n)
    size = rng.normal(size=n)
    frame = pd.DataFrame({"size": size, "city": city,
                          "kind": pd.Categorical(rng.choice(["a", "b"], size=n)),
                          "noise": rng.normal(size=n)})
    # the label depends on the city (a text column) and on the numeric column
    y = ((np.isin(city, ["north", "east"]).astype(float) + 0.5 * size
          + 0.3 * rng.normal(size=n)) > 0.5).astype(int)
    return frame, y


def test_a_dataframe_with_text_columns_fits_and_predicts_without_preprocessing():
    frame, y = _frame()
    test, y_test = _frame(seed=1)
    clf = FairLossClassifier(**FAST).fit(frame, y)
    assert clf.n_features_in_ == 4
    assert list(clf.feature_names_in_) == ["size", "city", "kind", "noise"]
    # on new rows, the learned city embeddings carry the signal a model of the numbers alone
    # cannot see
    numbers = ["size", "noise"]
    numbers_only = FairLossClassifier(**FAST).fit(frame[numbers], y)
    assert clf.score(test, y_test) > numbers_only.score(test[numbers], y_test) + 0.1


def test_unseen_and_missing_categories_share_one_code_at_predict():
    frame, y = _frame()
    clf = FairLossClassifier(**FAST).fit(frame, y)
    rows = frame.iloc[:5].copy()
    unseen, other_unseen, missing = rows.copy(), rows.copy(), rows.copy()
    unseen["city"] = "atlantis"
    other_unseen["city"] = "lemuria"
    missing["city"] = None
    proba = clf.predict_proba(unseen)
    assert np.all(np.isfinite(proba))
    np.testing.assert_array_equal(proba, clf.predict_proba(other_unseen))
    np.testing.assert_array_equal(proba, clf.predict_proba(missing))
    assert not np.allclose(proba, clf.predict_proba(rows))


def test_categorical_features_by_name_position_or_mask_agree():
    frame, y = _frame()
    frame = frame.assign(city=frame["city"].map({"north": 0, "south": 1, "east": 2,
                                                 "west": 3}))
    by_name = FairLossClassifier(**FAST, categorical_features=["city", "kind"]).fit(frame, y)
    by_position = FairLossClassifier(**FAST, categorical_features=[1, 2]).fit(frame, y)
    by_mask = FairLossClassifier(**FAST, categorical_features=[False, True, True, False])
    by_mask.fit(frame, y)
    assert by_name._feature_encoder.cardinalities_ == [5, 3]
    for other in (by_position, by_mask):
        np.testing.assert_array_equal(by_name.predict_proba(frame), other.predict_proba(frame))


@pytest.mark.parametrize("value, message", [
    (["nowhere"], r"categorical_features names columns \['nowhere'\]"),
    ([7], r"positions \[7\] outside the 4 columns"),
    ([True, False], "boolean mask of 2 values but X has 4 columns"),
    ("yes", "categorical_features must be 'from_dtype', None or an array-like"),
])
def test_bad_categorical_features_name_the_argument(value, message):
    frame, y = _frame(n=60)
    with pytest.raises(ValueError, match=message):
        FairLossClassifier(**FAST, categorical_features=value).fit(frame, y)


def test_quantile_scaling_maps_each_column_to_normal_scores():
    # independent reference: the normal quantile of each value's mid-rank
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.exponential(size=3000), 3 * rng.normal(size=3000)])
    encoded = FeatureEncoder(scaling="quantile", seed=0).fit_transform(X)
    ranks = (np.argsort(np.argsort(X, axis=0), axis=0) + 0.5) / len(X)
    central = (ranks > 0.05) & (ranks < 0.95)  # the tails rest on few of the 100 landmarks
    np.testing.assert_allclose(encoded[central], norm.ppf(ranks)[central], atol=0.03)
    # a change of unit leaves the encoding as it was
    np.testing.assert_allclose(FeatureEncoder(seed=0).fit_transform(1000 * X + 5), encoded,
                               atol=1e-6)


def test_piecewise_linear_bins_are_the_unique_quantiles():
    X = torch.tensor(np.random.default_rng(1).normal(size=(500, 2)), dtype=torch.float32)
    X[:, 1] = torch.round(X[:, 1])  # few distinct values: repeated quantiles collapse
    constant = torch.full((500, 1), 3.0)
    bins = numerical_bins(torch.cat([X, constant], dim=1), n_bins=8)
    for j in range(2):
        expected = np.unique(np.quantile(X[:, j].numpy(), np.linspace(0, 1, 9)))
        np.testing.assert_allclose(bins[j].numpy(), expected, rtol=1e-5)
    np.testing.assert_array_equal(bins[2].numpy(), [2.0, 4.0])


def test_the_ensemble_predicts_its_members_mean_probability():
    torch.manual_seed(0)
    module = TabularNetwork(n_numerical=3, n_binary=0, cardinalities=[4], n_classes=3,
                            hidden_layer_sizes=(8, 8), ensemble_size=5,
                            numerical_embedding="periodic")
    X = torch.cat([torch.randn(20, 3), torch.randint(0, 4, (20, 1)).float()], dim=1)
    with torch.no_grad():
        members = module.train()(X).numpy()  # (20, 5, 3), no dropout
        combined = module.eval()(X).numpy()
    assert members.shape == (20, 5, 3)
    np.testing.assert_allclose(np.exp(combined), softmax(members, axis=2).mean(axis=1),
                               rtol=1e-5)


def test_the_ensemble_trains_on_the_mean_of_its_members_weighted_losses(monkeypatch):
    # one epoch at lr ~ 0: the recorded loss is sum_i w_i mean_k CE(member k, row i) / sum w
    frame, y = _frame(n=80)
    w = np.random.default_rng(0).uniform(0.1, 3.0, size=len(y))
    clf = FairLossClassifier(hidden_layer_sizes=(8, 8), ensemble_size=4, lr=1e-12,
                             batch_size=1000, max_epochs=1, random_state=0,
                             early_stopping=False)
    clf.fit(frame, y, sample_weight=w)
    module = clf.net_.module_.train()
    with torch.no_grad():
        members = module(torch.as_tensor(clf._feature_encoder.transform(frame))).numpy()
    row_loss = -log_softmax(members, axis=2)[np.arange(len(y)), :, y].mean(axis=1)
    expected = np.sum(w * row_loss) / np.sum(w)
    assert clf.history_["train_loss"].iloc[0] == pytest.approx(expected, rel=1e-4)


def test_an_ensemble_needs_hidden_layers_of_one_width():
    frame, y = _frame(n=60)
    with pytest.raises(ValueError, match=r"ensemble_size=4 .*hidden_layer_sizes=\(16, 8\)"):
        FairLossClassifier(hidden_layer_sizes=(16, 8), ensemble_size=4).fit(frame, y)


@pytest.mark.parametrize("params", [
    dict(ensemble_size=4, numerical_embedding="piecewise_linear"),
    dict(ensemble_size=1, numerical_embedding=None, feature_scaling="standard"),
])
def test_fairness_terms_and_decision_rules_work_on_every_body(params):
    frame, y = _frame()
    group = (frame["city"] == "north").to_numpy()
    clf = FairLossClassifier(**{**FAST, **params}, fairness="demographic_parity",
                             fairness_strength=5.0, decision="balanced")
    clf.fit(frame, y, sensitive_features=group)
    proba = clf.predict_proba(frame)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert {"data_loss", "fairness_penalty"} <= set(clf.history_.columns)


def test_a_pickled_model_with_categories_predicts_the_same():
    frame, y = _frame()
    clf = FairLossClassifier(**{**FAST, "ensemble_size": 2, "hidden_layer_sizes": (8, 8)})
    clf.fit(frame, y)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(frame), clf.predict_proba(frame))


def test_binary_columns_such_as_one_hot_indicators_are_not_embedded():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=200), rng.integers(0, 2, 200),
                         rng.choice([3.0, 7.0], 200)])
    encoder = FeatureEncoder(seed=0)
    encoded = encoder.fit_transform(X)
    assert (encoder.n_numerical_, encoder.n_binary_) == (1, 2)
    np.testing.assert_array_equal(encoded[:, 1], X[:, 1])
    np.testing.assert_array_equal(encoded[:, 2], (X[:, 2] - 3.0) / 4.0)
    as_given = FeatureEncoder(scaling=None).fit_transform(X)
    np.testing.assert_array_equal(as_given, X[:, [0, 1, 2]].astype(np.float32))


@pytest.mark.parametrize("n_rows, n_classes, expected", [
    (60, 2, False),  # too few rows: trained on all of them
    (200, 2, True),
    (200, 30, False),  # 20 held-out rows cannot hold 30 classes
])
def test_auto_early_stopping_needs_enough_rows_for_every_class(n_rows, n_classes, expected):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n_rows, 3))
    y = np.arange(n_rows) % n_classes
    clf = FairLossClassifier(hidden_layer_sizes=(4,), max_epochs=2, random_state=0).fit(X, y)
    assert clf.do_early_stopping_ is expected
    assert ("valid_loss" in clf.history_.columns) is expected


# ---- linear_start: the network starts from a logistic regression ----------------------------


def _design(frame, categories):
    """The independent reference's inputs: the numbers as they are, each categorical column
    one-hot by pandas."""
    return pd.get_dummies(frame, columns=categories, dtype=float).to_numpy()


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("ensemble_size", [1, 4])
def test_before_training_moves_it_the_model_is_scikit_learns_logistic_regression(
        n_classes, ensemble_size):
    from sklearn.linear_model import LogisticRegression

    frame, y = _frame()
    if n_classes == 3:
        y = y + (frame["noise"].to_numpy() > 0.8)
    # lr=1e-12: training does not move the weights, so the fitted model is its starting point
    clf = FairLossClassifier(hidden_layer_sizes=(16, 16), ensemble_size=ensemble_size,
                             feature_scaling=None, lr=1e-12, max_epochs=1,
                             early_stopping=False, random_state=0).fit(frame, y)
    reference = LogisticRegression(max_iter=1000).fit(_design(frame, ["city", "kind"]), y)
    np.testing.assert_allclose(clf.predict_proba(frame),
                               reference.predict_proba(_design(frame, ["city", "kind"])),
                               atol=2e-3)
    # and without the linear start it is not
    blind = FairLossClassifier(hidden_layer_sizes=(16, 16), ensemble_size=ensemble_size,
                               feature_scaling=None, lr=1e-12, max_epochs=1, early_stopping=False,
                               random_state=0, linear_start=False).fit(frame, y)
    assert np.abs(blind.predict_proba(frame) - clf.predict_proba(frame)).max() > 0.05


def test_the_linear_start_keeps_a_small_linear_problem_near_logistic_regression():
    """On 400 rows drawn from a logistic model, the default (linear start, early stopping)
    is as good as LogisticRegression on new rows, the network from a random start is not."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss

    rng = np.random.default_rng(0)
    coef = rng.normal(size=8)

    def draw(n):
        X = rng.normal(size=(n, 8))
        return X, (rng.random(n) < 1 / (1 + np.exp(-X @ coef))).astype(int)

    X, y = draw(400)
    X_new, y_new = draw(4000)
    reference = log_loss(y_new, LogisticRegression().fit(X, y).predict_proba(X_new))
    start = log_loss(y_new, FairLossClassifier(random_state=0).fit(X, y).predict_proba(X_new))
    random = log_loss(y_new, FairLossClassifier(random_state=0, linear_start=False)
                      .fit(X, y).predict_proba(X_new))
    assert start < reference + 0.01
    assert random > reference + 0.02


def test_the_linear_start_uses_a_subset_of_large_data(monkeypatch):
    import sklearn_fairloss._backbone as backbone

    frame, y = _frame(n=300)
    monkeypatch.setattr(backbone, "LINEAR_START_ROWS", 50)
    clf = FairLossClassifier(**FAST).fit(frame, y)
    assert clf.score(frame, y) > 0.8


def test_warm_start_refuses_a_change_of_linear_start():
    frame, y = _frame()
    clf = FairLossClassifier(**dict(FAST, max_epochs=2), warm_start=True).fit(frame, y)
    with pytest.raises(ValueError, match="linear_start"):
        clf.set_params(linear_start=False).fit(frame, y)


def test_a_frame_of_categorical_columns_only_starts_without_warnings():
    rng = np.random.default_rng(0)
    city = rng.choice(["north", "south", "east", "west"], size=300)
    y = np.isin(city, ["north", "east"]).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        clf = FairLossClassifier(**FAST).fit(pd.DataFrame({"city": city}), y)
    assert clf.score(pd.DataFrame({"city": city}), y) == 1.0
