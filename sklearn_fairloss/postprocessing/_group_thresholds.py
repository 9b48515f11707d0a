"""Group-specific decision thresholds chosen for demographic parity or equal opportunity.

A post-processing rule on top of calibrated probabilities (numpy only, no torch): one
threshold per protected group (per intersectional cell with several attributes), chosen on the
training rows so that the groups' positive rates (demographic parity) or true-positive rates
(equal opportunity) lie within ``tolerance`` of each other, at the highest expected accuracy.
"""

import warnings

import numpy as np

from .._param_validation import Options, Real
from ._decision import DecisionRuleBase
from ._group_index import encode_groups, lookup_groups

__all__ = ["CONSTRAINTS", "GroupThresholds"]

CONSTRAINTS = ("demographic_parity", "equal_opportunity")

UNSEEN_GROUPS = ("error", "global")

#: A group is constrained when its one-row rate step is at most ``tolerance`` or this many
#: times the square root of the finest group's step (``1.5 / sqrt(n)`` for its ``n`` rows:
#: three standard errors of a rate near 1/2 estimated from ``n`` rows).
_NOISE_FACTOR = 1.5
#: Slack of the band ``[low, low + tolerance]`` for rounding in the rates.
_EPS = 1e-12
#: Band positions of nearly equal (rounded) expected errors re-evaluated exactly.
_TIES = 32
#: Group-blind threshold: the most accurate rule for calibrated probabilities.
_BLIND = 0.5
#: Groups shown in a warning or an error message.
_SHOWN = 10

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


def _sorted_unique(values):
    """``np.unique`` by sorting (faster than its hash tables for floats)."""
    values = np.sort(values)
    return values[np.concatenate([[True], values[1:] != values[:-1]])]


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

    The search is exact and takes :math:`O(n \log n)` time for ``n`` rows, whatever the number
    of groups: every group's fewest errors is a step function of the band position, changing
    only where one of its own rates enters or leaves the band, so the band positions (every
    rate of every group) are swept once with the groups' changes merged.

    When the group-blind rule ``p >= 0.5`` already keeps the rates within ``tolerance`` on the
    fitting rows, no group thresholds are kept (``thresholds_`` is None) and :meth:`predict`
    needs no ``sensitive_features``.

    **Small groups.** A group's rate moves in steps of at least one row's share (``1 / n`` of
    its ``n`` rows for demographic parity without weights; ``rate_steps_``). Holding every
    group within a tolerance finer than the coarsest step is impossible, so the tolerance is
    raised to the steps of the groups constrained (``tolerance_``), but only up to the sampling
    noise of the finest group's rate: a group is constrained when its step is at most
    ``tolerance`` or ``1.5 * sqrt(s)``, with ``s`` the smallest step of any group (for ``n``
    rows, ``1.5 / sqrt(n)``, three standard errors of a rate near 1/2). A coarser group, or a
    group whose rate cannot move at all (no weight; for equal opportunity no expected
    positive), is left out of the constraint with a ``UserWarning`` naming it
    (``unconstrained_groups_``): it keeps the group-blind threshold 0.5, and the other groups
    stay within ``tolerance_`` of each other. One row of a third group thus no longer loosens
    the constraint between two groups of 1,000 rows to a tolerance of 1.

    Parameters
    ----------
    constraint : {"demographic_parity", "equal_opportunity"}, default="demographic_parity"
        The rate the groups must share.
    tolerance : float, default=0.0
        Largest allowed difference between the constrained groups' rates on the fitting rows,
        in ``[0, 1)``. A group of ``n`` rows can only take rates ``k / n``, so exact equality
        is rarely possible: a tolerance below the largest step from one row to the next in
        any constrained group (``1 / n`` of the smallest of them for demographic parity
        without weights) is raised to that step (``tolerance_``), and ``0`` means "as equal as
        the group sizes allow"; groups too small for that are left unconstrained (see *Small
        groups* above). Rows with tied probabilities share a decision, so a band can also be
        out of reach of a group; such bands are skipped. Rates on new data also move by
        sampling noise: for a group of ``n`` rows about ``sqrt(r (1 - r) / n)``.
    unseen_groups : {"global", "error"}, default="global"
        What :meth:`predict` does with the rows of a group not seen in :meth:`fit` (when group
        thresholds are kept): ``"global"`` gives them the group-blind threshold 0.5 (the
        threshold of the unconstrained groups) with a ``UserWarning`` naming them, as
        fairlearn's ``ThresholdOptimizer`` predicts for them; ``"error"`` raises a
        ``ValueError`` naming the groups.

    Attributes
    ----------
    groups_ : list
        The groups seen in :meth:`fit` (tuples for several attributes).
    sensitive_names_ : list of str
        Names of the attributes seen in :meth:`fit` (``sensitive_feature_<j>`` when unnamed).
    rate_steps_ : ndarray of shape (n_groups,)
        Each group's largest change of rate from one row to the next (ties aside): ``1 / n``
        for ``n`` rows of demographic parity without weights; 0 when the rate cannot move.
    unconstrained_groups_ : list
        The groups left out of the constraint (too small for the tolerance, or a rate that
        cannot move): they keep the group-blind threshold 0.5. Empty when every group is
        constrained.
    tolerance_ : float
        The tolerance applied between the constrained groups: ``tolerance``, or the largest
        one-row rate step of a constrained group if larger.
    thresholds_ : ndarray of shape (n_groups,) or None
        The positive-class probability threshold of each group (predict positive when
        ``p >= threshold``; 0.5 for an unconstrained group), or None when the group-blind
        threshold 0.5 meets the constraint.
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

    A group of one row cannot be held to a rate within 0.02 of the others; it keeps the
    group-blind threshold and the two large groups stay within the tolerance:

    >>> import warnings
    >>> group3 = np.append(group, "c")
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     rule = GroupThresholds(tolerance=0.02).fit(np.append(proba, 0.9), group3)
    >>> rule.unconstrained_groups_, len(caught)
    (['c'], 1)
    >>> bool(abs(rule.rates_[0] - rule.rates_[1]) <= 0.02), float(rule.thresholds_[2])
    (True, 0.5)

    Rows of a group unseen in fit take the group-blind threshold with ``"global"``:

    >>> rule = GroupThresholds(tolerance=0.02, unseen_groups="global").fit(proba, group)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     rule.predict([0.45, 0.55], ["new", "new"])
    array([0, 1])
    """

    binary = True
    _binary_message = "{where} needs a binary y (one threshold per group); got {n_classes} classes."
    _parameter_constraints = {
        "constraint": [Options(*CONSTRAINTS)],
        "tolerance": [Real(0, 1, high_open=True)],
        "unseen_groups": [Options(*UNSEEN_GROUPS)],
    }

    def __init__(self, constraint="demographic_parity", tolerance=0.0, unseen_groups="global"):
        self.constraint = constraint
        self.tolerance = tolerance
        self.unseen_groups = unseen_groups

    def _rates(self, proba, weights, predicted):
        """Rate of each row set (positive rate, or expected true-positive rate)."""
        # a group without weight (or, for equal opportunity, without expected positives) has
        # no rate to move: 0, as in _curves, rather than 0/0
        gain = weights if self.constraint == "demographic_parity" else weights * proba
        mass = gain.sum()
        return (gain * predicted).sum() / mass if mass > 0 else 0.0

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
        codes, groups, names = encode_groups(sensitive_features, len(proba), reference="proba")
        weights = np.ones(len(proba)) if weights is None else weights
        # the rows of each group, in their original order (one sort, not one mask per group)
        order = np.argsort(codes, kind="stable")
        bounds = np.cumsum(np.bincount(codes, minlength=len(groups)))[:-1]
        rows = np.split(order, bounds)
        curves = [self._curves(proba[r], weights[r]) for r in rows]
        steps = np.array([self._largest_step(proba[r], weights[r]) for r in rows])
        blind = np.array([self._rates(proba[r], weights[r], proba[r] >= _BLIND) for r in rows])
        blind_at = [int(np.searchsorted(pos, np.sum(p >= _BLIND))) for p, pos, _, _ in curves]
        constrained, tol = self._constrained_groups(steps)
        total = weights.sum()
        free = [g for g in range(len(groups)) if not constrained[g]]
        if free:
            self._warn_unconstrained(groups, free, steps, tol)
        kept = np.flatnonzero(constrained)
        rates = blind.copy()
        if len(kept) < 2 or np.ptp(blind[kept]) <= tol:
            thresholds = None
            errors = sum(e[k] for (_, _, _, e), k in zip(curves, blind_at))
        else:
            chosen = self._search([curves[g] for g in kept], tol)
            thresholds = np.full(len(groups), _BLIND)
            positions = list(blind_at)
            for g, k in zip(kept, chosen):
                p, pos, rate, _ = curves[g]
                thresholds[g] = self._threshold(p, pos[k])
                rates[g] = rate[k]
                positions[g] = k
            # the constrained groups' errors first, summed as the search sums them
            errors = sum(curves[g][3][positions[g]] for g in kept)
            errors += sum(curves[g][3][positions[g]] for g in free)
        self.groups_, self.sensitive_names_ = groups, names
        self.rate_steps_ = steps
        self.unconstrained_groups_ = [groups[g] for g in free]
        self.tolerance_ = tol
        self.thresholds_ = thresholds
        self.rates_ = rates
        self.expected_accuracy_ = 1 - errors / total

    def _largest_step(self, proba, weights):
        """Largest change of the group's rate from one row to the next (ties aside)."""
        gain = weights if self.constraint == "demographic_parity" else weights * proba
        total = gain.sum()
        return gain.max() / total if total > 0 else 0.0

    def _constrained_groups(self, steps):
        """Which groups the constraint can hold (see *Small groups* in the class docstring),
        and the tolerance applied between them."""
        tolerance = float(self.tolerance)
        moving = steps > 0
        if not moving.any():
            return moving, tolerance
        limit = max(tolerance, _NOISE_FACTOR * np.sqrt(steps[moving].min()))
        constrained = moving & (steps <= limit)
        return constrained, max(tolerance, float(steps[constrained].max()))

    def _warn_unconstrained(self, groups, free, steps, tolerance):
        shown = [groups[g] for g in free[:_SHOWN]]
        more = f" and {len(free) - _SHOWN} more" if len(free) > _SHOWN else ""
        warnings.warn(
            f"GroupThresholds could not constrain group(s) {shown}{more}: their rate moves in "
            f"steps of {[round(float(steps[g]), 4) for g in free[:_SHOWN]]} from one row to "
            f"the next (0: it cannot move), too coarse for the others' tolerance "
            f"{tolerance:.4g}. They keep the group-blind threshold {_BLIND}; the other groups' "
            "rates stay within the tolerance (see unconstrained_groups_).",
            UserWarning, stacklevel=5)

    def _search(self, curves, tolerance):
        """Position chosen in each group's curve: the band ``[low, low + tolerance]`` holding
        a rate of every group with the fewest expected errors in total, ``low`` running over
        every rate (an optimal band starts at its lowest chosen rate).

        A group's fewest errors in the band, ``f_g(low)``, only changes where one of its own
        rates enters or leaves the band, so each group contributes its changes (a few
        searches over the sorted band starts) and one cumulative sum gives the total at every
        start: :math:`O(n \\log n)` for ``n`` rows. The errors of a group, along its positions
        (decreasing probability), fall while ``p > 1/2`` and rise after, so their minimum in a
        band is at the band's position closest to the unconstrained best."""
        starts = _sorted_unique(np.concatenate([c[2] for c in curves] + [[1.0 - tolerance]]))
        starts = starts[starts <= 1.0 - tolerance + _EPS]
        low, high = starts - _EPS, (starts + tolerance) + _EPS
        n_starts = len(starts)
        index, value_change, missing_change = [], [], []
        for _, _, rate, errors in curves:
            # band starts where the group's window [lo, hi) of positions changes
            at = _sorted_unique(np.concatenate([[0], np.searchsorted(low, rate, side="right"),
                                                np.searchsorted(high, rate, side="left")]))
            at = at[at < n_starts]
            lo = np.searchsorted(rate, low[at], side="left")
            hi = np.searchsorted(rate, high[at], side="right")
            inside = hi > lo
            best = np.clip(int(np.argmin(errors)), lo, np.maximum(hi - 1, lo))
            value = np.where(inside, errors[np.minimum(best, len(errors) - 1)], 0.0)
            index.append(at)
            value_change.append(np.diff(value, prepend=0.0))
            missing_change.append(np.diff((~inside).astype(float), prepend=0.0))
        index = np.concatenate(index)
        total = np.cumsum(np.bincount(index, np.concatenate(value_change), n_starts))
        missing = np.cumsum(np.bincount(index, np.concatenate(missing_change), n_starts))
        feasible = np.flatnonzero(missing < 0.5)  # the start 0 always is: every rate 0
        scale = max(1.0, float(np.abs(total[feasible]).max()))
        lowest = total[feasible].min()
        near = feasible[total[feasible] <= lowest + 1e-9 * scale]
        # re-evaluate the (rounded) near-ties exactly; a run of equal totals, once
        changed = np.zeros(n_starts, dtype=bool)
        changed[index] = True
        near = near[changed[near]][:_TIES]
        chosen = None
        for k in near:
            positions = [self._best_in_band(c[2], c[3], starts[k], starts[k] + tolerance)
                         for c in curves]
            if any(j is None for j in positions):
                continue
            errors = sum(c[3][j] for c, j in zip(curves, positions))
            if chosen is None or errors < chosen[0]:
                chosen = (errors, positions)
        return chosen[1]

    @staticmethod
    def _best_in_band(rate, errors, low, high):
        """Position ``j`` with ``rate[j]`` in ``[low, high]`` of fewest expected errors, or
        None when no position of the group falls in the band."""
        lo = np.searchsorted(rate, low - _EPS, side="left")
        hi = np.searchsorted(rate, high + _EPS, side="right")
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
            return (proba >= _BLIND).astype(np.int64)
        if sensitive_features is None:
            raise ValueError(MSG_SF_PREDICT)
        index, unseen = lookup_groups(sensitive_features, len(proba), self.groups_,
                                      self.sensitive_names_, reference="proba")
        if unseen:
            shown = f"{unseen[:_SHOWN]}" + (f" and {len(unseen) - _SHOWN} more"
                                            if len(unseen) > _SHOWN else "")
            if self.unseen_groups == "error":
                raise ValueError(
                    f"sensitive_features holds group(s) not seen in fit: {shown}; "
                    f"GroupThresholds has thresholds for {self.groups_[:_SHOWN]}"
                    f"{' and more' if len(self.groups_) > _SHOWN else ''} only. Pass "
                    "unseen_groups='global' to give their rows the group-blind threshold "
                    f"{_BLIND}.")
            warnings.warn(
                f"sensitive_features holds group(s) not seen in fit: {shown}; their rows get "
                f"the group-blind threshold {_BLIND} (unseen_groups='global').",
                UserWarning, stacklevel=3)
        # index -1 (a group unseen in fit) picks the group-blind threshold, appended last
        return (proba >= np.append(self.thresholds_, _BLIND)[index]).astype(np.int64)

    @property
    def requires_sensitive_features(self):
        """Whether :meth:`predict` needs ``sensitive_features`` (group thresholds were kept);
        True before :meth:`fit`, which always needs them."""
        return getattr(self, "thresholds_", True) is not None
