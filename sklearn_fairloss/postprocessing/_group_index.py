"""The group of each row, for the per-group calibrator and the per-group thresholds.

Both fit one parameter per group (per intersectional cell with several attributes) and look
the groups up again at predict time, where a group unseen in fit has no parameter. The groups
are those of the package's one factorisation, :class:`sklearn_fairloss._groups.GroupEncoder`.
"""

import numpy as np

from .._groups import GroupEncoder

__all__ = ["encode_groups", "lookup_groups"]


def encode_groups(sensitive_features, n_samples, reference="logits"):
    """Group (cell) code of each row, the groups (sorted; tuples for several attributes) and
    the attribute names (``sensitive_feature_<j>`` when unnamed). ``reference`` names the
    argument whose length ``sensitive_features`` must have."""
    encoder = GroupEncoder()
    cells = encoder.fit_transform(sensitive_features, n_samples=n_samples,
                                  reference=reference).cells
    return cells, list(encoder.cells_), list(encoder.names_)


def lookup_groups(sensitive_features, n_samples, groups, names, reference="logits"):
    """Index into ``groups`` (those of fit) of each row's group, -1 for a group unseen in fit,
    and the list of unseen groups. The attributes must be as many as in fit (``names``)."""
    codes, labels, new_names = encode_groups(sensitive_features, n_samples, reference)
    if len(new_names) != len(names):
        raise ValueError(
            f"sensitive_features has {len(new_names)} attribute(s) but {len(names)} were "
            f"given to fit ({names}).")
    position = {g: i for i, g in enumerate(groups)}
    known = np.array([position.get(g, -1) for g in labels], dtype=np.int64)
    unseen = [g for g, k in zip(labels, known) if k < 0]
    return known[codes], unseen
