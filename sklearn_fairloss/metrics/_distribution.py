"""Distribution-level gaps for scores: Jensen-Shannon divergence between the groups' score
histograms, and the distance correlation between scores and a continuous attribute."""

from itertools import combinations

import numpy as np
import pandas as pd

from ._validation import (
    _check_1d,
    _check_lengths,
    _check_method,
    _check_n_bins,
    _check_sample_weight,
    _encode_groups,
)

__all__ = ["jensen_shannon_divergence", "distance_correlation"]


def _check_scores(y_score, name="y_score"):
    """1-D scores; a two-column probability matrix gives its positive column."""
    scores = np.asarray(y_score, dtype=np.float64)
    if scores.ndim == 2 and scores.shape[1] in (1, 2):
        scores = scores[:, -1]
    if scores.ndim != 1:
        raise ValueError(f"{name} must be 1-D (or a binary predict_proba matrix); got an array "
                         f"of shape {scores.shape}.")
    if not np.all(np.isfinite(scores)):
        raise ValueError(f"{name} contains NaN or infinite values.")
    return scores


def _js(p, q, base):
    """Jensen-Shannon divergence of two histograms (normalised inside)."""
    p = p / p.sum()
    q = q / q.sum()
    m = 0.5 * (p + q)

    def kl(a):
        keep = a > 0
        return np.sum(a[keep] * np.log(a[keep] / m[keep]))

    return float(max(0.5 * kl(p) + 0.5 * kl(q), 0.0) / np.log(base))


def jensen_shannon_divergence(y_score, *, sensitive_features, n_bins=10,
                              method="between_groups", sample_weight=None, base=2):
    r"""Jensen-Shannon divergence between the groups' score distributions.

    Scores are binned into ``n_bins`` equal-width bins (on [0, 1] when all scores lie there,
    otherwise on their range); each group's (weighted) histogram is a distribution and
    :math:`\mathrm{JS}(P, Q) = \tfrac12 \mathrm{KL}(P \| M) + \tfrac12 \mathrm{KL}(Q \| M)`,
    :math:`M = \tfrac12 (P + Q)` (Lin 1991). Unlike demographic parity it sees the whole
    score distribution, not one threshold; "Machine Learning with Multitype Protected
    Attributes" uses it to tune the fairness regularisation strength.

    Parameters
    ----------
    y_score : array-like of shape (n_samples,)
        Scores, e.g. positive-class probabilities (a two-column ``predict_proba`` matrix is
        accepted and its last column used).
    sensitive_features : array-like, Series or DataFrame
        Protected attribute(s); several attributes form intersectional groups.
    n_bins : int, default=10
    method : {"between_groups", "to_overall"}, default="between_groups"
        The largest divergence over pairs of groups, or over groups against all samples.
    sample_weight : array-like of shape (n_samples,), default=None
    base : float, default=2
        Logarithm base; with base 2 the divergence lies in [0, 1].

    Returns
    -------
    divergence : float
        The largest divergence (of the pairs, or of the groups against all samples); 0 when
        the histograms coincide.

    Examples
    --------
    >>> from sklearn_fairloss.metrics import jensen_shannon_divergence
    >>> scores = [0.1, 0.2, 0.8, 0.9]
    >>> jensen_shannon_divergence(scores, sensitive_features=["a", "a", "b", "b"], n_bins=2)
    1.0
    """
    _check_method(method, ("between_groups", "to_overall"))
    n_bins = _check_n_bins(n_bins)
    scores = _check_scores(y_score)
    _check_lengths(("y_score", scores))
    sw = _check_sample_weight(sample_weight, scores.shape[0])
    enc = _encode_groups(sensitive_features, scores.shape[0])
    lo, hi = (0.0, 1.0) if scores.min() >= 0 and scores.max() <= 1 else (scores.min(),
                                                                        scores.max())
    edges = np.linspace(lo, hi, n_bins + 1) if hi > lo else np.array([lo, lo + 1.0])
    ids = np.clip(np.searchsorted(edges[1:-1], scores), 0, len(edges) - 2)
    nb = len(edges) - 1
    n_groups = len(enc.labels)
    hist = np.bincount(enc.codes * nb + ids, weights=sw, minlength=n_groups * nb)
    hist = hist.reshape(n_groups, nb).astype(np.float64)
    hist = hist[hist.sum(axis=1) > 0]
    if method == "to_overall":
        overall = hist.sum(axis=0)
        return max(_js(h, overall, base) for h in hist)
    if len(hist) < 2:
        return 0.0
    return max(_js(hist[g], hist[h], base) for g, h in combinations(range(len(hist)), 2))


def _weighted_abs_row_means(v, p):
    """:math:`\\bar a_i = \\sum_j p_j |v_i - v_j|` for all i in O(n log n)."""
    order = np.argsort(v, kind="stable")
    vs, ps = v[order], p[order]
    cw = np.cumsum(ps)
    cs = np.cumsum(ps * vs)
    out = np.empty_like(v)
    out[order] = vs * (2.0 * cw - cw[-1]) - (2.0 * cs - cs[-1])
    return out


def _cross_abs_sum(x, y, p):
    r""":math:`\sum_{i,j} p_i p_j |x_i - x_j| |y_i - y_j|` in O(n log^2 n) time, O(n) memory.

    With the rows in x order, the sum is twice the sum over i < j of
    :math:`p_i p_j (x_j - x_i)|y_j - y_i|`; dropping the absolute value gives a covariance
    term, and the correction runs over the "inverted" pairs (:math:`y_i > y_j`), counted
    block by block as in a bottom-up merge sort: at each level every pair is split between
    the left and the right half of exactly one block.
    """
    n = x.shape[0]
    order = np.argsort(x, kind="stable")
    xs, ys, ps = x[order], y[order], p[order]
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(ys, kind="stable")] = np.arange(n)
    cov = np.sum(ps * xs * ys) * np.sum(ps) - np.sum(ps * xs) * np.sum(ps * ys)
    pos = np.arange(n)
    feats = np.column_stack([ps, ps * ys, ps * xs, ps * xs * ys])
    inverted = 0.0
    half = 1
    while half < n:
        block = pos // (2 * half)
        left = (pos % (2 * half)) < half
        right = ~left
        key_left = block[left] * n + rank[left]
        srt = np.argsort(key_left, kind="stable")
        keys = key_left[srt]
        prefix = np.vstack([np.zeros(4), np.cumsum(feats[left][srt], axis=0)])
        key_right = block[right] * n + rank[right]
        lo = np.searchsorted(keys, key_right, side="right")
        hi = np.searchsorted(keys, (block[right] + 1) * n, side="left")
        c0, cy, cx, cxy = (prefix[hi] - prefix[lo]).T
        xj, yj, pj = xs[right], ys[right], ps[right]
        inverted += np.sum(pj * (xj * yj * c0 - xj * cy - yj * cx + cxy))
        half *= 2
    return 2.0 * (cov - 2.0 * inverted)


def _dcov2(x, y, p):
    """Weighted squared distance covariance (V-statistic), weights summing to one."""
    s1 = _cross_abs_sum(x, y, p)
    ax, ay = _weighted_abs_row_means(x, p), _weighted_abs_row_means(y, p)
    return s1 - 2.0 * np.sum(p * ax * ay) + np.sum(p * ax) * np.sum(p * ay)


def distance_correlation(y_score, sensitive_features, *, sample_weight=None):
    r"""Distance correlation between scores and a continuous protected attribute.

    Székely, Rizzo & Bakirov (2007), "Measuring and Testing Dependence by Correlation of
    Distances": :math:`\mathrm{dCor}(S, A) = \mathrm{dCov}(S, A) /
    \sqrt{\mathrm{dVar}(S)\,\mathrm{dVar}(A)}`, in [0, 1], zero if and only if the scores
    are independent of the attribute (in the population), and sensitive to non-linear
    dependence. This is the quantity "Machine Learning with Multitype Protected Attributes"
    regularises for a continuous attribute such as age. The V-statistic is computed
    exactly in :math:`O(n \log^2 n)` time and :math:`O(n)` memory, so it scales to millions
    of rows; with ``sample_weight`` the empirical distribution is weighted.

    Parameters
    ----------
    y_score : array-like of shape (n_samples,)
        Scores or predictions (a two-column ``predict_proba`` matrix uses its last column).
    sensitive_features : array-like of shape (n_samples,) or single-column DataFrame
        The continuous (numeric) attribute.
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    dcor : float
        In [0, 1]; 0 when the scores do not depend on the attribute.

    Examples
    --------
    >>> from sklearn_fairloss.metrics import distance_correlation
    >>> age = [20.0, 30.0, 40.0, 50.0]
    >>> round(distance_correlation([0.1, 0.2, 0.3, 0.4], age), 6)
    1.0
    >>> round(distance_correlation([0.5, 0.5, 0.5, 0.5], age), 6)
    0.0
    """
    scores = _check_scores(y_score)
    if isinstance(sensitive_features, pd.DataFrame):
        if sensitive_features.shape[1] != 1:
            raise ValueError("distance_correlation needs one continuous attribute; got "
                             f"{sensitive_features.shape[1]} columns.")
        sensitive_features = sensitive_features.iloc[:, 0]
    if sensitive_features is None:
        raise ValueError("sensitive_features is required: the continuous attribute.")
    attr = _check_1d(sensitive_features, "sensitive_features")
    _check_lengths(("y_score", scores), ("sensitive_features", attr))
    if not (np.issubdtype(attr.dtype, np.number) or attr.dtype == bool):
        raise ValueError("distance_correlation needs a numeric sensitive_features; got dtype "
                         f"{attr.dtype}. Use jensen_shannon_divergence for categorical groups.")
    attr = attr.astype(np.float64)
    if not np.all(np.isfinite(attr)):
        raise ValueError("sensitive_features contains missing values (NaN/None) in column(s) "
                         "['sensitive_feature_0']; encode missing values as a group of their "
                         "own explicitly.")
    sw = _check_sample_weight(sample_weight, scores.shape[0])
    p = np.full(scores.shape[0], 1.0 / scores.shape[0]) if sw is None else sw / sw.sum()
    # Centre and scale for numerical stability; distance correlation is invariant to both.
    xs = (scores - scores.mean()) / (scores.std() or 1.0)
    ys = (attr - attr.mean()) / (attr.std() or 1.0)
    dcov = _dcov2(xs, ys, p)
    dvar_x = _dcov2(xs, xs, p)
    dvar_y = _dcov2(ys, ys, p)
    if dvar_x <= 1e-15 or dvar_y <= 1e-15:
        return 0.0
    return float(np.sqrt(max(dcov, 0.0) / np.sqrt(dvar_x * dvar_y)))
