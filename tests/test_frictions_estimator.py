"""Frictions of a newcomer's first hour with FairLossClassifier (the out-of-the-box issue):
each test reproduces one that the code before the fix let through silently."""

import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from sklearn_fairloss import FairLossClassifier

PARAMS = dict(hidden_layer_sizes=(8,), max_epochs=2, random_state=0)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] > 0).astype(int)
    group = rng.integers(0, 2, 200)
    return X, y, group


def test_groups_passed_to_a_model_that_cannot_use_them_warn(data):
    X, y, group = data
    with pytest.warns(UserWarning, match="no part of this model uses them"):
        FairLossClassifier(**PARAMS).fit(X, y, sensitive_features=group)


@pytest.mark.parametrize("params", [
    {"fairness": "demographic_parity"},
    {"sample_weight_strategy": "reweighing"},
    {"batch_sampler": "stratified"},
    {"post_calibration": "group_temperature"},
])
def test_groups_used_by_a_part_do_not_warn(data, params):
    X, y, group = data
    with warnings.catch_warnings():  # two epochs may not leave the linear start: that warns
        warnings.filterwarnings("error", "sensitive_features were passed", UserWarning)
        FairLossClassifier(**PARAMS, **params).fit(X, y, sensitive_features=group)


def test_dropping_named_sensitive_columns_is_a_use(data):
    X, y, group = data
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(sex=group)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        clf = FairLossClassifier(**PARAMS, sensitive_as_input=False)
        clf.fit(frame, y, sensitive_features="sex")
    assert list(clf.feature_names_in_) == ["a", "b", "c"]


def test_a_text_column_names_the_column_and_the_fix(data):
    X, y, group = data
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(
        sex=np.where(group, "Male", "Female"), job=np.where(group, "x", "y"))
    message = r"non-numeric column\(s\) \['sex', 'job'\].*OneHotEncoder"
    with pytest.raises(ValueError, match=message):
        FairLossClassifier(**PARAMS, categorical_features=None).fit(frame, y)


def test_verbose_writes_plain_lines_to_a_log(data, capsys):
    X, y, _ = data
    FairLossClassifier(**PARAMS, verbose=1, early_stopping=True).fit(X, y)
    out = capsys.readouterr().out
    assert "train_loss" in out and "valid_loss" in out
    assert "\x1b[" not in out  # no ANSI colour codes in a log file


def test_verbose_on_a_terminal_shows_a_progress_bar(data, monkeypatch):
    X, y, _ = data
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    clf = FairLossClassifier(**PARAMS, verbose=1).fit(X, y)
    assert "progress_bar" in dict(clf.net_.callbacks_)


def test_warm_start_continues_from_the_previous_weights(data):
    X, y, _ = data
    params = {**PARAMS, "max_epochs": 3, "lr": 0.01}
    cold = FairLossClassifier(**params).fit(X, y)
    warm = FairLossClassifier(**params, warm_start=True).fit(X, y)
    first = warm.history_["train_loss"].to_numpy()
    np.testing.assert_allclose(first, cold.history_["train_loss"].to_numpy())
    weights = [p.detach().clone() for p in warm.net_.module_.parameters()]
    warm.fit(X, y)
    again = warm.history_["train_loss"].to_numpy()
    # the second fit starts where the first ended, not from a fresh initialisation
    assert again[0] < first[0] and again[0] <= first[-1] * 1.05
    assert any(not np.array_equal(w.numpy(), p.detach().numpy())
               for w, p in zip(weights, warm.net_.module_.parameters()))
    cold.fit(X, y)  # without warm_start a refit starts afresh: the same history as before
    np.testing.assert_allclose(cold.history_["train_loss"].to_numpy(), first)


def test_warm_start_refuses_other_features_or_architecture(data):
    X, y, _ = data
    clf = FairLossClassifier(**PARAMS, warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match="warm_start=True .*same features and classes"):
        clf.fit(X[:, :2], y)
    clf = FairLossClassifier(**PARAMS, warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match="same network .*hidden_layer_sizes"):
        clf.set_params(hidden_layer_sizes=(5,)).fit(X, y)


def test_fairlearns_habit_routes_sensitive_features_without_a_request(data):
    """fairlearn's ``cross_validate(pipe, X, y, params={"sensitive_features": A})``: with
    routing on, the groups reach the estimator of each fold without ``set_fit_request``, and
    the folds equal the step-prefix call with routing off (the reference)."""
    import sklearn
    from sklearn.model_selection import KFold, cross_validate
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y, group = data
    fair = dict(PARAMS, fairness="demographic_parity", fairness_strength=5.0, max_epochs=5)
    cv = KFold(3)
    reference = cross_validate(
        make_pipeline(StandardScaler(), FairLossClassifier(**fair)), X, y, cv=cv,
        params={"fairlossclassifier__sensitive_features": group}, return_estimator=True)
    with sklearn.config_context(enable_metadata_routing=True):
        routed = cross_validate(
            make_pipeline(StandardScaler(), FairLossClassifier(**fair)), X, y, cv=cv,
            params={"sensitive_features": group}, return_estimator=True)
    for a, b in zip(reference["estimator"], routed["estimator"]):
        np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    # and the groups did something: the same fold without the penalty differs
    train = next(cv.split(X))[0]
    plain = make_pipeline(StandardScaler(), FairLossClassifier(**dict(fair, fairness=None)))
    plain.fit(X[train], y[train])
    assert not np.allclose(plain.predict_proba(X), reference["estimator"][0].predict_proba(X))
