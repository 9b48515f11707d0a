"""``fairness_bound=``: a fairness metric held below a stated bound on unseen data.

:class:`FairLossClassifier` with ``fairness=`` and ``fairness_bound=b`` chooses its own
fairness strength (group-blind) or its group thresholds (group-aware) from the training rows
alone, so that the metric belonging to ``fairness=`` (demographic parity difference,
equalized odds difference, equal opportunity difference) stays at most ``b`` on new data with
probability ``fairness_confidence``:

- :func:`rate_gap_upper_bound`: the metric of hard predictions on some rows, and a one-sided
  upper confidence bound of its population value (Agresti and Caffo's interval for a
  difference of two proportions, on the pair of groups with the largest gap; the largest of
  the pairs' bounds covers the true largest gap with the interval's confidence, as the true
  largest gap is the gap of one fixed pair).
- :class:`BoundedStrength`: a skorch callback that measures the metric of the held-out rows
  after every epoch, moves the fairness strength multiplicatively towards the bound (dual
  ascent on the Lagrange multiplier of the constraint, in log space) and keeps the weights of
  the epoch of lowest held-out data loss among those whose upper bound meets ``b``.
- :class:`FairnessBound`: what one ``fit`` needs (the checks of the parameters, the callback,
  the group-threshold tolerance for the group-aware route, and the fitted attributes).

Rank 7 (the estimator): it reads the training data and the skorch net.
"""

import copy
import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy.stats import norm
from skorch.callbacks import Callback

from .fairness import DemographicParity, EqualizedOdds, EqualOpportunity
from .postprocessing import Argmax, GroupThresholds

__all__ = ["BOUND_METRICS", "BoundEstimate", "BoundedStrength", "FairnessBound",
           "fairness_bound_spec", "rate_gap_upper_bound"]

#: The metric that ``fairness_bound`` bounds, by fairness term: which label conditions the
#: rates of predicted positives are taken on ("all": selection rate; 1: true-positive rate;
#: 0: false-positive rate) and the GroupThresholds constraint of the group-aware route.
BOUND_METRICS = {
    DemographicParity: ("demographic parity difference", ("all",), "demographic_parity"),
    EqualizedOdds: ("equalized odds difference", (1, 0), None),
    EqualOpportunity: ("equal opportunity difference", (1,), "equal_opportunity"),
}

#: Strength moves per epoch by at most this factor (up or down).
_MAX_STEP = 2.0
#: Smallest strength the dual ascent raises from (a user's ``fairness_strength=0``).
_MIN_STRENGTH = 1e-2
#: A model predicting one class for more than this share of rows is called near-constant.
_CONSTANT_SHARE = 0.99


@dataclass(frozen=True)
class BoundEstimate:
    """A fairness metric on some rows and its upper confidence bound: ``value`` (the
    largest gap between groups' rates), ``margin`` and ``upper = value + margin``."""

    value: float
    margin: float

    @property
    def upper(self):
        return self.value + self.margin


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

    References
    ----------
    .. [1] Agresti, A. and Caffo, B. (2000). "Simple and Effective Confidence Intervals for
       Proportions and Differences of Proportions Result from Adding Two Successes and Two
       Failures." The American Statistician 54(4), 280-288.
    .. [2] Thomas, P. S., Castro da Silva, B., Barto, A. G., Giguere, S., Brun, Y. and
       Brunskill, E. (2019). "Preventing undesirable behavior of intelligent machines."
       Science 366(6468), 999-1004.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_fairloss._fairness_bound import rate_gap_upper_bound
    >>> pred = np.r_[np.ones(30), np.zeros(70), np.ones(20), np.zeros(80)]
    >>> groups = np.repeat([0, 1], 100)
    >>> bound = rate_gap_upper_bound(pred, None, [groups], confidence=0.9)
    >>> round(bound.value, 4), round(bound.margin, 4)
    (0.1, 0.0782)
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


def _group_sets(groups, intersectional):
    """The groupings a fairness term compares: the cells of all attributes, or each
    attribute on its own."""
    if intersectional or groups.codes.shape[1] == 1:
        return [groups.cells]
    return [groups.codes[:, j] for j in range(groups.codes.shape[1])]


class BoundedStrength(Callback):
    """Dual ascent of the fairness strength towards a bound, and the best epoch that meets it.

    After every epoch, the held-out rows' predictions (argmax of the logits) give the metric
    and its upper confidence bound ``u`` (:func:`rate_gap_upper_bound`). The strength of the
    next epoch is ``strength * clip(exp((u - bound) / bound), 1/2, 2)``: up while the bound is
    not met, down while it is met with room (a multiplicative, log-space step of dual ascent on
    the Lagrange multiplier of the constraint ``metric <= bound``, as in Cotter et al. 2019).
    Among the epochs whose ``u <= bound``, the one of lowest held-out data loss (weighted
    cross-entropy) is kept and restored at the end; training stops ``patience`` epochs after
    the last improvement of that choice. The net's own stopping rule is switched off, since a
    moving strength makes its monitored loss incomparable across epochs.

    History columns: ``bound_strength``, ``bound_valid`` (the metric on the held-out rows) and
    ``bound_upper`` (its upper confidence bound).

    References
    ----------
    .. [1] Cotter, A., Jiang, H. and Sridharan, K. (2019). "Two-Player Games for Efficient
       Non-Convex Constrained Optimization." ALT.
    .. [2] Thomas, P. S. et al. (2019). "Preventing undesirable behavior of intelligent
       machines." Science 366(6468).
    """

    def __init__(self, spec, valid):
        self.spec = spec
        self.valid = valid

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        stopping = dict(net.callbacks_).get("stopping")
        if stopping is not None and hasattr(stopping, "patience"):
            stopping.patience = net.max_epochs + 1
        strength = max(float(net.criterion_.fairness_strength), _MIN_STRENGTH)
        net.criterion_.fairness_strength = strength
        self.best_ = None
        self.lowest_ = None
        self.lowest_informative_ = None
        self.misses_ = 0

    def on_epoch_end(self, net, **kwargs):
        spec, valid = self.spec, self.valid
        logits = net.predict_logits_tensor(valid["X"]).double()
        loss = torch.nn.functional.cross_entropy(logits, valid["y"], reduction="none")
        loss = float((loss * valid["w"]).sum() / valid["w"].sum())
        pred = logits.argmax(dim=1).cpu().numpy()
        bound = spec.estimate(pred, valid["y_np"], valid["groups"], valid["w_np"])
        objective = net.criterion_
        strength = objective.fairness_strength
        epoch = len(net.history)
        record = {"epoch": epoch, "strength": strength, "bound": bound, "loss": loss}
        net.history.record("bound_strength", strength)
        net.history.record("bound_valid", bound.value)
        net.history.record("bound_upper", bound.upper)
        informative = _minority_share(pred) > 1 - _CONSTANT_SHARE
        if self.lowest_ is None or bound.upper < self.lowest_[0]["bound"].upper:
            self.lowest_ = (record, _state(net))
        if informative and (self.lowest_informative_ is None
                            or bound.upper < self.lowest_informative_["bound"].upper):
            self.lowest_informative_ = record
        if bound.upper <= spec.bound:
            if self.best_ is None or loss < self.best_[0]["loss"] - spec.tol:
                self.best_ = (record, _state(net))
                self.misses_ = 0
            else:
                self.misses_ += 1
        elif self.best_ is not None:
            self.misses_ += 1
        step = math.exp((bound.upper - spec.bound) / spec.bound)
        step = min(max(step, 1 / _MAX_STEP), _MAX_STEP)
        objective.fairness_strength = max(strength * step, _MIN_STRENGTH) if step > 1 \
            else strength * step
        if self.best_ is not None and self.misses_ >= spec.patience:
            raise KeyboardInterrupt  # skorch's way to stop after this epoch

    def on_train_end(self, net, X=None, y=None, **kwargs):
        record, state = self.best_ if self.best_ is not None else self.lowest_
        net.module_.load_state_dict(state)
        self.chosen_ = record
        self.feasible_ = self.best_ is not None
        self.best_ = self.lowest_ = None
        self.valid = None  # the fitted net keeps no training rows


def _state(net):
    return copy.deepcopy(net.module_.state_dict())


def _minority_share(pred):
    share = float(np.mean(pred == 1)) if len(pred) else 0.0
    return min(share, 1 - share)


@dataclass
class FairnessBound:
    """What ``fit`` needs for ``fairness_bound``: the metric, the route, the callback of the
    group-blind route, the tolerance of the group-aware route and the fitted attributes."""

    bound: float
    confidence: float
    metric: str
    conditions: tuple
    intersectional: bool
    group_aware: bool
    patience: int
    tol: float
    callback: object = None
    rule_margin: float = field(default=0.0)

    def estimate(self, pred, y, group_sets, weights=None):
        return rate_gap_upper_bound(pred, y, group_sets, weights, self.conditions,
                                    self.confidence)

    def attach(self, parts, data, device):
        """Add the callback of the group-blind route to ``parts.callbacks`` (the
        group-aware route trains at the given strength)."""
        if data.n_classes != 2:
            raise ValueError(f"fairness_bound bounds a rate of the positive class: it needs a "
                             f"binary y; got {data.n_classes} classes.")
        if self.group_aware:
            return
        index = data.valid_index
        y = data.y_codes[index]
        valid = {"X": torch.as_tensor(data.X[index], device=device),
                 "y": torch.as_tensor(y, dtype=torch.long, device=device),
                 "w": torch.as_tensor(data.user_weights[index], dtype=torch.float64,
                                      device=device),
                 "y_np": y, "w_np": data.user_weights[index],
                 "groups": [codes[index] for codes in
                            _group_sets(data.groups, self.intersectional)]}
        self.callback = BoundedStrength(self, valid)
        parts.callbacks.append(("fairness_bound", self.callback))

    def fit_rule(self, data):
        """``fit`` of a GroupThresholds for the group-aware route: the tolerance is the bound
        less the margin of the fitting rows' group sizes, lowered until the upper bound of the
        rule's predictions on those rows meets the bound; None for the group-blind route."""
        if not self.group_aware:
            return None

        def fit(rule, proba, y, *, sample_weight=None, sensitive_features=None, **kwargs):
            groups = [data.groups.cells]
            start = proba[:, 1] >= 0.5
            margin = self.estimate(start, y, groups, sample_weight).margin
            tolerance = max(self.bound - margin, 0.0)
            for _ in range(4):
                rule.set_params(tolerance=tolerance)
                rule.fit(proba, y, sample_weight=sample_weight,
                         sensitive_features=sensitive_features, **kwargs)
                pred = rule.predict(proba, sensitive_features=sensitive_features)
                bound = self.estimate(pred, y, groups, sample_weight)
                if bound.upper <= self.bound + 1e-12 or tolerance == 0.0:
                    break
                tolerance = max(tolerance - (bound.upper - self.bound), 0.0)
            self.rule_margin = bound.margin
            return rule
        return fit

    def report(self, est, data, predict):
        """The fitted attributes, from the final model's held-out predictions (``predict``
        of row indices), with a warning when only a (near-)constant model meets the bound."""
        index = data.valid_index
        pred = predict(index)
        y = data.y_codes[index]
        groups = _group_sets(data.groups, self.intersectional or self.group_aware)
        bound = self.estimate(pred, y, [g[index] for g in groups], data.user_weights[index])
        callback = self.callback
        chosen = None if callback is None else callback.chosen_
        strength = est.fairness_strength if chosen is None else chosen["strength"]
        fitted = {"fairness_strength_": float(strength), "fairness_valid_": bound.value,
                  "fairness_margin_": bound.margin,
                  "fairness_margin_fit_": self.rule_margin if self.group_aware else None}
        name = f"fairness_bound={self.bound:g} ({self.metric}, confidence {self.confidence:g})"
        if callback is not None and not callback.feasible_:
            low = chosen["bound"]
            warnings.warn(
                f"{name} was not met on the held-out rows by any epoch: the lowest upper bound "
                f"reached was {low.upper:.4f} ({low.value:.4f} + margin {low.margin:.4f} for "
                "these group sizes); that model is kept. Raise fairness_bound, lower "
                "fairness_confidence, train longer or add data.", UserWarning, stacklevel=3)
        elif _minority_share(pred) <= 1 - _CONSTANT_SHARE:
            share = float(np.mean(pred == np.bincount(pred, minlength=2).argmax()))
            best = None if callback is None else callback.lowest_informative_
            feasible = ("no model predicting both classes was seen" if best is None else
                        f"the lowest upper bound of a model predicting both classes was "
                        f"{best['bound'].upper:.4f} ({best['bound'].value:.4f} + margin "
                        f"{best['bound'].margin:.4f})")
            warnings.warn(
                f"{name} is met only by a (near-)constant classifier: it predicts one class "
                f"for {share:.1%} of the held-out rows; {feasible}. Raise fairness_bound, "
                "lower fairness_confidence or add data.", UserWarning, stacklevel=3)
        return fitted


def fairness_bound_spec(est, parts):
    """The :class:`FairnessBound` of ``est`` (None without ``fairness_bound``), with clear
    errors for the settings it cannot serve."""
    bound = est.fairness_bound
    if bound is None:
        return None
    term = parts.fairness
    if term is None:
        raise ValueError("fairness_bound bounds the metric of the fairness term: set fairness= "
                         "(e.g. 'demographic_parity') too.")
    entry = next((v for k, v in BOUND_METRICS.items() if isinstance(term, k)), None)
    if entry is None:
        raise ValueError(f"fairness_bound bounds the demographic parity, equalized odds or "
                         f"equal opportunity difference; fairness={est.fairness!r} has no such "
                         "metric.")
    metric, conditions, constraint = entry
    rule = parts.decision_rule
    group_aware = isinstance(rule, GroupThresholds)
    if group_aware and rule.constraint != constraint:
        raise ValueError(f"fairness_bound bounds the {metric}, which GroupThresholds("
                         f"constraint={rule.constraint!r}) does not hold; use "
                         + (f"GroupThresholds(constraint={constraint!r})." if constraint else
                            "the group-blind route (decision='argmax')."))
    if not group_aware and not isinstance(rule, Argmax):
        raise ValueError(f"fairness_bound chooses the decision itself: use decision='argmax' "
                         f"(group-blind) or decision=GroupThresholds(...) (group-aware); got "
                         f"decision={est.decision!r}.")
    return FairnessBound(bound=float(bound), confidence=float(est.fairness_confidence),
                         metric=metric, conditions=conditions,
                         intersectional=bool(getattr(term, "intersectional", False)),
                         group_aware=group_aware, patience=int(est.n_iter_no_change),
                         tol=float(est.tol))
