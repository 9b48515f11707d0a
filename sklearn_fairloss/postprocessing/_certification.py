"""Certifying a fairness bound on held-out rows: the statistics that ``fairness_bound=`` uses.

A model's decisions on rows it did not train on give each group's rate of predicted positives
(selection rate, true- or false-positive rate); :func:`rate_gap_upper_bound` turns them into
the largest gap between groups and a one-sided upper confidence bound of its population value.
:func:`certifying_fraction` sizes the held-out split so that the bound's margin is small enough
for a stated bound, and :func:`certify_group_thresholds` fits :class:`GroupThresholds` on
training rows at the largest tolerance whose held-out upper bound meets the bound. Used by
:class:`~sklearn_fairloss.FairLossClassifier` (``fairness_bound=``) and by
:class:`GroupThresholdClassifier` (any classifier). Numpy and scipy only.
"""

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from .._docstrings import doc_filler
from .._validation import take_rows

__all__ = ["BoundEstimate", "certify_group_thresholds", "certifying_fraction",
           "fill_doc", "rate_gap_upper_bound"]

#: The citations of the certificate, shared by the docstrings that use it.
fill_doc = doc_filler({"certificate_references": """\
References
----------
.. [1] Agresti, A. and Caffo, B. (2000). "Simple and Effective Confidence Intervals for
   Proportions and Differences of Proportions Result from Adding Two Successes and Two
   Failures." The American Statistician 54(4), 280-288.
.. [2] Thomas, P. S., Castro da Silva, B., Barto, A. G., Giguere, S., Brun, Y. and
   Brunskill, E. (2019). "Preventing undesirable behavior of intelligent machines."
   Science 366(6468), 999-1004."""})

#: The certifying (held-out) split is made large enough that the margin of its two smallest
#: groups is at most this share of the bound (at the data's positive rate; 1/2 for TPR and
#: FPR), and at most this share of the rows.
MARGIN_SHARE = 0.5
MAX_HELD_OUT = 0.5
#: Group thresholds: each refit lowers the tolerance by the excess, at least this share of the
#: bound; at most this many fits.
TOLERANCE_STEP = 0.1
MAX_RULE_FITS = 5


@dataclass(frozen=True)
class BoundEstimate:
    """A fairness metric on some rows and its upper confidence bound: ``value`` (the
    largest gap between groups' rates), ``margin`` and ``upper = value + margin``."""

    value: float
    margin: float

    @property
    def upper(self):
        return self.value + self.margin


@fill_doc
def rate_gap_upper_bound(pred, y, group_sets, sample_weight=None,
                         conditions=("all",), confidence=0.9):
    r"""A fairness difference of hard predictions and its upper confidence bound.

    The metric is the largest gap, over the label ``conditions`` and each grouping of
    ``group_sets``, between two groups' rates of predicted positives: for ``"all"`` the
    selection rate (demographic parity difference), for ``1`` the true-positive rate, for ``0``
    the false-positive rate (equalized odds takes the larger of the last two, as fairlearn's
    ``equalized_odds_difference``). The upper bound is the largest, over the same pairs of
    groups ``(g, h)``, of Agresti and Caffo's one-sided bound

    .. math:: \tilde r_g - \tilde r_h + z \sqrt{\frac{\tilde r_g (1 - \tilde r_g)}{n_g + 2}
              + \frac{\tilde r_h (1 - \tilde r_h)}{n_h + 2}},\quad
              \tilde r = \frac{x + 1}{n + 2},\ z = \Phi^{-1}(\text{confidence}),

    for ``x`` positives among ``n`` rows (with weights: the weighted rate times Kish's effective
    size ``(sum w)^2 / sum w^2``). The true metric is the gap of one fixed pair, so the
    largest bound covers it with the stated confidence, without a correction for the number of
    pairs.

    Parameters
    ----------
    pred : ndarray of shape (n,)
        Predicted class codes, 1 the positive class.
    y : ndarray of shape (n,)
        True class codes (read for conditions 0 and 1).
    group_sets : list of ndarray of shape (n,)
        Non-negative group codes, one array per grouping (e.g. per attribute).
    sample_weight : ndarray of shape (n,), default=None
    conditions : tuple, default=("all",)
    confidence : float, default=0.9

    Returns
    -------
    BoundEstimate

    {certificate_references}

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_fairloss.postprocessing import rate_gap_upper_bound
    >>> pred = np.r_[np.ones(30), np.zeros(70), np.ones(20), np.zeros(80)]
    >>> groups = np.repeat([0, 1], 100)
    >>> bound = rate_gap_upper_bound(pred, None, [groups], confidence=0.9)
    >>> round(bound.value, 4), round(bound.margin, 4)
    (0.1, 0.0757)
    """
    pred = np.asarray(pred) == 1
    weights = np.ones(len(pred)) if sample_weight is None else np.asarray(sample_weight, float)
    z = float(norm.ppf(confidence))
    value, upper = 0.0, -np.inf
    for codes in group_sets:
        codes = np.asarray(codes)
        for condition in conditions:
            rows = np.ones(len(pred), bool) if condition == "all" else np.asarray(y) == condition
            w, c = weights[rows], codes[rows]
            n_groups = int(codes.max()) + 1 if len(codes) else 0
            total = np.bincount(c, weights=w, minlength=n_groups)
            square = np.bincount(c, weights=w * w, minlength=n_groups)
            positive = np.bincount(c, weights=w * pred[rows], minlength=n_groups)
            present = total > 0
            if present.sum() < 2:
                continue
            rate = positive[present] / total[present]
            size = total[present] ** 2 / square[present]
            value = max(value, float(rate.max() - rate.min()))
            smooth = (rate * size + 1) / (size + 2)
            var = smooth * (1 - smooth) / (size + 2)
            gaps = smooth[:, None] - smooth[None, :] + z * np.sqrt(var[:, None] + var[None, :])
            np.fill_diagonal(gaps, -np.inf)
            upper = max(upper, float(gaps.max()))
    if not np.isfinite(upper):
        return BoundEstimate(0.0, 0.0)
    return BoundEstimate(value, max(upper - value, 0.0))


def certifying_fraction(y, weights, group_sets, conditions, bound, confidence,
                        validation_fraction):
    """The share of the rows to hold out for certifying ``bound``: ``validation_fraction``, or
    more where that leaves the margin of the two smallest groups above half the bound, at
    most one half (or ``validation_fraction`` if larger).

    For groups of ``n_g`` and ``n_h`` rows of the whole data, a held-out share ``f`` gives a
    margin of about ``z sqrt(v (1 / (f n_g) + 1 / (f n_h)))`` (``v = p (1 - p)`` at the data's
    positive rate ``p`` for the selection rate, ``1/4`` for TPR and FPR; sizes are Kish's
    effective sizes with weights), so ``f >= z^2 v (1 / n_g + 1 / n_h) / (bound / 2)^2``.

    Parameters
    ----------
    y : ndarray of shape (n,)
        Class codes, 1 the positive class.
    weights : ndarray of shape (n,)
    group_sets : list of ndarray of shape (n,)
        Group codes, one array per grouping.
    conditions : tuple
        ``"all"`` (selection rate), ``1`` (TPR), ``0`` (FPR).
    bound, confidence, validation_fraction : float

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_fairloss.postprocessing import certifying_fraction
    >>> y = np.tile([0, 0, 0, 1], 2500)
    >>> groups = np.repeat([0, 1], [2000, 8000])
    >>> f = certifying_fraction(y, np.ones(10000), [groups], ("all",), 0.05, 0.9, 0.1)
    >>> round(float(f), 3)  # 1.2816^2 * 0.25 * 0.75 * (1/2000 + 1/8000) / 0.025^2
    0.308
    """
    positive = float(np.average(y == 1, weights=weights))
    z = float(norm.ppf(confidence))
    need = float(validation_fraction)
    for codes in group_sets:
        for condition in conditions:
            rows = np.ones(len(y), bool) if condition == "all" else y == condition
            var = positive * (1 - positive) if condition == "all" else 0.25
            total = np.bincount(codes[rows], weights=weights[rows])
            squares = np.bincount(codes[rows], weights=weights[rows] ** 2)
            sizes = np.sort(total[total > 0] ** 2 / squares[total > 0])
            if len(sizes) >= 2:
                need = max(need, z * z * var * (1 / sizes[0] + 1 / sizes[1])
                           / (MARGIN_SHARE * bound) ** 2)
    return min(need, max(MAX_HELD_OUT, float(validation_fraction)))


def certify_group_thresholds(rule, proba, y, weights, sensitive, train, held_out, cells,
                             bound, conditions, confidence):
    """Fit ``rule`` (a :class:`GroupThresholds`) on the ``train`` rows at the largest tolerance
    whose decisions on the ``held_out`` rows meet ``bound`` with ``confidence``.

    The tolerance starts at the bound less the margin of the held-out group sizes and is
    lowered by the excess of the held-out upper bound (at least a tenth of the bound), refitting
    on the training rows, until the upper bound meets the bound (at most five fits, or
    tolerance 0). The held-out rows choose the tolerance and certify; the thresholds are fitted
    on the training rows only.

    Parameters
    ----------
    rule : GroupThresholds
    proba : ndarray of shape (n, 2)
        Probabilities of every row.
    y, weights : ndarray of shape (n,)
        Class codes and row weights.
    sensitive : array-like or DataFrame of n rows
        The protected attribute(s), as ``rule`` takes them.
    train, held_out : ndarray of int
        Row indices.
    cells : ndarray of shape (n,)
        Each row's group (cell) code, for the certification.
    bound, confidence : float
    conditions : tuple

    Returns
    -------
    rule : GroupThresholds
        Fitted.
    estimate : BoundEstimate
        The held-out metric of its decisions and the margin.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_fairloss.postprocessing import GroupThresholds, certify_group_thresholds
    >>> rng = np.random.default_rng(0)
    >>> group = rng.integers(0, 2, 20000)
    >>> p = 1 / (1 + np.exp(-(rng.normal(size=20000) + group - 1)))
    >>> y = (rng.random(20000) < p).astype(int)
    >>> proba = np.column_stack([1 - p, p])
    >>> rows = rng.permutation(20000)
    >>> rule, estimate = certify_group_thresholds(
    ...     GroupThresholds(), proba, y, np.ones(20000), group, rows[:12000], rows[12000:],
    ...     group, 0.05, ("all",), 0.9)
    >>> bool(estimate.upper <= 0.05)
    True
    """
    held_y, held_w, held_cells = y[held_out], weights[held_out], [cells[held_out]]

    def certify(pred):
        return rate_gap_upper_bound(pred, held_y, held_cells, held_w, conditions, confidence)

    margin = certify((proba[held_out, 1] >= 0.5).astype(int)).margin
    tolerance = max(bound - margin, 0.0)
    for _ in range(MAX_RULE_FITS):
        rule.set_params(tolerance=tolerance)
        rule.fit(proba[train], y[train], sample_weight=weights[train],
                 sensitive_features=take_rows(sensitive, train))
        estimate = certify(rule.predict(proba[held_out],
                                        sensitive_features=take_rows(sensitive, held_out)))
        if estimate.upper <= bound + 1e-12 or tolerance == 0.0:
            break
        tolerance = max(tolerance - max(estimate.upper - bound, TOLERANCE_STEP * bound), 0.0)
    return rule, estimate
