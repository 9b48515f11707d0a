"""Decision rules of sklearn_fairloss.postprocessing: hand-computed decisions, a brute-force
reference for the tuned threshold, make_decision_rule, parameters, clone/pickle, and rules on
the probabilities of plain scikit-learn classifiers."""

import pickle
import subprocess
import sys

import numpy as np
import pytest
from scipy.special import softmax
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    matthews_corrcoef,
)
from sklearn.model_selection import train_test_split

from sklearn_fairloss.postprocessing import (
    DECISION_RULES,
    Argmax,
    DecisionRuleBase,
    FixedThreshold,
    GroupThresholds,
    TunedThreshold,
    make_decision_rule,
)

# Three rows, three classes; class priors 1/2, 1/4, 1/4.
PROBA = np.array([[0.5, 0.3, 0.2], [0.2, 0.45, 0.35], [0.1, 0.3, 0.6]])
PRIOR = np.array([0.5, 0.25, 0.25])

METRICS = {"f1": f1_score, "balanced_accuracy": balanced_accuracy_score,
           "accuracy": accuracy_score, "mcc": matthews_corrcoef}


# ------------------------------------------------------------------ hand-computed decisions

def test_argmax_priors_by_hand():
    # data prior: the most probable class
    np.testing.assert_array_equal(Argmax("data").fit(PROBA).predict(PROBA), [0, 1, 2])
    # p / prior = [1.0, 1.2, 0.8], [0.4, 1.8, 1.4], [0.2, 1.2, 2.4]
    shift = np.log(PRIOR) - np.log(PRIOR).mean()   # any constant offset decides the same
    rule = Argmax("training").fit(PROBA, log_prior_shift=shift)
    np.testing.assert_array_equal(rule.predict(PROBA), [1, 1, 2])
    np.testing.assert_allclose(rule.log_offset_, shift)
    assert Argmax("training").fit(PROBA).predict(PROBA).tolist() == [0, 1, 2]  # no shift
    uniform = Argmax("uniform").fit(PROBA, class_prior=PRIOR)
    np.testing.assert_array_equal(uniform.predict(PROBA), [1, 1, 2])
    # class_prior defaults to the weighted class frequencies of y: [4, 2, 2] / 8 = PRIOR
    y, w = np.array([0, 0, 1, 1, 2, 2]), np.array([2.0, 2, 1, 1, 1, 1])
    from_y = Argmax("uniform").fit(np.full((6, 3), 1 / 3), y, sample_weight=w)
    np.testing.assert_allclose(from_y.log_offset_, np.log(PRIOR))
    # p / [0.4, 0.4, 0.2] = [1.25, 0.75, 1.0], [0.5, 1.125, 1.75], [0.25, 0.75, 3.0]
    np.testing.assert_array_equal(
        Argmax("uniform").fit(PROBA, class_prior=[0.4, 0.4, 0.2]).predict(PROBA), [0, 2, 2])


def test_argmax_reproduces_the_estimator_branches_on_logits():
    """``predict`` of FairLossClassifier acted on calibrated logits: ``argmax(logits - shift)``
    for "argmax", ``argmax(logits)`` for "proba", ``argmax(logits - log(prior))`` for
    "balanced". The rules get ``softmax(logits)`` instead."""
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=3.0, size=(5000, 4))
    shift = rng.normal(size=4)
    shift -= shift.mean()
    prior = rng.dirichlet(np.ones(4))
    proba = softmax(logits, axis=1)
    cases = [("argmax", logits - shift), ("proba", logits), ("balanced", logits - np.log(prior))]
    for decision, scores in cases:
        rule = make_decision_rule(decision, 4).fit(proba, class_prior=prior,
                                                   log_prior_shift=shift)
        np.testing.assert_array_equal(rule.predict(proba), scores.argmax(axis=1))


def test_fixed_threshold_by_hand():
    proba = np.array([[0.7, 0.3], [0.65, 0.35], [0.2, 0.8]])
    rule = FixedThreshold(0.35).fit(proba)
    np.testing.assert_array_equal(rule.predict(proba), [0, 1, 1])   # p >= threshold
    np.testing.assert_array_equal(rule.predict(proba[:, 1]), [0, 1, 1])  # positive column
    assert rule.threshold_ == 0.35 and rule.n_classes_ == 2
    # without proba: the classes are told by the prior
    assert FixedThreshold(0.9).fit(None, class_prior=[0.5, 0.5]).predict(proba).tolist() == [
        0, 0, 0]


def test_group_thresholds_follow_the_rule_contract():
    rng = np.random.default_rng(2)
    group = np.repeat(["a", "b"], 40)
    p1 = np.clip(rng.uniform(size=80) + 0.3 * (group == "a"), 0, 1)
    proba = np.column_stack([1 - p1, p1])
    y = (rng.random(80) < p1).astype(int)
    legacy = GroupThresholds(tolerance=0.05).fit(p1, group)         # today's positional call
    rule = make_decision_rule(GroupThresholds(tolerance=0.05), 2)
    assert rule.requires_sensitive_features  # fit needs them
    rule.fit(proba, y, sample_weight=None, sensitive_features=group, class_prior=[0.5, 0.5],
             log_prior_shift=np.zeros(2))
    np.testing.assert_array_equal(rule.thresholds_, legacy.thresholds_)
    np.testing.assert_array_equal(rule.predict(proba, group), legacy.predict(p1, group))
    assert rule.requires_sensitive_features and not rule.needs_held_out
    # by hand: the thresholds split each group as the rates say
    pred = rule.predict(proba, sensitive_features=group)
    for g, threshold in zip(rule.groups_, rule.thresholds_):
        np.testing.assert_array_equal(pred[group == g], p1[group == g] >= threshold)
    # the rule-contract call passes sensitive_features: y is then never taken for groups
    with pytest.raises(ValueError, match="fit needs sensitive_features.*pass sensitive_features "
                                         "to fit"):
        GroupThresholds().fit(proba, y, sample_weight=None, sensitive_features=None)
    with pytest.raises(ValueError, match="fit needs sensitive_features"):
        GroupThresholds().fit(proba, None)


# ------------------------------------------------------------------ tuned threshold

def _brute_force_best(p, y, w, metric):
    """Best score over every cut between consecutive distinct probabilities, and 0.5."""
    values = np.unique(p)
    cuts = np.concatenate([[0.5], (values[:-1] + values[1:]) / 2])
    return max(METRICS[metric](y, (p >= t).astype(int), sample_weight=w) for t in cuts)


@pytest.mark.parametrize("metric", sorted(METRICS))
@pytest.mark.parametrize("weighted", [False, True])
def test_tuned_threshold_matches_a_brute_force_scan(metric, weighted):
    rng = np.random.default_rng(3)
    n = 65   # 256 quantiles then fall on every probability: every cut is a candidate
    p = rng.beta(1.5, 4.0, size=n)
    y = (rng.random(n) < p).astype(int)
    w = rng.uniform(0.2, 3.0, size=n) if weighted else None
    rule = TunedThreshold(metric).fit(np.column_stack([1 - p, p]), y, sample_weight=w)
    assert 0 < rule.threshold_ < 1 and rule.needs_held_out
    score = METRICS[metric](y, rule.predict(p), sample_weight=w)
    assert score == pytest.approx(_brute_force_best(p, y, w, metric), abs=1e-12)
    # the same threshold from make_decision_rule's string spelling
    assert make_decision_rule(metric, 2).fit(p, y, sample_weight=w).threshold_ == \
        rule.threshold_


def test_tuned_threshold_prefers_the_threshold_closest_to_half():
    # every threshold in (0.2, 0.8) predicts the same: 0.5 itself is chosen
    p = np.array([0.1, 0.2, 0.8, 0.9])
    y = np.array([0, 0, 1, 1])
    assert TunedThreshold("accuracy").fit(p, y).threshold_ == 0.5


# ------------------------------------------------------------------ make_decision_rule

def test_make_decision_rule_spellings():
    assert make_decision_rule("argmax", 3).get_params() == {"prior": "training"}
    assert make_decision_rule("proba", 3).get_params() == {"prior": "data"}
    assert make_decision_rule("balanced", 3).get_params() == {"prior": "uniform"}
    for metric in METRICS:
        rule = make_decision_rule(metric, 2)
        assert isinstance(rule, TunedThreshold) and rule.metric == metric
    threshold = make_decision_rule(np.float32(0.25), 2)
    assert isinstance(threshold, FixedThreshold) and threshold.threshold == 0.25
    assert type(threshold.threshold) is float
    mine = TunedThreshold("mcc")
    got = make_decision_rule(mine, 2)
    assert got is not mine and got.get_params() == mine.get_params()
    assert set(DECISION_RULES) == {"argmax", "proba", "balanced", *METRICS}
    # n_classes=None leaves the class count to fit
    assert isinstance(make_decision_rule("f1"), TunedThreshold)


@pytest.mark.parametrize("decision, n_classes, match", [
    ("f1", 3, r"decision='f1' tunes a threshold, which needs a binary y; got 3 classes"),
    (0.4, 3, r"decision=0.4 is a probability threshold, which needs a binary y; got 3"),
    (1.5, 3, r"decision as a threshold must be in \(0, 1\); got 1.5"),
    (0.0, 2, r"decision as a threshold must be in \(0, 1\)"),
    (float("nan"), 2, r"decision as a threshold must be in \(0, 1\)"),
    ("best", 2, "decision must be 'argmax', 'proba', 'balanced'"),
    (True, 2, "decision must be 'argmax'"),
    (None, 2, "decision must be 'argmax'"),
    (LogisticRegression(), 2, "decision must be 'argmax'"),
    (TunedThreshold("f1"), 3, r"decision=TunedThreshold\(\) tunes a threshold, which needs a "
                              "binary y"),
    (FixedThreshold(0.2), 4, "is a probability threshold, which needs a binary y; got 4"),
    (GroupThresholds(), 3, r"needs a binary y \(one threshold per group\); got 3 classes"),
    (TunedThreshold("auc"), 2, "metric must be one of"),
])
def test_make_decision_rule_errors(decision, n_classes, match):
    with pytest.raises(ValueError, match=match):
        make_decision_rule(decision, n_classes)


def test_binary_rules_refuse_more_classes_in_fit():
    proba = np.full((4, 3), 1 / 3)
    with pytest.raises(ValueError, match="tunes a threshold, which needs a binary y; got 3"):
        make_decision_rule("f1").fit(proba, [0, 1, 2, 0])
    with pytest.raises(ValueError, match="probability threshold, which needs a binary y"):
        FixedThreshold().fit(None, class_prior=[0.2, 0.3, 0.5])


# ------------------------------------------------------------------ parameters and inputs

@pytest.mark.parametrize("rule, match", [
    (Argmax(prior="test"), "prior must be one of"),
    (FixedThreshold(threshold=1.0), r"threshold must be a real number in \(0, 1\)"),
    (FixedThreshold(threshold=0), "threshold must be"),
    (FixedThreshold(threshold="0.5"), "threshold must be"),
    (TunedThreshold(metric="roc_auc"), "metric must be one of"),
    (GroupThresholds(constraint="equalized_odds"), "constraint must be one of"),
    (GroupThresholds(tolerance=-0.1), "tolerance must be"),
])
def test_bad_parameters_name_the_parameter(rule, match):
    proba = np.array([[0.8, 0.2], [0.3, 0.7]])
    with pytest.raises(ValueError, match=match):
        rule.fit(proba, [0, 1], sensitive_features=["a", "b"])


def test_bad_inputs():
    with pytest.raises(NotFittedError):
        Argmax().predict(PROBA)
    with pytest.raises(ValueError, match="proba must hold probabilities in"):
        Argmax().fit(PROBA * 2)
    with pytest.raises(ValueError, match="proba has 2 columns but the rule was fitted on 3"):
        Argmax().fit(PROBA).predict(PROBA[:, :2])
    with pytest.raises(ValueError, match="proba must be 2-D"):
        Argmax().fit(PROBA[:, 0])
    with pytest.raises(ValueError, match="log_prior_shift must have one value per class"):
        Argmax().fit(PROBA, log_prior_shift=[0.0, 0.0])
    with pytest.raises(ValueError, match="class_prior must be positive"):
        Argmax("uniform").fit(PROBA, class_prior=[0.5, 0.5, 0.0])
    with pytest.raises(ValueError, match="needs class_prior or y"):
        Argmax("uniform").fit(PROBA)
    with pytest.raises(ValueError, match=r"no \(weighted\) row of class\(es\) \[2\]"):
        Argmax("uniform").fit(PROBA, [0, 1, 1])
    with pytest.raises(ValueError, match="y has 2 rows but proba has 3 rows"):
        Argmax("uniform").fit(PROBA, [0, 1])
    with pytest.raises(ValueError, match="sample_weight has 2 rows"):
        Argmax("uniform").fit(PROBA, [0, 1, 2], sample_weight=[1, 1])
    with pytest.raises(ValueError, match="TunedThreshold.fit needs y"):
        TunedThreshold().fit([0.2, 0.7])
    with pytest.raises(ValueError, match="TunedThreshold.fit needs proba"):
        TunedThreshold().fit(None, [0, 1], class_prior=[0.5, 0.5])
    with pytest.raises(ValueError, match="Argmax.fit needs proba, class_prior or log_prior"):
        Argmax().fit(None)
    with pytest.raises(ValueError, match="positive-class probabilities"):
        FixedThreshold().fit(np.zeros((2, 2, 2)))


# ------------------------------------------------------------------ clone, pickle, contract

RULES = [Argmax("training"), Argmax("data"), Argmax("uniform"), FixedThreshold(0.3),
         TunedThreshold("balanced_accuracy"), GroupThresholds(tolerance=0.02)]


@pytest.mark.parametrize("rule", RULES, ids=repr)
def test_clone_pickle_and_contract(rule):
    rng = np.random.default_rng(4)
    p1 = rng.uniform(size=200)
    proba = np.column_stack([1 - p1, p1])
    y = (rng.random(200) < p1).astype(int)
    group = np.where(np.arange(200) < 100, "a", "b")
    p1_group = np.where(group == "a", np.minimum(p1 + 0.3, 1.0), p1)
    proba = np.column_stack([1 - p1_group, p1_group])
    assert isinstance(rule, DecisionRuleBase)
    assert clone(rule).get_params() == rule.get_params()
    fitted = clone(rule).fit(proba, y, sample_weight=np.ones(200), sensitive_features=group,
                             class_prior=[0.5, 0.5], log_prior_shift=[0.1, -0.1])
    pred = fitted.predict(proba, sensitive_features=group)
    assert pred.dtype == np.int64 and set(pred.tolist()) <= {0, 1}
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict(proba, sensitive_features=group), pred)
    assert not hasattr(clone(fitted), "n_classes_")
    assert isinstance(type(rule).needs_held_out, bool)
    assert isinstance(type(rule).needs_proba, bool)
    assert isinstance(fitted.requires_sensitive_features, bool)
    assert fitted.requires_sensitive_features == isinstance(rule, GroupThresholds)
    assert type(rule).__doc__ and "Examples" in type(rule).__doc__


def test_set_params_then_refit_validates_again():
    rule = FixedThreshold(0.3).fit([0.2, 0.6])
    with pytest.raises(ValueError, match="threshold must be"):
        rule.set_params(threshold=2.0).fit([0.2, 0.6])


# ------------------------------------------------------------------ any classifier

def test_rules_on_logistic_regression_probabilities():
    X, y = make_classification(n_samples=3000, weights=[0.85], random_state=0)
    X_fit, X_held, y_fit, y_held = train_test_split(X, y, test_size=0.4, random_state=0,
                                                    stratify=y)
    model = LogisticRegression().fit(X_fit, y_fit)
    proba_held = model.predict_proba(X_held)
    np.testing.assert_array_equal(Argmax("data").fit(proba_held).predict(proba_held),
                                  model.predict(X_held))
    np.testing.assert_array_equal(FixedThreshold(0.5).fit(proba_held).predict(proba_held),
                                  model.predict(X_held))
    tuned = TunedThreshold("f1").fit(proba_held, y_held)
    assert f1_score(y_held, tuned.predict(proba_held)) >= f1_score(y_held,
                                                                  model.predict(X_held))
    balanced = Argmax("uniform").fit(proba_held, y_held)
    expected = (proba_held / (np.bincount(y_held) / len(y_held))).argmax(axis=1)
    np.testing.assert_array_equal(balanced.predict(proba_held), expected)


def test_rules_on_hist_gradient_boosting_probabilities():
    X, y = make_classification(n_samples=1500, n_classes=3, n_informative=5,
                               weights=[0.6, 0.3, 0.1], random_state=1)
    model = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(X, y)
    proba = model.predict_proba(X)
    np.testing.assert_array_equal(make_decision_rule("proba", 3).fit(proba).predict(proba),
                                  model.predict(X))
    prior = np.bincount(y) / len(y)
    balanced = make_decision_rule("balanced", 3).fit(proba, y)
    np.testing.assert_array_equal(balanced.predict(proba), (proba / prior).argmax(axis=1))
    # group thresholds on a binary gradient-boosting model
    group = np.where(X[:, 0] > 0, "a", "b")
    yb = (y == 0).astype(int)
    binary = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(X, yb)
    p = binary.predict_proba(X)
    rule = GroupThresholds(tolerance=0.05).fit(p, sensitive_features=group)
    pred = rule.predict(p, group)
    gap = abs(pred[group == "a"].mean() - pred[group == "b"].mean())
    assert gap <= rule.tolerance_ + 1e-12


# ------------------------------------------------------------------ imports

def test_postprocessing_imports_no_torch():
    code = ("import sys, sklearn_fairloss.postprocessing; "
            "sys.exit(1 if 'torch' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_facades_point_to_postprocessing():
    from sklearn_fairloss import postprocessing
    from sklearn_fairloss.calibration import TemperatureScaling, get_post_calibrator
    from sklearn_fairloss.fairness import GroupThresholds as FairnessGroupThresholds

    assert TemperatureScaling is postprocessing.TemperatureScaling
    assert get_post_calibrator is postprocessing.get_post_calibrator
    assert FairnessGroupThresholds is postprocessing.GroupThresholds
