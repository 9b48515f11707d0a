"""Frictions of the issue "Out of the box" in the metrics, scorers and weighting: each test
first reproduced the friction (it failed before the fix)."""

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_fairloss.metrics import (
    ConstrainedRefit,
    FairnessConstraintWarning,
    demographic_parity_difference,
    demographic_parity_ratio,
    group_report,
    make_calibration_scorer,
    make_equity_scaled_scorer,
    make_fairness_scorer,
)
from sklearn_fairloss.weighting import Reweighing, WeightedResampler, strategy_sample_weight

DOC = Path(__file__).resolve().parents[1] / "docs" / "sensitive_features.md"
CV = StratifiedKFold(3, shuffle=True, random_state=0)


# -- 1. group_report's selection rate on a multiclass target ------------------------------------

def _multiclass(seed=0, n=300):
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b", "c"], size=n)
    y_true = rng.choice(["cat", "dog", "emu"], size=n)
    # group a is predicted "cat" only: a demographic parity gap of 1 for class cat
    y_pred = np.where(group == "a", "cat", rng.choice(["dog", "emu"], size=n))
    weights = rng.uniform(0.5, 2.0, size=n)
    return y_true, y_pred, group, weights


@pytest.mark.parametrize("weighted", [False, True])
def test_multiclass_selection_rate_per_class_against_pandas(weighted):
    y_true, y_pred, group, weights = _multiclass()
    sw = weights if weighted else None
    report = group_report(y_true, y_pred, sensitive_features=group, sample_weight=sw,
                          metrics=["selection_rate"])
    frame = pd.DataFrame({"g": group, "p": y_pred, "w": weights if weighted else 1.0})
    for cls in ["cat", "dog", "emu"]:
        column = f"selection_rate[{cls}]"
        by_group = (frame.assign(hit=frame.w * (frame.p == cls)).groupby("g")[["hit", "w"]]
                    .sum().pipe(lambda t: t.hit / t.w))
        overall = (frame.w * (frame.p == cls)).sum() / frame.w.sum()
        np.testing.assert_allclose(report.loc[["a", "b", "c"], column], by_group.loc[
            ["a", "b", "c"]], atol=1e-12)
        assert report.loc["overall", column] == pytest.approx(overall, abs=1e-12)
        assert report.loc["difference", column] == pytest.approx(
            by_group.max() - by_group.min(), abs=1e-12)
    columns = [c for c in report.columns if c.startswith("selection_rate[")]
    assert len(columns) == 3
    # The silent wrong answer was 1/3 everywhere and a difference of 0.
    dpd = demographic_parity_difference(y_true, y_pred, sensitive_features=group,
                                        sample_weight=sw)
    assert dpd == pytest.approx(1.0)
    assert report.loc["difference", columns].max() == pytest.approx(dpd, abs=1e-12)
    assert report.loc["difference", columns].mean() == pytest.approx(
        demographic_parity_difference(y_true, y_pred, sensitive_features=group,
                                      sample_weight=sw, class_agg="mean"), abs=1e-12)
    assert report.loc["ratio", columns].min() == pytest.approx(
        demographic_parity_ratio(y_true, y_pred, sensitive_features=group, sample_weight=sw),
        abs=1e-12)


def test_multiclass_selection_rate_named_and_bootstrapped():
    y_true, y_pred, group, _ = _multiclass(seed=1, n=120)
    report = group_report(y_true, y_pred, sensitive_features=group, n_bootstrap=20,
                          random_state=0, metrics={"sr": "selection_rate", "acc": "accuracy"})
    assert list(report.columns) == [
        "count", "sr[cat]", "sr[cat]_ci_low", "sr[cat]_ci_high", "sr[dog]", "sr[dog]_ci_low",
        "sr[dog]_ci_high", "sr[emu]", "sr[emu]_ci_low", "sr[emu]_ci_high", "acc",
        "acc_ci_low", "acc_ci_high"]
    # binary targets keep their single column
    binary = group_report([0, 1, 1, 0], [0, 1, 0, 0], sensitive_features=["a", "a", "b", "b"],
                          metrics=["selection_rate"])
    assert list(binary.columns) == ["count", "selection_rate"]


# -- 2. the scorers' sensitive_features= ----------------------------------------------------------

def _adult_like(n=600, seed=0):
    rng = np.random.default_rng(seed)
    race = rng.choice(["w", "b", "o"], size=n, p=[0.6, 0.3, 0.1])
    X = pd.DataFrame({"x1": rng.normal(size=n) + (race == "w"), "x2": rng.normal(size=n),
                      "race": race, "sex": rng.choice(["F", "M"], size=n)})
    y = (X["x1"] + rng.normal(size=n) > 0.5).astype(int).to_numpy()
    model = make_pipeline(make_column_transformer((StandardScaler(), ["x1", "x2"])),
                          LogisticRegression())
    return X, y, model


def _by_hand(X, y, model, column):
    values = []
    for train, test in CV.split(X, y):
        fitted = sklearn.clone(model).fit(X.iloc[train], y[train])
        values.append(demographic_parity_difference(
            y[test], fitted.predict(X.iloc[test]), sensitive_features=X[column].iloc[test]))
    return np.array(values)


def test_scorer_takes_sensitive_features_column_name():
    X, y, model = _adult_like()
    dp = make_fairness_scorer("demographic_parity_difference", sensitive_features="race")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scores = cross_validate(model, X, y, cv=CV, scoring=dp, error_score="raise")
    assert np.all(np.isfinite(scores["test_score"]))  # was nan in every fold
    np.testing.assert_allclose(scores["test_score"], -_by_hand(X, y, model, "race"),
                               atol=1e-12)
    assert "sensitive_features='race'" in repr(dp)


def test_scorer_sensitive_features_in_every_factory_and_search():
    X, y, model = _adult_like()
    scoring = {
        "acc": "accuracy",
        "dp": make_fairness_scorer("demographic_parity_difference",
                                   sensitive_features=["race", "sex"]),
        "ced": make_calibration_scorer("calibration_error_difference",
                                       sensitive_features="race", n_bins=5),
        "es": make_equity_scaled_scorer("roc_auc", sensitive_features="race"),
    }
    search = GridSearchCV(model, {"logisticregression__C": [0.01, 1.0]}, cv=CV,
                          scoring=scoring, refit="acc", error_score="raise").fit(X, y)
    for key in ("dp", "ced", "es"):
        assert np.all(np.isfinite(search.cv_results_[f"mean_test_{key}"])), key


def test_deprecated_sensitive_spelling_warns_and_agrees():
    X, y, model = _adult_like()
    model.fit(X, y)
    new = make_fairness_scorer("demographic_parity_difference", sensitive_features="race")
    for factory, args in [(make_fairness_scorer, ("demographic_parity_difference",)),
                          (make_equity_scaled_scorer, ("accuracy",)),
                          (make_calibration_scorer, ("calibration_error_difference",))]:
        with pytest.warns(FutureWarning, match=r"sensitive=\.\.\.\) is deprecated.*"
                                               r"sensitive_features"):
            old = factory(*args, sensitive="race")
        assert np.isfinite(old(model, X, y))
    with pytest.warns(FutureWarning):
        old = make_fairness_scorer("demographic_parity_difference", sensitive="race")
    assert old(model, X, y) == new(model, X, y)
    with pytest.warns(FutureWarning), pytest.raises(TypeError, match="both sensitive_features"):
        make_fairness_scorer("demographic_parity_difference", sensitive="race",
                             sensitive_features="race")


@pytest.mark.parametrize("factory, metric", [
    (make_fairness_scorer, "demographic_parity_difference"),
    (make_calibration_scorer, "expected_calibration_error"),
    (make_equity_scaled_scorer, "accuracy"),
])
def test_unknown_keyword_is_a_type_error(factory, metric):
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'sensitve_features' "
                                        r"\(did you mean sensitive_features=\?\)"):
        factory(metric, sensitve_features="race")
    with pytest.raises(TypeError, match="unexpected keyword argument 'groups'"):
        factory(metric, groups="race")
    with pytest.raises(TypeError, match="unexpected keyword argument 'sample_weight'"):
        factory(metric, sample_weight=[1, 2])


def test_metric_keywords_still_pass():
    X, y, model = _adult_like()
    model.fit(X, y)
    make_fairness_scorer("demographic_parity_difference", sensitive_features="race",
                         method="to_overall")(model, X, y)
    make_equity_scaled_scorer("accuracy", sensitive_features="race", alpha=0.5)(model, X, y)
    make_equity_scaled_scorer("roc_auc", sensitive_features="race",
                              kind="performance_scaled_disparity", method="max")(model, X, y)
    make_calibration_scorer("expected_calibration_error", n_bins=5)(model, X, y)


def test_scorer_column_errors_are_short_and_resolved_like_the_estimator():
    rng = np.random.default_rng(0)
    wide = pd.DataFrame(rng.normal(size=(50, 300)), columns=[f"feature_{i}" for i in range(300)])
    y = (wide["feature_0"] > 0).astype(int).to_numpy()
    model = LogisticRegression().fit(wide, y)
    dp = make_fairness_scorer("demographic_parity_difference", sensitive_features="sex")
    with pytest.raises(ValueError) as info:
        dp(model, wide, y)
    message = str(info.value)
    assert len(message) < 400, len(message)
    assert "sensitive_features names column(s) ['sex'] that are not in X" in message
    assert "(290 more)" in message
    routed = make_fairness_scorer("demographic_parity_difference")
    with pytest.raises(ValueError, match="sensitive_features is required") as info:
        routed(model, wide, y)
    assert "sensitive=" not in str(info.value)
    with pytest.raises(ValueError, match="sensitive_features must be None"):
        make_fairness_scorer("demographic_parity_difference",
                             sensitive_features=np.array(["a", "b"]))


# -- 3. ConstrainedRefit's fallback ---------------------------------------------------------------

CV_RESULTS = {"mean_test_acc": np.array([0.9, 0.8, 0.55]),
              "mean_test_dp": np.array([-0.3, -0.2, -0.12])}


def test_constrained_refit_fallback_closest_names_bound_and_best_value():
    refit = ConstrainedRefit("acc", "dp", bound=0.05)
    assert refit.fallback == "closest"
    with pytest.warns(FairnessConstraintWarning) as record:
        assert refit(CV_RESULTS) == 2
    message = str(record[0].message)
    assert "dp <= 0.05 (the bound)" in message
    assert "best value any of the 3 candidates reached is 0.12" in message
    assert "fallback='closest'" in message and "0.35 below the best-scoring" in message
    assert refit.fell_back_ and refit.score_ == 0.55 and refit.constraint_value_ == 0.12


def test_constrained_refit_fallback_best_score_and_raise():
    refit = ConstrainedRefit("acc", "dp", bound=0.05, fallback="best_score")
    with pytest.warns(FairnessConstraintWarning, match=r"dp <= 0.05 \(the bound\).*0.12.*"
                                                       r"best-scoring candidate"):
        assert refit(CV_RESULTS) == 0
    assert refit.score_ == 0.9 and refit.fell_back_
    with pytest.raises(ValueError, match=r"No candidate has dp <= 0.05 \(the bound\).*0.12"):
        ConstrainedRefit("acc", "dp", bound=0.05, fallback="raise")(CV_RESULTS)
    with pytest.raises(ValueError, match="fallback must be one of"):
        ConstrainedRefit("acc", "dp", bound=0.05, fallback="nearest")(CV_RESULTS)
    with pytest.warns(FutureWarning, match="least_violation"), \
            pytest.warns(FairnessConstraintWarning):
        assert ConstrainedRefit("acc", "dp", bound=0.05,
                                fallback="least_violation")(CV_RESULTS) == 2
    ok = ConstrainedRefit("acc", "dp", bound=0.25)
    assert ok(CV_RESULTS) == 1 and not ok.fell_back_ and ok.score_ == 0.8


def test_constrained_refit_best_score_absent_and_documented():
    X, y, model = _adult_like(n=300)
    refit = ConstrainedRefit("acc", "dp", bound=1.0)
    search = GridSearchCV(model, {"logisticregression__C": [0.01, 1.0]}, cv=CV, refit=refit,
                          scoring={"acc": "accuracy", "dp": make_fairness_scorer(
                              "demographic_parity_difference", sensitive_features="race")})
    search.fit(X, y)
    assert not hasattr(search, "best_score_")
    assert refit.score_ == search.cv_results_["mean_test_acc"][search.best_index_]
    assert "best_score_" in ConstrainedRefit.__doc__
    docs = (DOC.parent / "metrics.md").read_text()
    assert "`best_score_` is absent" in docs


# -- 4. WeightedResampler's routing message -------------------------------------------------------

def test_resampler_error_names_the_right_request():
    X = np.arange(20.0).reshape(-1, 1)
    y = np.array([0, 1] * 10)
    with pytest.raises(ValueError, match="Reweighing needs sensitive_features") as info:
        WeightedResampler(Reweighing()).fit_resample(X, y)
    message = str(info.value)
    assert "set_fit_resample_request(sensitive_features=True)" in message
    assert "enable_metadata_routing=True" in message
    assert "set_fit_request(" not in message
    assert not hasattr(WeightedResampler(), "set_fit_request")


# -- 5. compute_sample_weight renamed -------------------------------------------------------------

def test_strategy_sample_weight_and_deprecated_alias():
    from sklearn.utils.class_weight import compute_sample_weight as sk_compute_sample_weight

    import sklearn_fairloss.weighting as weighting

    y = np.array([1, 1, 1, 0, 1, 0, 0, 0])
    sex = np.array(["m", "m", "m", "m", "f", "f", "f", "f"])
    new = strategy_sample_weight(Reweighing(), y, sex)
    with pytest.warns(FutureWarning, match="strategy_sample_weight"):
        old = weighting.compute_sample_weight(Reweighing(), y, sex)
    np.testing.assert_array_equal(new, old)
    np.testing.assert_allclose(strategy_sample_weight("class_balanced", y),
                               sk_compute_sample_weight("balanced", y), rtol=1e-13)
    assert "strategy_sample_weight" in weighting.__all__
    assert "strategy_sample_weight" in (DOC.parent / "weighting.md").read_text()


# -- 6. the docs page "Passing sensitive features" ------------------------------------------------

def test_sensitive_features_page_examples_run(capsys):
    pytest.importorskip("imblearn")
    pytest.importorskip("torch")
    text = DOC.read_text()
    for name in ("FairLossClassifier", "WeightedClassifier", "WeightedResampler",
                 "GroupThresholds", "group_report", "make_fairness_scorer"):
        assert f"| `{name}" in text or f"(`{name}" in text, name
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 5
    namespace = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        for block in blocks:
            exec(compile(block, str(DOC), "exec"), namespace)
    assert np.all(np.isfinite(namespace["result"]["test_dp"]))
    assert "selection_rate" in capsys.readouterr().out
    assert "sensitive_features.md" in (DOC.parent / "index.md").read_text()
