"""``FairLossClassifier(fairness_bound=...)``: the stated bound held on fresh rows of the same
distribution, the confidence margin against an independent computation (and by simulation),
the collapse warning, determinism and the errors."""

import warnings
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from _synthetic import biased_two_groups
from scipy.stats import norm
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from skorch.history import History

from sklearn_fairloss import FairLossClassifier
from sklearn_fairloss._fairness_bound import FairnessBound, GroupOffsets
from sklearn_fairloss.fairness import DistanceCovariance, EqualizedOdds
from sklearn_fairloss.postprocessing import GroupThresholds, rate_gap_upper_bound

SMALL = dict(hidden_layer_sizes=(16,), lr=0.01, batch_size=256, max_epochs=40,
             n_iter_no_change=5, random_state=0)


def _biased(n, seed):
    """:func:`biased_two_groups` with float32 features (the network's dtype)."""
    X, y, group = biased_two_groups(n, seed)
    return X.astype(np.float32), y, group


def _dp(pred, group):
    return abs(pred[group == 1].mean() - pred[group == 0].mean())


def _held_out(y, fraction, random_state):
    """The held-out rows of ``fit``, drawn here as the estimator documents it: a split of
    ``validation_fraction`` stratified by class, seeded from ``random_state``."""
    seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    return np.sort(train_test_split(np.arange(len(y)), test_size=fraction, stratify=y,
                                    random_state=seed)[1])


def _certified_upper(pred, group, confidence=0.9):
    """The Agresti-Caffo upper bound of the DP gap of two groups, written out."""
    x = [pred[group == g].sum() for g in (0, 1)]
    n = [(group == g).sum() for g in (0, 1)]
    return max(_agresti_caffo_upper(x[0], n[0], x[1], n[1], confidence),
               _agresti_caffo_upper(x[1], n[1], x[0], n[0], confidence))


def _agresti_caffo_upper(x1, n1, x2, n2, confidence):
    """One-sided upper bound of p1 - p2 by Agresti and Caffo (2000), written out here."""
    p1, p2 = (x1 + 1) / (n1 + 2), (x2 + 1) / (n2 + 2)
    se = np.sqrt(p1 * (1 - p1) / (n1 + 2) + p2 * (1 - p2) / (n2 + 2))
    return p1 - p2 + norm.ppf(confidence) * se


def test_margin_matches_agresti_caffo_written_out():
    pred = np.r_[np.ones(37), np.zeros(163), np.ones(25), np.zeros(75)]
    groups = np.r_[np.zeros(200, int), np.ones(100, int)]
    bound = rate_gap_upper_bound(pred, None, [groups], confidence=0.95)
    expected = max(_agresti_caffo_upper(37, 200, 25, 100, 0.95),
                   _agresti_caffo_upper(25, 100, 37, 200, 0.95))
    assert bound.value == pytest.approx(0.25 - 0.185)
    assert bound.upper == pytest.approx(expected)


def test_equalized_odds_bound_takes_the_worse_of_the_two_rates():
    rng = np.random.default_rng(1)
    y, groups = rng.integers(0, 2, 400), rng.integers(0, 2, 400)
    pred = (rng.random(400) < 0.3 + 0.3 * y + 0.1 * groups).astype(int)
    bound = rate_gap_upper_bound(pred, y, [groups], conditions=(1, 0), confidence=0.9)
    uppers, gaps = [], []
    for label in (1, 0):
        x = [pred[(y == label) & (groups == g)].sum() for g in (0, 1)]
        n = [((y == label) & (groups == g)).sum() for g in (0, 1)]
        gaps.append(abs(x[0] / n[0] - x[1] / n[1]))
        uppers += [_agresti_caffo_upper(x[0], n[0], x[1], n[1], 0.9),
                   _agresti_caffo_upper(x[1], n[1], x[0], n[0], 0.9)]
    assert bound.value == pytest.approx(max(gaps))
    assert bound.upper == pytest.approx(max(uppers))


def test_upper_bound_covers_the_true_gap_at_the_stated_confidence():
    # simulation: groups of 80 and 300 rows with true rates 0.2 and 0.3 (true gap 0.1)
    rng = np.random.default_rng(0)
    groups = np.r_[np.zeros(80, int), np.ones(300, int)]
    rates = np.where(groups == 0, 0.2, 0.3)
    covered = [rate_gap_upper_bound((rng.random(380) < rates).astype(int), None, [groups],
                                    confidence=0.9).upper >= 0.1 for _ in range(2000)]
    assert 0.88 <= np.mean(covered) <= 0.95


@pytest.fixture(scope="module")
def biased():
    return _biased(4000, 0), _biased(40000, 1)


@pytest.fixture(scope="module")
def bounded(biased):
    (X, y, group), _ = biased
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return FairLossClassifier(**SMALL, fairness="demographic_parity", fairness_bound=0.08,
                                  validation_fraction=0.3).fit(X, y, sensitive_features=group)


def test_bound_is_met_on_fresh_rows_and_not_without_it(biased, bounded):
    (X, y, group), (X_new, y_new, group_new) = biased
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = FairLossClassifier(**SMALL).fit(X, y)
    assert _dp(plain.predict(X_new), group_new) > 0.08  # the same model without the bound
    assert _dp(bounded.predict(X_new), group_new) <= 0.08
    assert (bounded.predict(X_new) == y_new).mean() > y_new.mean() + 0.05  # not constant
    # fitted attributes: the held-out value plus the margin meets the bound
    assert bounded.fairness_valid_ + bounded.fairness_margin_ <= 0.08
    assert bounded.fairness_margin_ > 0
    # the group of lower positive rate (0) weighs its positives up, the other group down
    offsets = bounded.fairness_offsets_[0]
    assert offsets[0] > 0 > offsets[1]
    assert {"bound_offset", "bound_valid", "bound_upper"} <= set(bounded.net_.history[-1])


def test_held_out_rows_certify_and_do_not_steer(biased, bounded):
    """The held-out rows' groups are not used for steering: with the groups of the held-out
    rows changed, the class weights (offsets), the training loss and the training rows' gap
    follow the same trajectory, epoch by epoch, until the held-out check stops training; the
    held-out values themselves change (so the change did reach the certifying rows)."""
    (X, y, group), _ = biased
    held_out = _held_out(y, bounded.fairness_validation_fraction_, 0)
    changed = group.copy()  # the groups' sizes are kept: they set the held-out share
    changed[held_out] = np.random.default_rng(5).permutation(group[held_out])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        other = FairLossClassifier(**SMALL, fairness="demographic_parity", fairness_bound=0.08,
                                   validation_fraction=0.3).fit(X, y, sensitive_features=changed)
    first, second = bounded.net_.history, other.net_.history
    n = min(len(first), len(second))
    assert n >= 3
    for column in ("train_loss", "bound_offset", "bound_train"):
        np.testing.assert_array_equal(first[:n, column], second[:n, column])
    assert not np.allclose(first[:n, "bound_valid"], second[:n, "bound_valid"])


def test_certified_on_the_held_out_rows(biased, bounded):
    """The reported held-out value and margin are those of the final model's predictions on
    the held-out rows, by an independent computation of the Agresti-Caffo bound."""
    (X, y, group), _ = biased
    assert bounded.fairness_validation_fraction_ == 0.3  # enough for these groups
    held_out = _held_out(y, 0.3, 0)
    pred = bounded.predict(X[held_out])
    assert bounded.fairness_valid_ == pytest.approx(_dp(pred, group[held_out]))
    upper = _certified_upper(pred, group[held_out])
    assert bounded.fairness_valid_ + bounded.fairness_margin_ == pytest.approx(upper)
    assert upper <= 0.08


def test_every_epoch_counts_towards_patience(biased):
    """A bound every model meets: training stops ``n_iter_no_change`` epochs after the last
    epoch that lowered the held-out loss by ``tol``, well before ``max_epochs``."""
    (X, y, group), _ = biased
    clf = FairLossClassifier(**{**SMALL, "max_epochs": 60, "n_iter_no_change": 3, "tol": 1e-3},
                             fairness="demographic_parity", fairness_bound=0.99,
                             validation_fraction=0.3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y, sensitive_features=group)
    loss = clf.net_.history[:, "bound_loss"]
    lowest, last = np.inf, 0
    for epoch, value in enumerate(loss, start=1):
        if value < lowest - 1e-3:
            lowest, last = value, epoch
    assert clf.n_iter_ == last + 3 < 60


def _scripted_offsets_run(gaps, bound=0.15, patience=3, n=200):
    """Drive GroupOffsets through epochs whose predictions are scripted: two groups of ``n``
    held-out (and training) rows; at epoch ``e`` group 0 predicts positive at rate 0.3 and
    group 1 at 0.3 + gaps[e] (``None``: every row negative). ``tol=1`` makes the held-out loss
    count as progress only on the first epoch. Returns the callback after training."""
    group = np.repeat([0, 1], n)
    X = torch.arange(2 * n, dtype=torch.float32)[:, None]
    y = np.tile([0, 1], n)
    net = SimpleNamespace(history=History(), callbacks_=[], max_epochs=len(gaps),
                          module_=torch.nn.Linear(1, 1))

    def logits(rows):
        gap = gaps[len(net.history) - 1]
        rank = rows[:, 0].numpy() % n  # each group's rows in turn
        positive = np.zeros(len(rank), bool) if gap is None else (
            rank < np.round(np.where(group == 0, 0.3, 0.3 + gap) * n))
        margin = torch.as_tensor(np.where(positive, 1.0, -1.0))
        return torch.stack([torch.zeros_like(margin), margin], dim=1)

    net.predict_logits_tensor = logits
    spec = FairnessBound(bound=bound, confidence=0.9, metric="demographic parity difference",
                         conditions=("all",), intersectional=False, group_aware=False,
                         patience=patience, tol=1.0)
    valid = {"X": X, "y": torch.as_tensor(y), "w": torch.ones(2 * n, dtype=torch.float64),
             "y_np": y, "w_np": np.ones(2 * n), "groups": [group], "train_y": y,
             "train_w": np.ones(2 * n), "train_groups": [group], "n_groups": [2]}
    callback = GroupOffsets(spec, valid)
    rows = SimpleNamespace(X=X, sample_weight=torch.ones(2 * n))
    callback.on_train_begin(net)
    for epoch in range(len(gaps)):
        net.history.new_epoch()
        net.history.record("epoch", epoch + 1)
        callback.on_epoch_begin(net, dataset_train=rows)
        try:
            callback.on_epoch_end(net)
        except KeyboardInterrupt:
            break
    callback.on_train_end(net)
    return callback, len(net.history)


def test_one_class_epoch_meeting_the_bound_does_not_stop_training():
    """Epoch 1 predicts one class (gap 0: it meets the bound); the gap then closes epoch by
    epoch and meets the bound at epoch 9 (upper bound about 0.05 + 0.06). Training goes on to
    epoch 9, keeps it (it predicts both classes) and stops ``patience`` epochs later; the
    rule that counted only bound-meeting epochs stopped at epoch 4 with the one-class model."""
    gaps = [None, 0.40, 0.35, 0.30, 0.25, 0.20, 0.15, 0.10, 0.05] + [0.05] * 20
    callback, n_epochs = _scripted_offsets_run(gaps)
    upper = _agresti_caffo_upper(0.35 * 200, 200, 0.3 * 200, 200, 0.9)
    assert callback.feasible_ and callback.chosen_["epoch"] == 9
    assert callback.chosen_["bound"].upper == pytest.approx(upper)
    assert n_epochs == 9 + 3


def test_epochs_that_miss_the_bound_count_towards_patience():
    """No epoch meets the bound and the gap stops closing at epoch 4: training stops three
    epochs later (not at max_epochs) and keeps the epoch of lowest upper bound."""
    gaps = [0.40, 0.35, 0.30] + [0.30] * 30
    callback, n_epochs = _scripted_offsets_run(gaps)
    assert not callback.feasible_
    assert callback.chosen_["epoch"] == 3
    assert n_epochs == 3 + 3


def test_same_random_state_gives_identical_predictions(biased, bounded):
    (X, y, group), (X_new, _, _) = biased
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = FairLossClassifier(**SMALL, fairness="demographic_parity", fairness_bound=0.08,
                                   validation_fraction=0.3).fit(X, y, sensitive_features=group)
    np.testing.assert_array_equal(again.predict_proba(X_new), bounded.predict_proba(X_new))


def test_group_aware_bound_is_met_on_fresh_rows(biased):
    _, (X_new, y_new, group_new) = biased
    X, y, group = _biased(12000, 2)
    clf = FairLossClassifier(**SMALL, fairness="demographic_parity", fairness_bound=0.06,
                             decision=GroupThresholds(), validation_fraction=0.3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # met: no warning
        clf.fit(X, y, sensitive_features=group)
    pred = clf.predict(X_new, sensitive_features=group_new)
    assert _dp(pred, group_new) <= 0.06
    # the tolerance is below the bound by the held-out margin (about 0.03 here)
    assert clf.group_thresholds_.tolerance_ < 0.06 - 0.02
    assert (pred == y_new).mean() > y_new.mean() + 0.05
    # certified on the held-out rows (not on the rows the thresholds were fitted on)
    assert clf.fairness_validation_fraction_ == 0.3  # enough: the split of validation_fraction
    held_out = _held_out(y, 0.3, 0)
    pred = clf.predict(X[held_out], sensitive_features=group[held_out])
    upper = _certified_upper(pred, group[held_out])
    assert clf.fairness_valid_ + clf.fairness_margin_ == pytest.approx(upper)
    assert upper <= 0.06


def test_held_out_share_grows_with_small_groups():
    """The certifying share needed for a margin of half the bound, by the formula written
    out: z^2 p (1 - p) (1 / n_0 + 1 / n_1) / (bound / 2)^2, capped at one half."""
    X, y, group = _biased(4000, 0)
    n0, n1, p = (group == 0).sum(), (group == 1).sum(), y.mean()
    for bound, expected in ((0.2, 0.1), (0.1, None), (0.02, 0.5)):
        need = norm.ppf(0.9) ** 2 * p * (1 - p) * (1 / n0 + 1 / n1) / (bound / 2) ** 2
        if expected is None:
            assert 0.1 < need < 0.5
            expected = need
        clf = FairLossClassifier(**{**SMALL, "max_epochs": 1}, fairness="demographic_parity",
                                 fairness_bound=bound)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf.fit(X, y, sensitive_features=group)
        assert clf.fairness_validation_fraction_ == pytest.approx(expected)


def test_group_aware_warns_when_the_held_out_rows_cannot_certify(biased):
    # at most half the rows held out: groups of about 600 and 1400 give a margin near 0.035
    (X, y, group), _ = biased
    clf = FairLossClassifier(**SMALL, fairness="demographic_parity", fairness_bound=0.03,
                             decision=GroupThresholds())
    with pytest.warns(UserWarning, match=r"fairness_bound=0.03 .*not met on the held-out"):
        clf.fit(X, y, sensitive_features=group)
    assert clf.fairness_valid_ + clf.fairness_margin_ > 0.03


def test_collapse_warns_naming_the_bound():
    # the only feature is the group and the label is the group: every informative model has
    # a positive-rate gap near 1, so only a constant model meets the bound
    rng = np.random.default_rng(0)
    group = rng.integers(0, 2, 1500)
    y = np.where(rng.random(1500) < 0.9, group, 1 - group)
    X = group[:, None].astype(np.float32)
    clf = FairLossClassifier(**{**SMALL, "max_epochs": 15}, fairness="demographic_parity",
                             fairness_bound=0.05)
    with pytest.warns(UserWarning, match=r"fairness_bound=0.05 .*(near-\)constant|not met)"):
        clf.fit(X, y, sensitive_features=group)
    assert clf.predict(X).shape == (1500,)  # still usable


@pytest.mark.parametrize("params, match", [
    (dict(fairness_bound=0.05), "set fairness="),
    (dict(fairness="demographic_parity", fairness_bound=1.5), "fairness_bound"),
    (dict(fairness="demographic_parity", fairness_bound=0.0), "fairness_bound"),
    (dict(fairness="demographic_parity", fairness_bound=0.1, fairness_confidence=1.0),
     "fairness_confidence"),
    (dict(fairness=DistanceCovariance(), fairness_bound=0.05), "no such metric"),
    (dict(fairness="demographic_parity", fairness_bound=0.05, decision="f1"),
     "decision='argmax'"),
    (dict(fairness=EqualizedOdds(), fairness_bound=0.05, decision=GroupThresholds()),
     "equalized odds"),
])
def test_clear_errors(params, match):
    X, y, group = _biased(200, 0)
    with pytest.raises(ValueError, match=match):
        FairLossClassifier(**{**SMALL, "max_epochs": 1}, **params).fit(
            X, y, sensitive_features=group)
    assert not hasattr(FairLossClassifier(), "net_")


def test_fairness_strength_is_not_used_and_says_so():
    X, y, group = _biased(300, 0)
    with pytest.warns(UserWarning, match="fairness_strength is not used"):
        FairLossClassifier(**{**SMALL, "max_epochs": 2}, fairness="demographic_parity",
                           fairness_strength=5.0, fairness_bound=0.2).fit(
            X, y, sensitive_features=group)


def test_multiclass_is_refused():
    X, y, group = _biased(200, 0)
    y = y + (X[:, 1] > 1)
    with pytest.raises(ValueError, match="binary y"):
        FairLossClassifier(**{**SMALL, "max_epochs": 1}, fairness="demographic_parity",
                           fairness_bound=0.05).fit(X, y, sensitive_features=group)


def test_group_thresholds_post_process_gradient_boosting(biased):
    """GroupThresholds on any classifier's probabilities: fitted on HGB's, the positive-rate
    gap on fresh rows stays near the tolerance; a group unseen in fit warns, by default."""
    (X, y, group), (X_new, _, group_new) = biased
    hgb = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(X, y)
    rule = GroupThresholds(tolerance=0.02).fit(hgb.predict_proba(X), group)
    before = _dp((hgb.predict_proba(X_new)[:, 1] >= 0.5).astype(int), group_new)
    after = _dp(rule.predict(hgb.predict_proba(X_new), group_new), group_new)
    assert before > 0.1 and after <= 0.02 + 3 * np.sqrt(0.25 / 1200)
    with pytest.warns(UserWarning, match="not seen in fit"):
        pred = rule.predict(hgb.predict_proba(X_new[:5]), np.full(5, 7))
    np.testing.assert_array_equal(pred, hgb.predict(X_new[:5]))


def test_group_blind_calibrates_with_a_monotone_cubic_of_the_held_out_margin(biased, bounded):
    """Group-blind, ``post_calibration=None`` under a bound is logistic regression of the
    held-out rows' labels on (m, m^2, m^3) of their margin, without intercept (scikit-learn,
    written here; its optimum is increasing on these rows), and keeps every decision of the
    certified network: the positive class wherever the margin is positive."""
    (X, y, _), (X_new, _, _) = biased
    held_out = _held_out(y, 0.3, 0)

    def margin(rows):
        logits = bounded._logits(rows)
        return logits[:, 1] - logits[:, 0]

    def powers(m):
        return np.column_stack([m, m ** 2, m ** 3])

    reference = LogisticRegression(C=np.inf, fit_intercept=False, tol=1e-12,
                                   max_iter=10000).fit(powers(margin(X[held_out])), y[held_out])
    a1, a2, a3 = reference.coef_[0]
    assert a3 > 0 and a2 ** 2 < 3 * a1 * a3
    np.testing.assert_allclose(bounded.predict_proba(X_new),
                               reference.predict_proba(powers(margin(X_new))), atol=1e-4)
    np.testing.assert_array_equal(bounded.predict(X_new), (margin(X_new) > 0).astype(int))


def test_a_calibrator_that_moves_decisions_is_recertified():
    """The group-blind route certified the network's decisions; when the final model's
    held-out decisions (after the post-hoc calibrator) have an upper bound above the bound,
    fit warns and reports that upper bound; decisions that still meet it do not warn."""
    n = 400
    group = np.repeat([0, 1], n)
    y = np.tile([0, 1], n)
    spec = FairnessBound(bound=0.1, confidence=0.9, metric="demographic parity difference",
                         conditions=("all",), intersectional=False, group_aware=False,
                         patience=3, tol=0.0)
    spec.callback = SimpleNamespace(feasible_=True, chosen_={"offsets": [np.zeros(2)]},
                                    lowest_informative_=None)
    data = SimpleNamespace(valid_index=np.arange(2 * n), y_codes=y, user_weights=np.ones(2 * n),
                           groups=SimpleNamespace(codes=group[:, None], cells=group))
    est = SimpleNamespace(post_calibration="vector")
    rank = np.arange(2 * n) % n
    moved = (rank < np.where(group == 0, 0.3, 0.5) * n).astype(int)  # gap 0.2
    with pytest.warns(UserWarning, match=r"fairness_bound=0.1 .*post_calibration='vector' "
                                         r"moved decisions"):
        fitted = spec.report(est, data, lambda index: moved[index])
    assert fitted["fairness_valid_"] == pytest.approx(0.2)
    assert fitted["fairness_valid_"] + fitted["fairness_margin_"] == pytest.approx(
        _certified_upper(moved, group))
    kept = (rank < 0.3 * n).astype(int)  # gap 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        spec.report(est, data, lambda index: kept[index])
