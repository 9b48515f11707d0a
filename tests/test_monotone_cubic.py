"""``MonotoneCubicScaling``: logistic calibration on a monotone cubic of the binary margin,
against scikit-learn's LogisticRegression on ``(m, m^2, m^3)`` without intercept; every
decision and the ranking kept whatever the data; weights as duplicated rows; errors."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from sklearn_fairloss.postprocessing import POST_CALIBRATORS, MonotoneCubicScaling


def _powers(m):
    return np.column_stack([m, m ** 2, m ** 3])


def _logits(m):
    return np.column_stack([0.3 * m, 1.3 * m])  # margin m, an arbitrary shared part


def _data(log_odds, n=6000, seed=0):
    rng = np.random.default_rng(seed)
    m = rng.normal(scale=3.0, size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-log_odds(m)))).astype(int)
    return m, y


def test_matches_logistic_regression_on_the_powers_of_the_margin():
    """Where the likelihood's optimum is increasing (true log-odds 0.6 m - 0.03 m^2 +
    0.01 m^3), the constrained fit is scikit-learn's unpenalised logistic regression on
    (m, m^2, m^3) without intercept: same coefficients, same probabilities."""
    m, y = _data(lambda m: 0.6 * m - 0.03 * m ** 2 + 0.01 * m ** 3)
    reference = LogisticRegression(C=np.inf, fit_intercept=False, tol=1e-12,
                                   max_iter=10000).fit(_powers(m), y)
    cal = MonotoneCubicScaling().fit(_logits(m), y)
    np.testing.assert_allclose(cal.coef_, reference.coef_[0], rtol=1e-3, atol=1e-5)
    m_new = np.linspace(-12, 12, 101)
    np.testing.assert_allclose(cal.predict_proba(_logits(m_new)),
                               reference.predict_proba(_powers(m_new)), atol=1e-5)
    a1, a2, a3 = reference.coef_[0]
    assert a3 > 0 and a2 ** 2 < 3 * a1 * a3  # the reference itself is increasing


@pytest.mark.parametrize("log_odds", [lambda m: -m, lambda m: 2.0 - 0.1 * m ** 2,
                                      lambda m: np.sin(2 * m)])
def test_every_decision_and_the_ranking_are_kept(log_odds):
    """Labels that would want a decreasing, shifted or wavy map: the calibrated probabilities
    still cross 1/2 where the margin crosses 0 and never reverse the order of two rows."""
    m, y = _data(log_odds)
    cal = MonotoneCubicScaling().fit(_logits(m), y)
    m_new = np.r_[np.linspace(-50, 50, 2001), 0.0, 1e-9, -1e-9]
    proba = cal.predict_proba(_logits(m_new))
    np.testing.assert_array_equal(proba.argmax(axis=1), (m_new > 0).astype(int))
    order = np.argsort(m_new)
    assert np.all(np.diff(proba[order, 1]) >= 0)


def test_weight_two_is_a_duplicated_row():
    m, y = _data(lambda m: 0.5 * m + 0.02 * m ** 3, n=800)
    w = np.where(np.arange(800) % 3 == 0, 2.0, 1.0)
    dup = np.r_[np.arange(800), np.flatnonzero(w == 2.0)]
    weighted = MonotoneCubicScaling().fit(_logits(m), y, sample_weight=w)
    repeated = MonotoneCubicScaling().fit(_logits(m[dup]), y[dup])
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-5, atol=1e-8)


def test_alias_and_errors():
    assert POST_CALIBRATORS["monotone_cubic"] is MonotoneCubicScaling
    with pytest.raises(ValueError, match="two classes"):
        MonotoneCubicScaling().fit(np.zeros((6, 3)), [0, 1, 2, 0, 1, 2])
    with pytest.raises(ValueError, match="max_iter"):
        MonotoneCubicScaling(max_iter=0).fit(np.zeros((4, 2)), [0, 1, 0, 1])
