"""Synthetic data shared by the tests of ``fairness_bound`` and ``GroupThresholdClassifier``
(not a test module: no ``test_`` prefix)."""

import numpy as np


def biased_two_groups(n, seed):
    """Two groups (30 % / 70 %); the label and a feature depend on the group, so that an
    unconstrained, group-blind model's positive rates differ by about 0.3. Returns ``(X, y,
    group)``, the group also the last column of ``X``."""
    rng = np.random.default_rng(seed)
    group = (rng.random(n) < 0.3).astype(int)
    z = rng.normal(size=n) + 1.0 * group
    y = (z + 0.7 * rng.normal(size=n) > 0.8).astype(int)
    X = np.column_stack([z + 0.3 * rng.normal(size=n), rng.normal(size=n), group])
    return X, y, group
