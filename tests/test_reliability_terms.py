"""Reliability findings of issue 14 on the metrics, the weighting strategies and the
distance-covariance penalty: each test failed on the code before its fix."""

import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import torch

from sklearn_fairloss.fairness import DistanceCovariance
from sklearn_fairloss.fairness import _distance_covariance as dcov_module
from sklearn_fairloss.metrics import (
    balance_score,
    brier_score_decomposition,
    calibration_error_difference,
    demographic_parity_difference,
    expected_calibration_error,
    group_report,
    maximum_calibration_error,
)
from sklearn_fairloss.postprocessing import GroupThresholds
from sklearn_fairloss.weighting import GroupBalanced, Reweighing, strategy_sample_weight

# ----------------------------------------------------------------------------------------------
# Reweighing cannot reach independence when a group lacks a class
# ----------------------------------------------------------------------------------------------


def test_reweighing_warns_when_a_group_has_no_positives():
    y = [1, 0, 1, 0, 0, 0]
    sex = ["a", "a", "a", "b", "b", "b"]
    with pytest.warns(UserWarning, match=r"independent.*'b'.*\[1\]"):
        rw = Reweighing().fit(y, sex)
    # The weights are those of the cells that have rows, as before.
    np.testing.assert_allclose(rw.cell_weights_, [[2.4, 0.6], [0.8, 0.0]])


def test_reweighing_warns_for_every_group_and_class_with_an_empty_cell():
    y = [0, 1, 2, 0, 0, 1]
    group = ["a", "a", "a", "b", "c", "c"]
    with pytest.warns(UserWarning) as record:
        Reweighing().fit(y, group)
    message = str(record[0].message)
    assert "'b'" in message and "[1, 2]" in message
    assert "'c'" in message and "[2]" in message
    assert "'a'" not in message


def test_reweighing_warns_through_strategy_sample_weight_and_products():
    y = [1, 0, 1, 0, 0, 0]
    sex = ["a", "a", "a", "b", "b", "b"]
    with pytest.warns(UserWarning, match="independent"):
        strategy_sample_weight("reweighing", y, sex)
    with pytest.warns(UserWarning, match="independent"):
        (Reweighing() * GroupBalanced()).fit(y, sex)


def test_reweighing_silent_when_every_cell_has_rows():
    y = [1, 0, 1, 0, 1, 0]
    sex = ["a", "a", "a", "b", "b", "b"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Reweighing().fit(y, sex)
        # A class with zero total weight is absent, not an unreachable cell.
        Reweighing().fit(y + [2], sex + ["a"], sample_weight=[1] * 6 + [0])


# ----------------------------------------------------------------------------------------------
# Calibration metrics: rows of a 2-D y_proba must sum to 1
# ----------------------------------------------------------------------------------------------

_NOT_NORMALISED = np.array([[0.2, 0.3], [0.9, 0.6], [0.5, 0.1], [0.4, 0.4]])
_Y = np.array([0, 1, 0, 1])


@pytest.mark.parametrize("metric", [
    expected_calibration_error,
    maximum_calibration_error,
    balance_score,
    brier_score_decomposition,
])
def test_calibration_metrics_reject_rows_that_do_not_sum_to_one(metric):
    with pytest.raises(ValueError, match=r"y_proba.*sum to 1"):
        metric(_Y, _NOT_NORMALISED)
    multiclass = np.array([[0.2, 0.3, 0.1], [0.3, 0.3, 0.4], [0.5, 0.25, 0.25]])
    with pytest.raises(ValueError, match=r"y_proba.*sum to 1"):
        metric([0, 1, 2], multiclass)


def test_calibration_difference_and_report_reject_rows_that_do_not_sum_to_one():
    with pytest.raises(ValueError, match=r"y_proba.*sum to 1"):
        calibration_error_difference(_Y, _NOT_NORMALISED, sensitive_features=[0, 0, 1, 1])
    with pytest.raises(ValueError, match=r"y_proba.*sum to 1"):
        group_report(_Y, _Y, y_proba=_NOT_NORMALISED, sensitive_features=[0, 0, 1, 1])


def test_calibration_metrics_accept_rows_that_sum_to_one_within_rounding():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(200, 5))
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = rng.integers(0, 5, size=200)
    y[:5] = np.arange(5)
    assert 0 <= expected_calibration_error(y, proba) <= 1
    assert 0 <= expected_calibration_error(y, proba.astype(np.float32)) <= 1
    assert 0 <= expected_calibration_error(y, proba * (1 + 1e-9)) <= 1
    # 1-D positive-class probabilities have no rows to check.
    assert expected_calibration_error(_Y, [0.2, 0.6, 0.1, 0.9]) >= 0


# ----------------------------------------------------------------------------------------------
# DistanceCovariance: bounded memory, same value and gradients
# ----------------------------------------------------------------------------------------------


def _dense_reference(penalty, logits, sensitive, weights, values):
    """The O(n^2)-memory formula of the penalty, as written before the chunked version."""
    probs = torch.softmax(logits.double(), dim=1)
    pi = weights / weights.sum()

    def centred(d):
        row = d @ pi
        return -(d - row[:, None] - row[None, :] + row @ pi)

    def scaled(d):
        dvar = pi @ (centred(d) ** 2) @ pi
        return d / dvar.sqrt() if dvar > 0 else torch.zeros_like(d)

    diff = probs[:, None, :] - probs[None, :, :]
    squared = (diff * diff).sum(-1)
    positive = squared > 0  # a zero, not NaN, gradient on the diagonal
    pred = torch.where(positive, torch.where(positive, squared, 1.0).sqrt(), 0.0) / 2**0.5
    mask = penalty._continuous_mask(sensitive.shape[1])
    attrs = []
    for j in range(sensitive.shape[1]):
        if mask[j]:
            d = (values[:, j, None] - values[None, :, j]).abs()
        else:
            d = (sensitive[:, j, None] != sensitive[None, :, j]).double()
        attrs.append(scaled(d))
    if penalty.method == "ccdcov" or len(attrs) == 1:
        joint = attrs[0] if len(attrs) == 1 else sum(a * a for a in attrs).sqrt()
        return pi @ (centred(pred) * centred(joint)) @ pi
    product = torch.ones_like(pred)
    for a in attrs:
        product = product * (centred(a) + penalty.c)
    return pi @ (centred(pred) * product) @ pi


def _random_batch(n, n_classes, seed=0):
    generator = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, n_classes, generator=generator, dtype=torch.float64)
    sensitive = torch.stack([torch.randint(0, 3, (n,), generator=generator),
                             torch.randint(0, 2, (n,), generator=generator),
                             torch.randint(20, 70, (n,), generator=generator)], dim=1)
    weights = torch.rand(n, generator=generator, dtype=torch.float64) + 0.2
    return logits, torch.arange(n) % n_classes, sensitive, weights, sensitive.double()


_DCOV = {
    "ccdcov": lambda: DistanceCovariance(continuous=[2]),
    "jdcov": lambda: DistanceCovariance(method="jdcov", c=0.7, continuous=[2]),
    "one-attribute": lambda: DistanceCovariance(continuous=[False]),
}


@pytest.mark.parametrize("name", _DCOV)
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("block", [1, 7, 50, 10**9])
def test_dcov_in_row_blocks_equals_the_dense_value(monkeypatch, name, n_classes, block):
    monkeypatch.setattr(dcov_module, "_BLOCK_ELEMENTS", block)
    logits, y, sensitive, weights, values = _random_batch(23, n_classes)
    if name == "one-attribute":
        sensitive, values = sensitive[:, :1], values[:, :1]
    penalty = _DCOV[name]()
    value = penalty(logits, y, sensitive, weights, values)
    expected = _dense_reference(penalty, logits, sensitive, weights, values)
    assert float(value) == pytest.approx(float(expected), rel=1e-10, abs=1e-15)


@pytest.mark.parametrize("name", _DCOV)
@pytest.mark.parametrize("n_classes", [2, 3])
def test_dcov_gradcheck_in_row_blocks(monkeypatch, name, n_classes):
    monkeypatch.setattr(dcov_module, "_BLOCK_ELEMENTS", 30)  # blocks of 2 rows
    logits, y, sensitive, weights, values = _random_batch(14, n_classes, seed=1)
    if name == "one-attribute":
        sensitive, values = sensitive[:, :1], values[:, :1]
    penalty = _DCOV[name]()
    logits.requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda z: penalty(z, y, sensitive, weights, values), (logits,))
    # The gradient equals the one of the dense formula.
    grad_blocks, = torch.autograd.grad(penalty(logits, y, sensitive, weights, values), logits)
    grad_dense, = torch.autograd.grad(
        _dense_reference(penalty, logits, sensitive, weights, values), logits)
    assert torch.allclose(grad_blocks, grad_dense, rtol=1e-9, atol=1e-14)


_MEMORY_PROBE = textwrap.dedent("""
    import resource
    import torch
    from sklearn_fairloss.fairness import DistanceCovariance
    torch.set_num_threads(1)
    n = 4096
    logits = torch.randn(n, 2, generator=torch.Generator().manual_seed(0), requires_grad=True)
    y = torch.arange(n) % 2
    sensitive = torch.stack([torch.arange(n) % 3, torch.arange(n) % 2], 1)
    DistanceCovariance()(logits[:50], y[:50], sensitive[:50]).backward()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    DistanceCovariance()(logits, y, sensitive).backward()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print((after - before) / 1024)
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss in KiB on Linux")
def test_dcov_memory_is_bounded_at_batch_4096():
    # Before: about 1 GB more resident memory for the forward and backward pass at 4096 rows
    # (O(batch^2) float64 matrices kept for the backward pass).
    # A fixed mmap threshold makes glibc give freed blocks back at once, so that the peak
    # resident memory is the peak of the live tensors, not of the allocator's cache.
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "131072"}
    result = subprocess.run([sys.executable, "-c", _MEMORY_PROBE], capture_output=True,
                            text=True, check=True, timeout=600, env=env)
    extra_mb = float(result.stdout.strip().splitlines()[-1])
    assert extra_mb < 200, f"peak resident memory grew by {extra_mb:.0f} MB"


# ----------------------------------------------------------------------------------------------
# Mixed-type group labels
# ----------------------------------------------------------------------------------------------

_MIXED = np.array(["a", 1, "a", 1, "a", 1, "a", 1], dtype=object)


def test_mixed_type_group_labels_in_metrics():
    y_true = [1, 0, 1, 0, 1, 1, 0, 0]
    y_pred = [1, 0, 1, 1, 0, 1, 0, 0]
    proba = [0.9, 0.2, 0.8, 0.6, 0.4, 0.7, 0.3, 0.1]
    gap = demographic_parity_difference(y_true, y_pred, sensitive_features=_MIXED)
    assert gap == pytest.approx(abs(0.5 - 0.5))
    assert demographic_parity_difference(
        y_true, y_pred, sensitive_features=list(_MIXED)) == pytest.approx(gap)
    report = group_report(y_true, y_pred, y_proba=proba, sensitive_features=_MIXED)
    assert {1, "a"} <= set(report.index)
    # A plain list goes through numpy, which turns [..., "a", 1] into strings: two groups still.
    report = group_report(y_true, y_pred, y_proba=proba, sensitive_features=list(_MIXED))
    assert len(report.index) == 5
    assert np.isfinite(calibration_error_difference(
        y_true, proba, sensitive_features=_MIXED, n_bins=2, variant="positive"))


def test_mixed_type_group_labels_in_weighting():
    y = [1, 0, 1, 0, 1, 1, 0, 0]
    weights = strategy_sample_weight("reweighing", y, list(_MIXED))
    assert weights.shape == (8,) and weights.mean() == pytest.approx(1.0)
    strategy = Reweighing().fit(y, _MIXED)
    assert set(strategy.groups_.tolist()) == {1, "a"}
    assert strategy.compute(y, _MIXED) == pytest.approx(weights)
    table = GroupBalanced().fit(y, _MIXED).weight_table()
    assert table.shape == (2, 2)


def test_mixed_type_group_labels_in_group_thresholds():
    rng = np.random.default_rng(0)
    groups = np.array(["a", 1] * 100, dtype=object)
    y = rng.integers(0, 2, size=200)
    p = np.clip(0.3 * y + 0.35 + 0.2 * (groups == "a") + rng.normal(0, 0.1, 200), 0, 1)
    proba = np.column_stack([1 - p, p])
    rule = GroupThresholds().fit(proba, y, sensitive_features=list(groups))
    pred = rule.predict(proba, sensitive_features=list(groups))
    assert pred.shape == (200,) and set(np.unique(pred)) <= {0, 1}
    rates = [pred[groups == g].mean() for g in ("a", 1)]
    assert abs(rates[0] - rates[1]) < 0.1
