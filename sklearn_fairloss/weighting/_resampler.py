"""Resampler that draws rows so that each cell's expected count matches the strategy weights."""

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils.metadata_routing import UNCHANGED, _routing_enabled
from sklearn.utils.validation import check_consistent_length

from .._groups import GroupEncoder
from .._param_validation import InstanceOf, Integer, ParamsValidationMixin
from .._validation import split_sensitive_columns
from ._base import _check_target
from ._registry import check_strategy

__all__ = ["WeightedResampler"]

MSG_RESAMPLER_NEEDS_GROUPS = (
    "{strategy} needs sensitive_features: its weights depend on the group of each row. Pass "
    "WeightedResampler.fit_resample(X, y, sensitive_features=A), or name column(s) of a "
    "DataFrame X (sensitive_features='sex'). In an imblearn Pipeline, sensitive_features "
    "reaches fit_resample only through metadata routing: call "
    "sklearn.set_config(enable_metadata_routing=True), import imblearn, then "
    "resampler.set_fit_resample_request(sensitive_features=True), and pass "
    "pipe.fit(X, y, sensitive_features=A) (params={{'sensitive_features': A}} in "
    "cross_validate). The resampler has no set_fit_request: it is not fitted, it resamples."
)


def _largest_remainder(targets, total, rng):
    """Integer counts summing to ``total``, each the floor or ceiling of its target.

    Hamilton's largest-remainder method: floor every target, then give the missing units to
    the largest fractional parts (ties broken in a random order drawn from ``rng``).
    """
    targets = np.asarray(targets, dtype=np.float64)
    counts = np.floor(targets).astype(np.int64)
    missing = int(total - counts.sum())
    if missing > 0:
        order = rng.permutation(len(targets))
        fractions = (targets - counts)[order]
        best = order[np.argsort(-fractions, kind="stable")[:missing]]
        counts[best] += 1
    return counts


class WeightedResampler(ParamsValidationMixin, BaseEstimator):
    """Draw training rows so that every cell's expected count matches the strategy's weights.

    For classifiers whose ``fit`` takes no ``sample_weight`` (``KNeighborsClassifier``,
    ``MLPClassifier``, ...): use it as a step of :class:`imblearn.pipeline.Pipeline`, which
    calls :meth:`fit_resample` on the training data only. The strategy is fitted on the rows
    and gives weights ``w_i`` of mean 1; the resampler then draws ``n_samples`` rows (default:
    as many as given) so that the expected number of copies of row ``i`` is
    ``n_samples * w_i / sum(w)``, hence the expected count of each group x class cell is its
    total weight (rescaled to ``n_samples``). This is the upsampling side of "upsample or
    upweight" (Li et al.): the same data distribution as weighting, reached by sampling.

    - ``deterministic=False``: ``n_samples`` independent draws with replacement with
      probabilities ``w / sum(w)`` (a multinomial sample).
    - ``deterministic=True``: the count of each group x class cell (each class, without
      sensitive features) is its target rounded by the largest-remainder method (so cell
      counts differ from their targets by less than one and sum to ``n_samples``), then
      spread as evenly as possible over the cell's rows, each row appearing ``floor`` or
      ``ceil`` of its share (ties broken with ``random_state``).

    imbalanced-learn is not needed to use this class, only to put it in its Pipeline. In such
    a pipeline ``sensitive_features`` reaches :meth:`fit_resample` through metadata routing
    only (imbalanced-learn passes ``step__param`` parameters to ``fit``, not to
    ``fit_resample``): enable routing and call ``set_fit_resample_request(sensitive_features=
    True)``. Later steps receive the resampled ``X`` and ``y`` only.

    Read more in :doc:`/weighting`.

    Parameters
    ----------
    strategy : WeightingStrategy or str, default="reweighing"
        The weighting strategy (cloned at each call) or a string alias.
    n_samples : int or None, default=None
        Number of rows to return; None returns as many rows as given.
    deterministic : bool, default=False
        Round the counts (largest remainder) instead of drawing them at random.
    random_state : int, RandomState instance or None, default=None
        Seed of the draws (and of the tie-breaking when ``deterministic=True``).

    Attributes
    ----------
    strategy_ : WeightingStrategy
        The strategy fitted on the data last given to ``fit_resample``.
    sample_indices_ : ndarray of shape (n_samples_out,)
        Positions of the returned rows in the data given to ``fit_resample``.

    See Also
    --------
    WeightedClassifier : pass the weights to classifiers that take ``sample_weight``.

    References
    ----------
    .. [1] T. Li, H. Xu, W. Tan, K. Murray and D. Khashabi, "Upsample or Upweight? Balanced
       Training on Heavily Imbalanced Datasets", NAACL 2025 (arXiv:2410.04579).
    .. [2] F. Kamiran and T. Calders, "Data preprocessing techniques for classification
       without discrimination", Knowledge and Information Systems 33(1), 1-33, 2012
       (preferential and uniform sampling).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_fairloss.weighting import ClassBalanced, WeightedResampler
    >>> X = np.arange(8).reshape(-1, 1)
    >>> y = np.array([0, 0, 0, 0, 0, 0, 1, 1])
    >>> resampler = WeightedResampler(ClassBalanced(), deterministic=True, random_state=0)
    >>> X_res, y_res = resampler.fit_resample(X, y)
    >>> np.bincount(y_res)
    array([4, 4])
    """

    _parameter_constraints = {
        "n_samples": [None, Integer(1)],
        "deterministic": [InstanceOf((bool, np.bool_), "a bool")],
        "random_state": [None, Integer(0, 2**32 - 1),
                         InstanceOf(np.random.RandomState, "a numpy RandomState")],
    }

    def __init__(self, strategy="reweighing", *, n_samples=None, deterministic=False,
                 random_state=None):
        self.strategy = strategy
        self.n_samples = n_samples
        self.deterministic = deterministic
        self.random_state = random_state

    def fit_resample(self, X, y, sensitive_features=None):
        """Fit the strategy and return the resampled ``X`` and ``y``.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
            Rows to draw from; the result has the same type (pandas indexes are reset).
        y : array-like of shape (n_samples,)
            Class labels.
        sensitive_features : array-like, DataFrame, str or list of str, default=None
            Group of each row (2-D or DataFrame for several attributes), or column name(s) of
            a DataFrame ``X``. Required by strategies that use groups.

        Returns
        -------
        X_resampled : same type as X, of shape (n_samples_out, n_features)
        y_resampled : same type as y, of shape (n_samples_out,)
        """
        self._validate_params()
        sensitive, _ = split_sensitive_columns(X, sensitive_features)
        y_checked = _check_target(y, type(self).__name__)
        check_consistent_length(X, y_checked)
        strategy = check_strategy(self.strategy)
        if sensitive is None and strategy._uses_groups():
            raise ValueError(MSG_RESAMPLER_NEEDS_GROUPS.format(strategy=type(strategy).__name__))
        weights = strategy.fit_compute(y_checked, sensitive)
        self.strategy_ = strategy
        n_out = len(weights) if self.n_samples is None else int(self.n_samples)
        rng = check_random_state(self.random_state)
        probabilities = weights / weights.sum()
        if self.deterministic:
            # Round per group x class cell (per class without sensitive features), whatever
            # cells the strategy itself uses.
            _, cells = np.unique(y_checked, return_inverse=True)
            if sensitive is not None:
                groups = GroupEncoder().fit_transform(sensitive, len(cells), reference="y").cells
                cells = groups * (cells.max() + 1) + cells
            _, cells = np.unique(cells, return_inverse=True)
            cell_targets = n_out * np.bincount(cells, weights=probabilities)
            cell_counts = _largest_remainder(cell_targets, n_out, rng)
            counts = np.zeros(len(weights), dtype=np.int64)
            for cell, count in enumerate(cell_counts):
                rows = np.flatnonzero(cells == cell)
                mass = probabilities[rows].sum()
                if count == 0 or mass == 0:
                    continue
                counts[rows] = _largest_remainder(
                    count * probabilities[rows] / mass, count, rng
                )
            indices = np.repeat(np.arange(len(weights)), counts)
        else:
            indices = rng.choice(len(weights), size=n_out, replace=True, p=probabilities)
        self.sample_indices_ = indices
        X_res, y_res = _safe_indexing(X, indices), _safe_indexing(y, indices)
        if hasattr(X_res, "reset_index"):
            X_res = X_res.reset_index(drop=True)
        if hasattr(y_res, "reset_index"):
            y_res = y_res.reset_index(drop=True)
        return X_res, y_res

    def set_fit_resample_request(self, *, sensitive_features=UNCHANGED):
        """Request ``sensitive_features`` for ``fit_resample`` under metadata routing.

        Needed in an :class:`imblearn.pipeline.Pipeline` (and available once
        imbalanced-learn is imported, which registers ``fit_resample`` with scikit-learn's
        routing).

        Parameters
        ----------
        sensitive_features : bool, str or None, default=sklearn.utils.metadata_routing.UNCHANGED
            True to request, False to refuse, or an alias.

        Returns
        -------
        self : object
        """
        if not _routing_enabled():
            raise RuntimeError(
                "This method is only available when metadata routing is enabled. You can "
                "enable it using sklearn.set_config(enable_metadata_routing=True)."
            )
        requests = self._get_metadata_request()
        method = getattr(requests, "fit_resample", None)
        if method is None:
            raise RuntimeError(
                "fit_resample is not a routed method: import imblearn (imbalanced-learn) "
                "before creating the resampler's requests."
            )
        if sensitive_features is not UNCHANGED:
            method.add_request(param="sensitive_features", alias=sensitive_features)
        self._metadata_request = requests
        return self
