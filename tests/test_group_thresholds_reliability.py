"""GroupThresholds reliability: tiny groups, many groups, groups unseen in fit (issue 14)."""

import itertools
import time
import warnings

import numpy as np
import pytest

from sklearn_fairloss.postprocessing import GroupThresholds

CONSTRAINTS = ["demographic_parity", "equal_opportunity"]


def _rate(p, chosen, weight, constraint):
    """Positive rate, or expected true-positive rate, of the rows ``chosen`` of one group."""
    if constraint == "demographic_parity":
        return weight[chosen].sum() / weight.sum()
    return (weight * p)[chosen].sum() / (weight * p).sum()


def _two_big_groups_and_one_row(seed=0):
    rng = np.random.default_rng(seed)
    group = np.repeat(np.array(["a", "b", "c"]), [1000, 1000, 1])
    proba = np.clip(rng.beta(2, 3, len(group)) + 0.35 * (group == "a"), 0, 1)
    return proba, group


# ------------------------------------------------------------------ 1. one tiny group


@pytest.mark.parametrize("constraint", CONSTRAINTS)
@pytest.mark.parametrize("tolerance", [0.0, 0.02])
def test_one_tiny_group_does_not_switch_the_constraint_off(constraint, tolerance):
    proba, group = _two_big_groups_and_one_row()
    weight = np.ones(len(proba))
    blind = proba >= 0.5
    gap_blind = abs(_rate(proba[group == "a"], blind[group == "a"], weight[:1000], constraint)
                    - _rate(proba[group == "b"], blind[group == "b"], weight[:1000], constraint))
    assert gap_blind > 0.3
    with pytest.warns(UserWarning, match=r"could not constrain group\(s\) \['c'\]"):
        rule = GroupThresholds(constraint, tolerance=tolerance).fit(proba, group)
    assert rule.unconstrained_groups_ == ["c"]
    assert rule.tolerance_ <= max(tolerance, 0.01)
    assert rule.thresholds_ is not None
    assert rule.thresholds_[2] == 0.5  # the tiny group keeps the group-blind rule
    assert rule.rate_steps_[2] == pytest.approx(1.0)
    pred = rule.predict(proba, group).astype(bool)
    rates = [_rate(proba[group == g], pred[group == g], weight[group == g], constraint)
             for g in "ab"]
    np.testing.assert_allclose(rates, rule.rates_[:2])
    assert abs(rates[0] - rates[1]) <= rule.tolerance_ + 1e-12
    assert pred[-1] == blind[-1]


def test_groups_of_similar_small_sizes_are_all_constrained():
    rng = np.random.default_rng(1)
    group = np.repeat(["a", "b", "c"], [8, 5, 6])
    proba = rng.uniform(size=len(group)) ** np.where(group == "a", 0.5, 2.0)
    for constraint in CONSTRAINTS:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            rule = GroupThresholds(constraint).fit(proba, group)
        assert rule.unconstrained_groups_ == []
        assert rule.tolerance_ == pytest.approx(rule.rate_steps_.max())


def test_group_whose_rate_cannot_move_is_left_unconstrained():
    # equal opportunity: a group with no expected positive has rate 0 whatever its threshold
    rng = np.random.default_rng(2)
    group = np.repeat(["a", "b", "z"], [300, 300, 50])
    proba = np.concatenate([rng.uniform(0.3, 1, 300), rng.uniform(0, 0.7, 300), np.zeros(50)])
    with pytest.warns(UserWarning, match=r"\['z'\]"):
        rule = GroupThresholds("equal_opportunity", tolerance=0.05).fit(proba, group)
    assert rule.unconstrained_groups_ == ["z"]
    assert abs(rule.rates_[0] - rule.rates_[1]) <= 0.05 + 1e-12
    assert rule.rates_[:2].min() > 0.5  # not dragged down to group "z"'s rate 0


# ------------------------------------------------------------------ 2. many groups


def _many_groups(n_groups, rows, seed=0):
    rng = np.random.default_rng(seed)
    group = np.repeat(np.arange(n_groups), rows)
    proba = np.clip(rng.beta(2, 5, len(group)) + 0.4 * (group % 2), 0, 1)
    return proba, group


def _fit_seconds(n_groups, rows, repeats=3):
    proba, group = _many_groups(n_groups, rows)
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        rule = GroupThresholds(tolerance=0.02).fit(proba, group)
        best = min(best, time.perf_counter() - start)
    assert rule.thresholds_ is not None and rule.unconstrained_groups_ == []
    return best


def test_fit_time_grows_about_linearly_with_the_number_of_groups():
    small = _fit_seconds(20, 50)
    large = _fit_seconds(200, 50)
    many = _fit_seconds(500, 20, repeats=1)
    # 10x the rows and groups: a quadratic search takes about 100x (and 4 s, 28 s for 60 and
    # 200 groups before); generous bounds for a loaded 2-core machine
    assert large / small < 20, (small, large)
    assert large < 2.0 and many < 3.0, (large, many)


def _brute_force(proba, group, weight, tolerance, constraint):
    """Fewest expected errors over every per-group count of predicted positives (top scores
    first, tied scores together) whose rates lie within ``tolerance``; exhaustive."""
    options = []
    for g in sorted(set(group)):
        p, w = proba[group == g], weight[group == g]
        rows = []
        for cut in [np.inf, *np.unique(p)]:
            chosen = p >= cut
            rows.append((_rate(p, chosen, w, constraint),
                         (w * (1 - p))[chosen].sum() + (w * p)[~chosen].sum()))
        options.append(rows)
    best = np.inf
    for combo in itertools.product(*options):
        rates = [r for r, _ in combo]
        if max(rates) - min(rates) <= tolerance + 1e-12:
            best = min(best, sum(e for _, e in combo))
    return 1 - best / weight.sum()


def _small_problem(seed):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(6, 13, size=int(rng.integers(2, 5)))
    group = np.repeat(np.array(list("abcd"))[:len(sizes)], sizes)
    shift = rng.uniform(-0.3, 0.3, len(sizes))[np.repeat(np.arange(len(sizes)), sizes)]
    proba = np.round(np.clip(rng.uniform(size=len(group)) + shift, 0, 1), 2)  # with ties
    weight = rng.integers(1, 4, size=len(group)).astype(float)
    return proba, group, weight


#: (seed, constraint, weighted, thresholds, expected accuracy) of the implementation before
#: the linear-time search (pairwise search over a grid of band positions), tolerance=0.
BEFORE = [
    (0, "demographic_parity", False, [0.345, 0.53, 0.77, 0.57], 0.7267647059),
    (0, "demographic_parity", True, [0.345, 0.53, 0.77, 0.485], 0.7240909091),
    (0, "equal_opportunity", False, [0.345, 0.53, 0.51, 0.485], 0.7379411765),
    (0, "equal_opportunity", True, [0.345, 0.53, 0.51, 0.485], 0.7368181818),
    (1, "demographic_parity", False, [0.33, 0.62, 0.465], 0.7103125),
    (1, "demographic_parity", True, [0.265, 0.62, 0.505], 0.6854929577),
    (1, "equal_opportunity", False, [0.44, 0.56, 0.505], 0.7246875),
    (1, "equal_opportunity", True, [0.44, 0.56, 0.505], 0.7105633803),
    (2, "demographic_parity", False, [0.255, 0.585, 0.74, 0.475], 0.72),
    (2, "demographic_parity", True, [0.255, 0.585, 0.74, 0.34], 0.7233333333),
    (2, "equal_opportunity", False, [0.365, 0.585, 0.545, 0.575], 0.7510344828),
    (2, "equal_opportunity", True, [0.365, 0.585, 0.545, 0.475], 0.7685964912),
    (3, "demographic_parity", False, [0.46, 0.43, 0.49, 0.505], 0.7318518519),
    (3, "demographic_parity", True, [0.525, 0.47, 0.49, 0.505], 0.7432758621),
    (3, "equal_opportunity", False, [0.46, 0.43, 0.49, 0.505], 0.7318518519),
    (3, "equal_opportunity", True, [0.525, 0.47, 0.49, 0.505], 0.7432758621),
    (4, "demographic_parity", False, [0.415, 0.575, 0.465, 0.55], 0.7246666667),
    (4, "demographic_parity", True, None, 0.7388505747),
    (4, "equal_opportunity", False, None, 0.7344444444),
    (4, "equal_opportunity", True, None, 0.7388505747),
    (5, "demographic_parity", False, [0.44, 0.35, 0.52, 0.515], 0.7754054054),
    (5, "demographic_parity", True, [0.62, 0.35, 0.52, 0.515], 0.7849367089),
]


@pytest.mark.parametrize("seed, constraint, weighted, thresholds, accuracy", BEFORE)
def test_same_thresholds_as_before_and_as_exhaustive_search(seed, constraint, weighted,
                                                             thresholds, accuracy):
    proba, group, weight = _small_problem(seed)
    weight = weight if weighted else np.ones(len(proba))
    rule = GroupThresholds(constraint).fit(proba, group, sample_weight=weight)
    assert rule.unconstrained_groups_ == []
    if thresholds is None:
        assert rule.thresholds_ is None
    else:
        np.testing.assert_allclose(rule.thresholds_, thresholds, atol=1e-9)
        assert rule.expected_accuracy_ == pytest.approx(
            _brute_force(proba, group, weight, rule.tolerance_, constraint), abs=1e-12)
    assert rule.expected_accuracy_ == pytest.approx(accuracy, abs=1e-9)


@pytest.mark.parametrize("constraint", CONSTRAINTS)
@pytest.mark.parametrize("tolerance", [0.1, 0.25])
def test_matches_exhaustive_search_with_ties_and_weights(constraint, tolerance):
    for seed in range(10, 16):
        proba, group, weight = _small_problem(seed)
        rule = GroupThresholds(constraint, tolerance=tolerance).fit(proba, group,
                                                                     sample_weight=weight)
        if rule.unconstrained_groups_ or rule.thresholds_ is None:
            continue
        assert rule.expected_accuracy_ == pytest.approx(
            _brute_force(proba, group, weight, rule.tolerance_, constraint), abs=1e-12)
        pred = rule.predict(proba, group).astype(bool)
        for g, rate in zip(rule.groups_, rule.rates_):
            rows = group == g
            assert _rate(proba[rows], pred[rows], weight[rows], constraint) == pytest.approx(rate)


# ------------------------------------------------------------------ 3. groups unseen in fit


def _fitted():
    rng = np.random.default_rng(5)
    group = np.repeat(["a", "b"], 200)
    proba = np.clip(rng.uniform(size=400) + 0.3 * (group == "a"), 0, 1)
    return proba, group


def test_unseen_groups_global_uses_the_group_blind_threshold():
    proba, group = _fitted()
    rule = GroupThresholds(tolerance=0.02, unseen_groups="global").fit(proba, group)
    assert rule.thresholds_ is not None
    new = np.where(np.arange(400) % 7 == 0, "c", group)
    new[1] = "d"
    with pytest.warns(UserWarning, match=r"not seen in fit: \['c', 'd'\].*0\.5"):
        pred = rule.predict(proba, new)
    unseen = np.isin(new, ["c", "d"])
    np.testing.assert_array_equal(pred[unseen], (proba[unseen] >= 0.5).astype(int))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(pred[~unseen], rule.predict(proba, group)[~unseen])


def test_unseen_groups_error_names_them():
    proba, group = _fitted()
    rule = GroupThresholds(tolerance=0.02, unseen_groups="error").fit(proba, group)
    with pytest.raises(ValueError, match=r"not seen in fit: \['c'\].*unseen_groups='global'"):
        rule.predict(proba, np.where(np.arange(400) == 3, "c", group))


def test_unseen_groups_is_validated():
    proba, group = _fitted()
    with pytest.raises(ValueError, match="unseen_groups must be one of"):
        GroupThresholds(unseen_groups="pooled").fit(proba, group)
    assert GroupThresholds().get_params()["unseen_groups"] in ("global", "error")
