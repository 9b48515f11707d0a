"""Group-specific decision thresholds chosen for demographic parity or equal opportunity.

A post-processing rule on top of calibrated probabilities (numpy only, no torch): one
threshold per protected group (per intersectional cell with several attributes), chosen on the
training rows so that the groups' positive rates (demographic parity) or true-positive rates
(equal opportunity) lie within ``tolerance`` of each other, at the highest expected accuracy.
"""

import numpy as np

from .._param_validation import Options, Real
from ._decision import DecisionRuleBase
from ._group_index import encode_groups, lookup_groups

__all__ = ["CONSTRAINTS", "GroupThresholds"]

CONSTRAINTS = ("demographic_parity", "equal_opportunity")

#: Number of grid points for the lower end of the tolerance band, over ``[0, 1 - tolerance]``.
_GRID_SIZE = 2001
#: Groups of at most this many rows add each of their rates as a lower end (exact search).
_EXACT_GROUP_ROWS = 500

MSG_SF_REQUIRED = (
    "GroupThresholds.{method} needs sensitive_features: the protected attribute(s) of each row "
    "(1-D array-like, 2-D array or DataFrame){where}. For a FairLossClassifier deciding with "
    "group thresholds, {action}."
)
MSG_SF_FIT = MSG_SF_REQUIRED.format(method="fit", where="",
                                    action="pass sensitive_features to fit")
MSG_SF_PREDICT = MSG_SF_REQUIRED.format(
    method="predict", where=", as given to fit",
    action="pass predict(X, sensitive_features=...) or, inside a meta-estimator, request it "
    "with set_predict_request(sensitive_features=True)")


class _SecondArgument:
    """Default of ``GroupThresholds.fit(sensitive_features=)``: the groups are the second
    positional argument (the call ``fit(proba, groups)`` of earlier releases)."""

    def __repr__(self):
        return "<the second argument>"


_SECOND_ARGUMENT = _SecondArgument()


class GroupThresholds(DecisionRuleBase):
    r"""One decision threshold per protected group, for demographic parity or equal opportunity.

    For binary problems with calibrated probabilities :math:`p_i = P(y=1 \mid x_i)`. Within
    group :math:`g`, predicting positive for the rows of highest :math:`p` is the most
    accurate way to reach a given rate, so the rule searches, over the positions of a band
    ``[a, a + tolerance]``, one threshold per group that keeps every group's rate inside the
    band and minimises the expected number of errors
    :math:`\sum_{i:\hat y_i=1} w_i (1 - p_i) + \sum_{i:\hat y_i=0} w_i p_i` (a plug-in
    estimate that needs no labels: the probabilities stand in for them). The rate is the
    share of predicted positives (``"demographic_parity"``) or the expected true-positive rate
    :math:`\sum_{\hat y_i=1} w_i p_i / \sum_i w_i p_i` (``"equal_opportunity"``). This is the
    group-threshold form of the optimal fair classifier of Hardt et al. (2016) and Corbett-Davies
    et al. (2017), deterministic and with a tolerance; fairlearn's ``ThresholdOptimizer``
    randomises between two thresholds per group and needs exact parity instead.

    When the group-blind rule ``p >= 0.5`` already keeps the rates within ``tolerance`` on the
    fitting rows, no group thresholds are kept (``thresholds_`` is None) and :meth:`predict`
    needs no ``sensitive_features``.

    Parameters
    ----------
    constraint : {"demographic_parity", "equal_opportunity"}, default="demographic_parity"
        The rate the groups must share.
    tolerance : float, default=0.0
        Largest allowed difference between the groups' rates on the fitting rows, in
        ``[0, 1)``. A group of ``n`` rows can only take rates ``k / n``, so exact equality is
        rarely possible: a tolerance below the largest step from one row to the next in any
        group (``1 / n`` of the smallest group for demographic parity without weights) is
        raised to that step (``tolerance_``), and ``0`` means "as equal as the group sizes
        allow". Rows with tied probabilities share a decision, so a band can also be out of
        reach of a group; such bands are skipped. Rates on new data
        also move by sampling noise: for a group of ``n`` rows about ``sqrt(r (1 - r) / n)``.

    Attributes
    ----------
    groups_ : list
        The groups seen in :meth:`fit` (tuples for several attributes).
    sensitive_names_ : list of str
        Names of the attributes seen in :meth:`fit` (``sensitive_feature_<j>`` when unnamed).
    tolerance_ : float
        The tolerance applied: ``tolerance``, or the largest one-row rate step if larger.
    thresholds_ : ndarray of shape (n_groups,) or None
        The positive-class probability threshold of each group (predict positive when
        ``p >= threshold``), or None when the group-blind threshold 0.5 meets the constraint.
    rates_ : ndarray of shape (n_groups,)
        Each group's rate (positive rate or expected true-positive rate) on the fitting rows
        under the chosen rule.
    expected_accuracy_ : float
        Plug-in expected accuracy of the chosen rule on the fitting rows.

    References
    ----------
    .. [1] Hardt, M., Price, E. and Srebro, N. (2016). "Equality of Opportunity in Supervised
       Learning." NeurIPS.
    .. [2] Corbett-Davies, S., Pierson, E., Feller, A., Goel, S. and Huq, A. (2017).
       "Algorithmic Decision Making and the Cost of Fairness." KDD.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_fairloss.postprocessing import GroupThresholds
    >>> rng = np.random.default_rng(0)
    >>> group = np.repeat(["a", "b"], 500)
    >>> proba = np.clip(rng.beta(2, 5, 1000) + 0.25 * (group == "a"), 0, 1)
    >>> rule = GroupThresholds("demographic_parity", tolerance=0.02).fit(proba, group)
    >>> pred = rule.predict(proba, group)
    >>> bool(abs(pred[group == "a"].mean() - pred[group == "b"].mean()) <= 0.02)
    True
    """

    binary = True
    _binary_message = "{where} needs a binary y (one threshold per group); got {n_classes} classes."
    _parameter_constraints = {
        "constraint": [Options(*CONSTRAINTS)],
        "tolerance": [Real(0, 1, high_open=True)],
    }

    def __init__(self, constraint="demographic_parity", tolerance=0.0):
        self.constraint = constraint
        self.tolerance = tolerance

    def _rates(self, proba, weights, predicted):
        """Rate of each row set (positive rate, or expected true-positive rate)."""
        if self.constraint == "demographic_parity":
            return (weights * predicted).sum() / weights.sum()
        mass = (weights * proba).sum()
        return (weights * proba * predicted).sum() / mass if mass > 0 else 0.0

    def _curves(self, proba, weights):
        """For the rows of one group sorted by decreasing ``proba``: the rate and the expected
        errors when the first ``j`` rows are predicted positive, at the positions ``j`` a
        threshold can realise (0, ``n`` and between distinct probabilities: tied rows share
        a decision). Returns the sorted probabilities, the positions, the rates and the
        errors."""
        order = np.argsort(-proba, kind="stable")
        p, w = proba[order], weights[order]
        gain = w if self.constraint == "demographic_parity" else w * p
        total = gain.sum()
        rate = np.concatenate([[0.0], np.cumsum(gain)]) / (total if total > 0 else 1.0)
        false_pos = np.concatenate([[0.0], np.cumsum(w * (1 - p))])
        missed = np.concatenate([np.cumsum((w * p)[::-1])[::-1], [0.0]])
        cut = np.concatenate([[True], p[1:] != p[:-1], [True]])
        positions = np.flatnonzero(cut)
        return p, positions, rate[positions], (false_pos + missed)[positions]

    def fit(self, proba, y=None, *, sample_weight=None, sensitive_features=_SECOND_ARGUMENT,
            class_prior=None, log_prior_shift=None):
        """Choose the thresholds on calibrated probabilities.

        Parameters
        ----------
        proba : array-like of shape (n_samples,) or (n_samples, 2)
            Calibrated positive-class probabilities (or both columns of ``predict_proba``).
        y : array-like of shape (n_samples,), default=None
            Not used: the rule needs no labels (the probabilities stand in for them). When
            ``sensitive_features`` is not passed at all, this second argument holds the
            sensitive features instead, so that ``fit(proba, groups)`` works.
        sample_weight : array-like of shape (n_samples,), default=None
        sensitive_features : array-like of shape (n_samples,) or (n_samples, k), or DataFrame
            The protected attribute(s); with several, groups are their combinations. Needed;
            when not passed, the second argument is used (see ``y``); passing None is an
            error.
        class_prior, log_prior_shift : ignored
            Accepted for the decision-rule interface.

        Returns
        -------
        self : GroupThresholds
        """
        if sensitive_features is _SECOND_ARGUMENT:
            y, sensitive_features = None, y
        return super().fit(proba, y, sample_weight=sample_weight,
                           sensitive_features=sensitive_features)

    def _fit(self, proba, y, weights, *, sensitive_features=None, **_):
        if sensitive_features is None:
            raise ValueError(MSG_SF_FIT)
        codes, self.groups_, self.sensitive_names_ = encode_groups(
            sensitive_features, len(proba), reference="proba")
        weights = np.ones(len(proba)) if weights is None else weights
        rows = [codes == g for g in range(len(self.groups_))]
        curves = [self._curves(proba[r], weights[r]) for r in rows]
        blind = [self._rates(proba[r], weights[r], proba[r] >= 0.5) for r in rows]
        total = weights.sum()
        tol = max(float(self.tolerance), max(self._largest_step(proba[r], weights[r])
                                             for r in rows))
        self.tolerance_ = tol
        if max(blind) - min(blind) <= tol:
            self.thresholds_ = None
            self.rates_ = np.asarray(blind)
            errors = sum(e[np.searchsorted(pos, np.sum(p >= 0.5))] for p, pos, _, e in curves)
            self.expected_accuracy_ = 1 - errors / total
            return
        best = None
        for low in self._band_starts(curves, tol):
            chosen = [self._best_in_band(rate, errors, low, low + tol)
                      for _, _, rate, errors in curves]
            if any(k is None for k in chosen):
                continue
            errors = sum(c[3][k] for c, k in zip(curves, chosen))
            if best is None or errors < best[0]:
                best = (errors, chosen)
        errors, chosen = best
        self.thresholds_ = np.array([self._threshold(p, pos[k])
                                     for (p, pos, _, _), k in zip(curves, chosen)])
        self.rates_ = np.array([rate[k] for (_, _, rate, _), k in zip(curves, chosen)])
        self.expected_accuracy_ = 1 - errors / total

    def _largest_step(self, proba, weights):
        """Largest change of the group's rate from one row to the next (ties aside)."""
        gain = weights if self.constraint == "demographic_parity" else weights * proba
        total = gain.sum()
        return gain.max() / total if total > 0 else 0.0

    @staticmethod
    def _band_starts(curves, tolerance):
        """Candidate lower ends of the band: a grid, plus every rate of the small groups (an
        optimal band can start at the lowest chosen rate; for small groups, whose rates are
        coarse, the grid alone could miss it)."""
        starts = [np.linspace(0.0, 1.0 - tolerance, _GRID_SIZE)]
        starts += [rate for _, _, rate, _ in curves if len(rate) <= _EXACT_GROUP_ROWS + 1]
        starts = np.unique(np.concatenate(starts))
        return starts[starts <= 1.0 - tolerance + 1e-12]

    @staticmethod
    def _best_in_band(rate, errors, low, high):
        """Position ``j`` with ``rate[j]`` in ``[low, high]`` of fewest expected errors, or
        None when no position of the group falls in the band."""
        lo = np.searchsorted(rate, low - 1e-12, side="left")
        hi = np.searchsorted(rate, high + 1e-12, side="right")
        if hi > lo:
            return lo + int(np.argmin(errors[lo:hi]))
        return None

    @staticmethod
    def _threshold(sorted_proba, j):
        """Threshold predicting the first ``j`` rows of ``sorted_proba`` (decreasing)."""
        if j == 0:
            return np.inf
        if j == len(sorted_proba):
            return -np.inf
        return 0.5 * (sorted_proba[j - 1] + sorted_proba[j])

    def _predict(self, proba, sensitive_features):
        if self.thresholds_ is None:
            return (proba >= 0.5).astype(np.int64)
        if sensitive_features is None:
            raise ValueError(MSG_SF_PREDICT)
        index, unseen = lookup_groups(sensitive_features, len(proba), self.groups_,
                                      self.sensitive_names_, reference="proba")
        if unseen:
            raise ValueError(
                f"sensitive_features holds group(s) not seen in fit: {unseen}; GroupThresholds "
                f"has thresholds for {self.groups_} only.")
        return (proba >= self.thresholds_[index]).astype(np.int64)

    @property
    def requires_sensitive_features(self):
        """Whether :meth:`predict` needs ``sensitive_features`` (group thresholds were kept);
        True before :meth:`fit`, which always needs them."""
        return getattr(self, "thresholds_", True) is not None
