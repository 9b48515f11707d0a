"""Post-hoc calibrators: recovery of known temperatures (global and per group), shrinkage
limits, identity truths, ECE improvements, gradient checks, clone/pickle and input errors.

Synthetic logits: true logits ``z``, labels drawn from ``softmax(z)``, the calibrator sees
``z * T_true`` (so the right temperature is ``T_true``). Tolerances use the asymptotic
standard error of the maximum-likelihood inverse temperature ``b`` of ``softmax(b z)`` at
``b = 1``: ``se = 1 / sqrt(n * I)`` with the Fisher information per row
``I = mean_i Var_{k ~ softmax(z_i)}(z_ik)``; we accept ``|T_hat / T_true - 1| < 5 se``
(a 5-sigma band: a failure means a bug, not bad luck).
"""

import pickle

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import check_grad
from scipy.special import softmax
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import log_loss

from sklearn_fairloss.calibration import (
    POST_CALIBRATORS,
    GroupTemperatureScaling,
    IsotonicCalibration,
    MatrixScaling,
    PostCalibratorBase,
    TemperatureScaling,
    VectorScaling,
    get_post_calibrator,
)
from sklearn_fairloss.metrics import expected_calibration_error
from sklearn_fairloss.postprocessing._calibrators import _nll_and_grad


def _draw(rng, n, k=3, scale=2.0):
    """True logits and labels drawn from their softmax."""
    z = rng.normal(scale=scale, size=(n, k))
    p = softmax(z, axis=1)
    y = (p.cumsum(axis=1) < rng.random((n, 1))).sum(axis=1)
    return z, np.minimum(y, k - 1)


def _se_inverse_temperature(z):
    """Asymptotic standard error of the MLE of b in softmax(b z) at b = 1."""
    p = softmax(z, axis=1)
    var = (p * z ** 2).sum(1) - (p * z).sum(1) ** 2
    return 1.0 / np.sqrt(len(z) * var.mean())


# ---------------------------------------------------------------------------------------------
# Temperature scaling
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("t_true", [0.5, 1.0, 2.5])
@pytest.mark.parametrize("k", [2, 4])
def test_temperature_recovers_known_temperature(t_true, k):
    rng = np.random.default_rng(int(10 * t_true) + k)
    z, y = _draw(rng, 4000, k)
    cal = TemperatureScaling().fit(z * t_true, y)
    assert abs(cal.temperature_ / t_true - 1) < 5 * _se_inverse_temperature(z)
    # Dividing by the fitted temperature undoes the miscalibration.
    np.testing.assert_allclose(cal.transform(z * t_true), z * t_true / cal.temperature_)


def test_temperature_is_the_log_loss_minimum():
    """Independent check with scikit-learn's log_loss: T_hat is a local minimum."""
    rng = np.random.default_rng(1)
    z, y = _draw(rng, 1000)
    cal = TemperatureScaling().fit(3 * z, y)

    def nll(t):
        return log_loss(y, softmax(3 * z / t, axis=1), labels=[0, 1, 2])

    t = cal.temperature_
    assert nll(t) < nll(t * 1.01) and nll(t) < nll(t / 1.01)


def test_temperature_keeps_the_predicted_class():
    rng = np.random.default_rng(2)
    z, y = _draw(rng, 500)
    cal = TemperatureScaling().fit(4 * z, y)
    np.testing.assert_array_equal(cal.predict_proba(4 * z).argmax(1), z.argmax(1))


@pytest.mark.parametrize("make", [TemperatureScaling, VectorScaling, IsotonicCalibration,
                                  GroupTemperatureScaling,
                                  lambda: GroupTemperatureScaling(shrinkage=10.0)])
def test_integer_weights_equal_duplicated_rows(make):
    rng = np.random.default_rng(3)
    z, y = _draw(rng, 400)
    g = rng.choice(["a", "b"], size=400)
    w = rng.integers(0, 3, size=400)
    rows = np.repeat(np.arange(400), w)
    weighted = make().fit(2 * z, y, sample_weight=w, sensitive_features=g)
    duplicated = make().fit(2 * z[rows], y[rows], sensitive_features=g[rows])
    np.testing.assert_allclose(weighted.predict_proba(2 * z, sensitive_features=g),
                               duplicated.predict_proba(2 * z, sensitive_features=g),
                               atol=1e-5)


# ---------------------------------------------------------------------------------------------
# Per-group temperatures
# ---------------------------------------------------------------------------------------------

def _grouped(rng, temps, n_per_group, k=3):
    zs, ys, gs = [], [], []
    for name, n in zip(temps, n_per_group):
        z, y = _draw(rng, n, k)
        zs.append(z)
        ys.append(y)
        gs.append(np.full(n, name, dtype=object))
    z, y, g = np.vstack(zs), np.concatenate(ys), np.concatenate(gs)
    t_row = np.array([temps[name] for name in g])
    return z, y, g, t_row


def test_group_temperatures_recover_known_temperatures():
    rng = np.random.default_rng(4)
    temps = {"a": 0.5, "b": 1.0, "c": 3.0}
    z, y, g, t_row = _grouped(rng, temps, [3000, 3000, 3000])
    cal = GroupTemperatureScaling().fit(z * t_row[:, None], y, sensitive_features=g)
    assert cal.groups_ == ["a", "b", "c"]
    for name, t_hat in zip(cal.groups_, cal.group_temperatures_):
        se = _se_inverse_temperature(z[g == name])
        assert abs(t_hat / temps[name] - 1) < 5 * se, (name, t_hat)
    # One global temperature cannot fit all three.
    t_global = TemperatureScaling().fit(z * t_row[:, None], y).temperature_
    assert 0.9 < t_global < 2.5


def test_group_calibration_lowers_every_groups_ece():
    rng = np.random.default_rng(5)
    temps = {"F": 0.4, "M": 2.5}
    z, y, g, t_row = _grouped(rng, temps, [6000, 6000], k=2)
    logits = z * t_row[:, None]
    fit, test = np.arange(len(y)) % 2 == 0, np.arange(len(y)) % 2 == 1
    group_cal = GroupTemperatureScaling().fit(logits[fit], y[fit], sensitive_features=g[fit])
    global_cal = TemperatureScaling().fit(logits[fit], y[fit])
    for name in temps:
        rows = test & (g == name)
        before = expected_calibration_error(y[rows], softmax(logits[rows], axis=1))
        after_global = expected_calibration_error(
            y[rows], global_cal.predict_proba(logits[rows]))
        after_group = expected_calibration_error(
            y[rows], group_cal.predict_proba(logits[rows], sensitive_features=g[rows]))
        assert after_group < 0.03
        assert after_group < before / 2
        assert after_group < after_global


def test_shrinkage_limits():
    rng = np.random.default_rng(6)
    temps = {"big": 2.0, "small": 0.5}
    z, y, g, t_row = _grouped(rng, temps, [3000, 100])
    logits = z * t_row[:, None]
    independent = GroupTemperatureScaling(shrinkage=0.0).fit(logits, y, sensitive_features=g)
    for name, t in zip(independent.groups_, independent.group_temperatures_):
        rows = g == name
        assert t == pytest.approx(TemperatureScaling().fit(logits[rows], y[rows]).temperature_,
                                  rel=1e-6)
    t_all = TemperatureScaling().fit(logits, y).temperature_
    assert independent.temperature_ == pytest.approx(t_all, rel=1e-6)
    huge = GroupTemperatureScaling(shrinkage=1e9).fit(logits, y, sensitive_features=g)
    np.testing.assert_allclose(huge.group_temperatures_, t_all, rtol=1e-3)
    infinite = GroupTemperatureScaling(shrinkage=np.inf).fit(logits, y, sensitive_features=g)
    np.testing.assert_allclose(infinite.group_temperatures_, t_all, rtol=1e-6)
    # In between, the small group moves towards the shared temperature, the big one barely.
    mid = GroupTemperatureScaling(shrinkage=10.0).fit(logits, y, sensitive_features=g)
    assert mid.temperature_ == pytest.approx(t_all, rel=1e-6)
    log_ind = np.log(independent.group_temperatures_)
    log_mid = np.log(mid.group_temperatures_)
    moved = (log_mid - log_ind) / (np.log(t_all) - log_ind)
    big, small = independent.groups_.index("big"), independent.groups_.index("small")
    assert 0.2 < moved[small] < 0.8
    assert abs(log_mid[big] - log_ind[big]) < 0.01
    # Stronger shrinkage pulls harder.
    strong = GroupTemperatureScaling(shrinkage=1000.0).fit(logits, y, sensitive_features=g)
    assert abs(np.log(strong.group_temperatures_[small] / t_all)) < abs(log_mid[small]
                                                                       - np.log(t_all))
    # Tiny shrinkage is close to independent temperatures.
    tiny = GroupTemperatureScaling(shrinkage=1e-6).fit(logits, y, sensitive_features=g)
    np.testing.assert_allclose(tiny.group_temperatures_, independent.group_temperatures_,
                               rtol=1e-3)


SF_FORMS = {
    "list": lambda a, b: list(a),
    "ndarray": lambda a, b: np.asarray(a),
    "series": lambda a, b: pd.Series(a, name="sex"),
    "2d_array": lambda a, b: np.column_stack([a, b]),
    "dataframe": lambda a, b: pd.DataFrame({"sex": a, "age": b}),
}


@pytest.mark.parametrize("form", list(SF_FORMS))
def test_sensitive_feature_forms(form):
    rng = np.random.default_rng(7)
    z, y = _draw(rng, 600)
    a = rng.choice(["F", "M"], size=600)
    b = rng.choice([0, 1], size=600)
    sf = SF_FORMS[form](a, b)
    cells = a if form in ("list", "ndarray", "series") else np.char.add(a, b.astype(str))
    cal = GroupTemperatureScaling().fit(2 * z, y, sensitive_features=sf)
    ref = GroupTemperatureScaling().fit(2 * z, y, sensitive_features=cells)
    assert len(cal.groups_) == len(ref.groups_)
    np.testing.assert_allclose(cal.transform(2 * z, sensitive_features=sf),
                               ref.transform(2 * z, sensitive_features=cells))
    if form == "dataframe":
        assert cal.sensitive_names_ == ["sex", "age"]
        assert all(isinstance(c, tuple) for c in cal.groups_)


def test_missing_sensitive_features_errors():
    rng = np.random.default_rng(8)
    z, y = _draw(rng, 100)
    with pytest.raises(ValueError, match="GroupTemperatureScaling.fit needs sensitive_features"):
        GroupTemperatureScaling().fit(z, y)
    cal = GroupTemperatureScaling().fit(z, y, sensitive_features=np.arange(100) % 2)
    with pytest.raises(ValueError, match="transform needs sensitive_features.*predict_proba"):
        cal.transform(z)
    with pytest.raises(ValueError, match="sensitive_features has 99 rows"):
        cal.transform(z, sensitive_features=np.arange(99) % 2)
    with pytest.raises(ValueError, match="2 attribute"):
        cal.transform(z, sensitive_features=np.zeros((100, 2)))
    with pytest.raises(ValueError, match="missing values"):
        cal.transform(z, sensitive_features=np.where(np.arange(100) < 3, np.nan, 0.0))


def test_unseen_group():
    rng = np.random.default_rng(9)
    z, y = _draw(rng, 300)
    g = np.arange(300) % 2
    cal = GroupTemperatureScaling().fit(3 * z, y, sensitive_features=g)
    new = np.where(np.arange(300) < 10, 7, g)
    with pytest.warns(UserWarning, match=r"not seen in fit: \[7\].*shared temperature"):
        out = cal.transform(3 * z, sensitive_features=new)
    np.testing.assert_allclose(out[:10], 3 * z[:10] / cal.temperature_)
    np.testing.assert_allclose(out[10:], cal.transform(3 * z[10:], sensitive_features=g[10:]))
    with pytest.raises(ValueError, match="not seen in fit"):
        cal.set_params(handle_unknown="error").transform(3 * z, sensitive_features=new)


# ---------------------------------------------------------------------------------------------
# Vector / matrix scaling, isotonic
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cls", [VectorScaling, MatrixScaling])
def test_affine_scaling_stays_near_identity_on_calibrated_logits(cls):
    rng = np.random.default_rng(10)
    z, y = _draw(rng, 4000, k=3)
    cal = cls().fit(z, y)
    coef = cal.coef_ if cls is VectorScaling else np.diag(cal.coef_)
    np.testing.assert_allclose(coef, 1.0, atol=0.1)
    np.testing.assert_allclose(cal.intercept_, 0.0, atol=0.1)
    if cls is MatrixScaling:
        off = cal.coef_ - np.diag(np.diag(cal.coef_))
        # Softmax ignores a constant added per row: compare centred columns.
        assert np.abs(off - off.mean(axis=1, keepdims=True)).max() < 0.15


def test_vector_scaling_recovers_biases_and_scales():
    rng = np.random.default_rng(11)
    z, y = _draw(rng, 6000, k=3)
    a, b = np.array([2.0, 1.0, 0.5]), np.array([1.0, 0.0, -1.0])
    cal = VectorScaling().fit((z - b) / a, y)   # calibrated logits are logits * a + b
    np.testing.assert_allclose(cal.coef_, a, rtol=0.1)
    np.testing.assert_allclose(cal.intercept_, b - b.mean(), atol=0.1)


def test_isotonic_keeps_calibrated_input_calibrated():
    rng = np.random.default_rng(12)
    z, y = _draw(rng, 8000, k=3)
    fit, test = slice(0, 4000), slice(4000, None)
    cal = IsotonicCalibration().fit(z[fit], y[fit])
    proba = cal.predict_proba(z[test])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    before = expected_calibration_error(y[test], softmax(z[test], axis=1))
    after = expected_calibration_error(y[test], proba)
    assert after < 0.03 and after < before + 0.015
    assert np.all(np.isfinite(cal.transform(z[test])))


@pytest.mark.parametrize("name", ["temperature", "vector", "matrix", "isotonic"])
@pytest.mark.parametrize("k", [2, 3])
def test_calibration_lowers_ece_on_overconfident_logits(name, k):
    rng = np.random.default_rng(13 + k)
    z, y = _draw(rng, 6000, k=k)
    logits = 3.0 * z
    cal = get_post_calibrator(name).fit(logits[:3000], y[:3000])
    before = expected_calibration_error(y[3000:], softmax(logits[3000:], axis=1))
    after = expected_calibration_error(y[3000:], cal.predict_proba(logits[3000:]))
    assert before > 0.05
    assert after < before / 2


# ---------------------------------------------------------------------------------------------
# Gradient checks (all optimisation is numpy with analytic gradients)
# ---------------------------------------------------------------------------------------------

def test_nll_gradient():
    rng = np.random.default_rng(14)
    z, y = _draw(rng, 50, k=4)
    w = rng.random(50)

    def f(s):
        return _nll_and_grad(s.reshape(50, 4), y, w)[0]

    def g(s):
        return _nll_and_grad(s.reshape(50, 4), y, w)[1].ravel()

    assert check_grad(f, g, z.ravel()) < 1e-5
    # The value is the weighted log loss of scikit-learn.
    assert f(z.ravel()) == pytest.approx(
        w.sum() * log_loss(y, softmax(z, axis=1), sample_weight=w, labels=range(4)))


@pytest.mark.parametrize("cal", [VectorScaling(alpha=0.1), MatrixScaling(alpha=0.1)])
def test_affine_objective_gradient(cal):
    rng = np.random.default_rng(15)
    z, y = _draw(rng, 60, k=3)
    w = rng.random(60)
    size = 6 if isinstance(cal, VectorScaling) else 12
    theta = rng.normal(size=size)
    assert check_grad(lambda t: cal._objective(t, z, y, w)[0],
                      lambda t: cal._objective(t, z, y, w)[1], theta) < 1e-5


def test_group_delta_is_the_objective_minimum():
    """The bounded Brent search finds the minimum of the shrunk objective (grid check)."""
    rng = np.random.default_rng(16)
    z, y = _draw(rng, 90, k=3)
    w = rng.random(90) * 2
    cal = GroupTemperatureScaling()
    for shrinkage in [0.0, 5.0, 50.0]:
        delta = cal._group_delta(3 * z, y, w, 0.3, shrinkage)
        grid = np.linspace(-3, 3, 6001)
        values = [cal._group_objective(d, 3 * z, y, w, 0.3, shrinkage) for d in grid]
        assert delta == pytest.approx(grid[int(np.argmin(values))], abs=2e-3)


# ---------------------------------------------------------------------------------------------
# Registry, clone, pickle
# ---------------------------------------------------------------------------------------------

def test_registry():
    assert set(POST_CALIBRATORS) >= {"temperature", "vector", "isotonic", "group_temperature",
                                     "group_temperature_shrunk"}
    assert get_post_calibrator(None) is None
    assert get_post_calibrator("group_temperature_shrunk").shrinkage > 0
    obj = VectorScaling(alpha=0.5)
    got = get_post_calibrator(obj)
    assert got is not obj and got.get_params() == obj.get_params()
    with pytest.raises(ValueError, match=r"Unknown post_calibration 'platypus'.*'temperature'"):
        get_post_calibrator("platypus")
    with pytest.raises(TypeError, match="post_calibration must be None"):
        get_post_calibrator(3)


#: Calibrators of a binary margin: the shared checks draw two classes for them.
BINARY_ONLY = {"monotone_cubic"}


@pytest.mark.parametrize("name", list(POST_CALIBRATORS))
def test_clone_and_pickle(name):
    rng = np.random.default_rng(17)
    z, y = _draw(rng, 300, k=2 if name in BINARY_ONLY else 3)
    g = np.arange(300) % 3
    cal = get_post_calibrator(name)
    assert isinstance(cal, PostCalibratorBase)
    assert clone(cal).get_params() == cal.get_params()
    cal.fit(2 * z, y, sensitive_features=g)
    restored = pickle.loads(pickle.dumps(cal))
    np.testing.assert_array_equal(restored.transform(2 * z, sensitive_features=g),
                                  cal.transform(2 * z, sensitive_features=g))
    assert not hasattr(clone(cal), "n_classes_")


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(POST_CALIBRATORS))
def test_bad_input(name):
    rng = np.random.default_rng(18)
    k = 2 if name in BINARY_ONLY else 3
    z, y = _draw(rng, 50, k=k)
    g = np.arange(50) % 2
    cal = get_post_calibrator(name)

    def fit(logits=z, labels=y, **kw):
        return clone(cal).fit(logits, labels, sensitive_features=g, **kw)

    with pytest.raises(NotFittedError):
        cal.transform(z, sensitive_features=g)
    with pytest.raises(ValueError, match="logits must be 2-D"):
        fit(logits=z[:, 0])
    with pytest.raises(ValueError, match="at least 2 columns"):
        fit(logits=z[:, :1])
    bad = z.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fit(logits=bad)
    with pytest.raises(ValueError, match="y has 49 rows"):
        fit(labels=y[:49])
    with pytest.raises(ValueError, match=rf"class codes in 0 \.\. {k - 1}"):
        fit(labels=y + 1)
    with pytest.raises(ValueError, match="integer class codes"):
        fit(labels=y + 0.5)
    with pytest.raises(ValueError, match="sample_weight has 49 rows"):
        fit(sample_weight=np.ones(49))
    with pytest.raises(ValueError, match="sample_weight must be finite and non-negative"):
        fit(sample_weight=-np.ones(50))
    fitted = fit()
    with pytest.raises(ValueError, match="logits has 4 columns but the calibrator was fitted"):
        fitted.transform(np.zeros((5, 4)), sensitive_features=g[:5])
    with pytest.raises(ValueError, match="NaN"):
        fitted.transform(bad, sensitive_features=g)


@pytest.mark.parametrize("params, match", [
    ({"shrinkage": -1.0}, "shrinkage must be"),
    ({"shrinkage": np.nan}, "shrinkage must be"),
    ({"handle_unknown": "ignore"}, "handle_unknown must be"),
])
def test_group_bad_params(params, match):
    z, y = _draw(np.random.default_rng(19), 20)
    with pytest.raises(ValueError, match=match):
        GroupTemperatureScaling(**params).fit(z, y, sensitive_features=np.arange(20) % 2)


def test_affine_bad_params():
    z, y = _draw(np.random.default_rng(20), 20)
    with pytest.raises(ValueError, match="alpha must be"):
        VectorScaling(alpha=-1).fit(z, y)
    with pytest.raises(ValueError, match="max_iter must be"):
        MatrixScaling(max_iter=0).fit(z, y)


# ---------------------------------------------------------------------------------------------
# docs/calibration.md: the post-hoc and display examples run
# ---------------------------------------------------------------------------------------------

def test_docs_examples_run(capsys):
    import re
    from pathlib import Path

    pytest.importorskip("matplotlib")
    text = (Path(__file__).resolve().parents[1] / "docs" / "calibration.md").read_text()
    text = text.split("## Training-time terms")[0]   # the other sections belong to their module
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 3
    for block in blocks:
        exec(compile(block, "docs/calibration.md", "exec"), {})
    import matplotlib.pyplot as plt

    plt.close("all")
    out = capsys.readouterr().out.split("\n")
    assert out[0] == "3.0" and out[1] == "True"
    assert out[2] == "{'F': 2.6, 'M': 0.5}"
    assert out[3] == "['F', 'M'] 2" and out[4] == "2000.0"
