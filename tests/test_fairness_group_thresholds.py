"""GroupThresholds (one decision threshold per group) and FairLossClassifier(group_thresholds=)."""

import itertools

import numpy as np
import pandas as pd
import pytest
from sklearn import config_context
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_fairloss import FairLossClassifier
from sklearn_fairloss.fairness import GroupThresholds

PARAMS = dict(hidden_layer_sizes=(8,), max_epochs=20, lr=0.01, random_state=0)


def _brute_force(proba, group, tolerance, constraint):
    """Fewest expected errors over every per-group count of predicted positives (top scores
    first) whose rates lie within ``tolerance``: an independent exhaustive reference."""
    groups = sorted(set(group))
    options = []
    for g in groups:
        p = np.sort(proba[group == g])[::-1]
        rows = []
        for j in range(len(p) + 1):
            rate = j / len(p) if constraint == "demographic_parity" else p[:j].sum() / p.sum()
            rows.append((rate, (1 - p[:j]).sum() + p[j:].sum()))
        options.append(rows)
    best = np.inf
    for combo in itertools.product(*options):
        rates = [r for r, _ in combo]
        if max(rates) - min(rates) <= tolerance + 1e-12:
            best = min(best, sum(e for _, e in combo))
    return 1 - best / len(proba)


@pytest.mark.parametrize("constraint", ["demographic_parity", "equal_opportunity"])
@pytest.mark.parametrize("tolerance", [0.0, 0.1, 0.25, 0.4])
def test_matches_exhaustive_search(constraint, tolerance):
    rng = np.random.default_rng(1)
    group = np.repeat(["a", "b", "c"], [8, 5, 6])
    proba = np.clip(rng.uniform(size=len(group)) ** np.where(group == "a", 0.5, 2.0), 0, 1)
    rule = GroupThresholds(constraint, tolerance=tolerance).fit(proba, group)
    # rates move in steps of at least 1/8, 1/5, 1/6: a smaller tolerance is raised to the step
    steps = [0.2] if constraint == "demographic_parity" else [
        proba[group == g].max() / proba[group == g].sum() for g in "abc"]
    assert rule.tolerance_ == pytest.approx(max(tolerance, *steps))
    tolerance = rule.tolerance_
    expected = _brute_force(proba, group, tolerance, constraint)
    if rule.thresholds_ is None:  # the group-blind rule meets the tolerance
        blind = (proba >= 0.5)
        errors = ((1 - proba) * blind + proba * ~blind).sum()
        assert rule.expected_accuracy_ == pytest.approx(1 - errors / len(proba))
        assert rule.expected_accuracy_ <= expected + 1e-12
        return
    assert rule.expected_accuracy_ == pytest.approx(expected, abs=1e-12)
    # the thresholds realise the chosen rates on the fitting rows
    pred = rule.predict(proba, group)
    for g, rate in zip(rule.groups_, rule.rates_):
        p, chosen = proba[group == g], pred[group == g].astype(bool)
        realised = (chosen.mean() if constraint == "demographic_parity"
                    else p[chosen].sum() / p.sum())
        assert realised == pytest.approx(rate)
    assert rule.rates_.max() - rule.rates_.min() <= tolerance + 1e-12


def test_parity_on_large_groups_and_accuracy_cost():
    rng = np.random.default_rng(0)
    group = rng.choice(["a", "b"], size=20000, p=[0.7, 0.3])
    proba = rng.beta(2, 5, size=len(group)) + 0.3 * (group == "a")
    proba = np.clip(proba, 0, 1)
    blind = (proba >= 0.5).astype(int)
    gap_blind = abs(blind[group == "a"].mean() - blind[group == "b"].mean())
    for tolerance in (0.0, 0.05, 0.1):
        rule = GroupThresholds(tolerance=tolerance).fit(proba, group)
        pred = rule.predict(proba, group)
        gap = abs(pred[group == "a"].mean() - pred[group == "b"].mean())
        assert gap <= tolerance + 1e-3 < gap_blind
    # a looser tolerance never costs more expected accuracy
    accs = [GroupThresholds(tolerance=t).fit(proba, group).expected_accuracy_
            for t in (0.0, 0.05, 0.1, 0.2)]
    assert np.all(np.diff(accs) >= -1e-12)


def test_blind_rule_kept_when_it_already_meets_the_tolerance():
    rng = np.random.default_rng(0)
    group = np.repeat(["a", "b"], 1000)
    proba = rng.uniform(size=2000)
    rule = GroupThresholds(tolerance=0.2).fit(proba, group)
    assert rule.thresholds_ is None and not rule.requires_sensitive_features
    np.testing.assert_array_equal(rule.predict(proba), (proba >= 0.5).astype(int))


def test_weight_two_equals_duplicated_row_and_intersectional_groups():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"sex": rng.choice(["F", "M"], 60), "race": rng.choice(["x", "y"], 60)})
    proba = rng.uniform(size=60) * np.where(frame["sex"] == "M", 1.0, 0.6)
    weights = rng.integers(1, 3, size=60)
    weighted = GroupThresholds(tolerance=0.15).fit(proba, frame, sample_weight=weights)
    repeat = np.repeat(np.arange(60), weights)
    # (the tolerance exceeds every cell's rate step, weighted or duplicated)
    duplicated = GroupThresholds(tolerance=0.15).fit(proba[repeat], frame.iloc[repeat])
    assert weighted.groups_ == duplicated.groups_ == [("F", "x"), ("F", "y"), ("M", "x"),
                                                      ("M", "y")]
    np.testing.assert_allclose(weighted.rates_, duplicated.rates_)
    assert weighted.expected_accuracy_ == pytest.approx(duplicated.expected_accuracy_)
    np.testing.assert_array_equal(weighted.predict(proba, frame), duplicated.predict(proba, frame))


def test_errors_name_the_argument():
    proba = np.array([0.2, 0.8, 0.9, 0.7, 0.3, 0.1, 0.2, 0.4])
    group = np.repeat(["a", "b"], 4)
    with pytest.raises(ValueError, match="constraint"):
        GroupThresholds("equalized_odds").fit(proba, group)
    for tolerance in (-0.1, 1.0, np.nan, True):
        with pytest.raises(ValueError, match="tolerance"):
            GroupThresholds(tolerance=tolerance).fit(proba, group)
    with pytest.raises(ValueError, match="proba"):
        GroupThresholds().fit(np.where(proba > 0.85, 1.5, proba), group)
    with pytest.raises(ValueError, match="sensitive_features"):
        GroupThresholds().fit(proba, None)
    with pytest.raises(ValueError, match="sensitive_features"):
        GroupThresholds().fit(proba, group[:7])
    rule = GroupThresholds(unseen_groups="error").fit(proba, group)
    assert rule.requires_sensitive_features
    with pytest.raises(ValueError, match="needs sensitive_features"):
        rule.predict(proba)
    with pytest.raises(ValueError, match=r"not seen in fit: \['c'\]"):
        rule.predict(proba, np.where(np.arange(8) == 1, "c", group))
    with pytest.raises(ValueError, match="not fitted"):
        GroupThresholds().predict(proba, group)


# ------------------------------------------------------------------------ in the estimator


@pytest.fixture
def biased():
    rng = np.random.default_rng(0)
    n = 600
    group = rng.choice(np.array(["a", "b"]), size=n, p=[0.6, 0.4])
    X = rng.normal(size=(n, 4))
    y = (X[:, 0] + 1.2 * (group == "a") + 0.5 * rng.normal(size=n) > 0.6).astype(int)
    X = np.column_stack([X, group == "a"]).astype(np.float32)
    return X, y, group


def test_classifier_thresholds_equal_the_rule_on_its_probabilities(biased):
    X, y, group = biased
    plain = FairLossClassifier(**PARAMS).fit(X, y)
    fair = FairLossClassifier(**PARAMS, group_thresholds="demographic_parity").fit(
        X, y, sensitive_features=group)
    # same network (same seed); predict_proba is unchanged by the decision rule
    np.testing.assert_allclose(fair.predict_proba(X), plain.predict_proba(X))
    reference = GroupThresholds().fit(plain.predict_proba(X)[:, 1], group)
    np.testing.assert_allclose(fair.group_thresholds_.thresholds_, reference.thresholds_)
    pred = fair.predict(X, sensitive_features=group)
    np.testing.assert_array_equal(pred, reference.predict(plain.predict_proba(X), group))
    gap = abs(pred[group == "a"].mean() - pred[group == "b"].mean())
    plain_pred = plain.predict(X)
    assert gap < 0.02 < abs(plain_pred[group == "a"].mean() - plain_pred[group == "b"].mean())


def test_classifier_group_thresholds_errors_and_routing(biased):
    X, y, group = biased
    clf = FairLossClassifier(**PARAMS, group_thresholds="demographic_parity")
    with pytest.raises(ValueError, match="pass sensitive_features to fit"):
        clf.fit(X, y)
    with pytest.raises(ValueError, match="group_thresholds must be"):
        FairLossClassifier(**PARAMS, group_thresholds="parity").fit(X, y, sensitive_features=group)
    with pytest.raises(ValueError, match="binary"):
        clf.fit(X, y + (X[:, 1] > 1), sensitive_features=group)
    with pytest.raises(ValueError, match="replaces the decision rule"):
        FairLossClassifier(**PARAMS, group_thresholds="demographic_parity",
                           decision="balanced").fit(X, y, sensitive_features=group)
    clf.fit(X, y, sensitive_features=group)
    with pytest.raises(ValueError, match="predicts per group: pass sensitive_features"):
        clf.predict(X)
    clf.predict_proba(X)  # probabilities need no groups
    # sensitive column named in fit is found again in predict
    code = (group == "a").astype(int)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])]).assign(g=code)
    by_name = FairLossClassifier(**PARAMS, group_thresholds="demographic_parity").fit(
        frame, y, sensitive_features="g")
    np.testing.assert_array_equal(by_name.predict(frame),
                                  by_name.predict(frame, sensitive_features=code))
    # metadata routing through a pipeline
    with config_context(enable_metadata_routing=True):
        routed = FairLossClassifier(**PARAMS, group_thresholds="demographic_parity")
        routed.set_fit_request(sensitive_features=True)
        routed.set_predict_request(sensitive_features=True)
        pipe = make_pipeline(StandardScaler(), routed).fit(X, y, sensitive_features=group)
        routed_pred = pipe.predict(X, sensitive_features=group)
    direct = make_pipeline(StandardScaler(), FairLossClassifier(
        **PARAMS, group_thresholds="demographic_parity"))
    direct.fit(X, y, fairlossclassifier__sensitive_features=group)
    np.testing.assert_array_equal(
        routed_pred, direct[-1].predict(direct[0].transform(X), sensitive_features=group))


def test_tolerance_is_tunable_by_grid_search(biased):
    X, y, group = biased
    # the group column, named in fit, is found again when the search scores with predict
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])]).assign(
        g=(group == "a").astype(int))
    search = GridSearchCV(
        FairLossClassifier(**{**PARAMS, "max_epochs": 10},
                           group_thresholds=GroupThresholds(tolerance=0.0)),
        {"group_thresholds__tolerance": [0.0, 0.5]}, cv=2)
    search.fit(frame, y, sensitive_features="g")
    assert search.best_estimator_.group_thresholds_.tolerance == search.best_params_[
        "group_thresholds__tolerance"]
    # a strict tolerance costs accuracy here (group "a" has far more positives)
    assert search.best_params_["group_thresholds__tolerance"] == 0.5
    # a tolerance wider than the blind rule's gap keeps no thresholds
    loose = FairLossClassifier(**PARAMS, group_thresholds=GroupThresholds(tolerance=0.9)).fit(
        X, y, sensitive_features=group)
    assert loose.group_thresholds_.thresholds_ is None
    np.testing.assert_array_equal(loose.predict(X), loose.predict_proba(X).argmax(1))
