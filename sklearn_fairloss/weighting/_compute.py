"""The functional form of the strategies: :func:`strategy_sample_weight`.

Named ``strategy_sample_weight`` rather than ``compute_sample_weight``: scikit-learn's
:func:`sklearn.utils.class_weight.compute_sample_weight` takes ``(class_weight, y, *,
indices=None)``, and two functions of one name with other arguments break the import a user
copies from one package to the other. The name says what goes in (a strategy) and what comes
out (a ``sample_weight`` array). ``compute_sample_weight`` stays as a deprecated alias.
"""

import warnings

from .._validation import check_sample_weight
from ._registry import check_strategy

__all__ = ["compute_sample_weight", "strategy_sample_weight"]


def strategy_sample_weight(strategy, y, sensitive_features=None, *, sample_weight=None):
    """Per-row sample weights from a strategy fitted on the given rows.

    The strategy (cloned, so the argument is not modified) is fitted on ``y`` and
    ``sensitive_features`` and the weights of the same rows are returned, multiplied by the
    user's ``sample_weight``. Without ``sample_weight`` the weights have mean exactly 1.

    Parameters
    ----------
    strategy : WeightingStrategy or str
        A strategy or a string alias, see :func:`check_strategy`.
    y : array-like of shape (n_samples,)
        Class labels.
    sensitive_features : array-like of shape (n_samples,) or (n_samples, k), DataFrame \
            or None, default=None
        Group of each row; several columns make intersectional groups. Required by the
        strategies that use groups.
    sample_weight : array-like of shape (n_samples,) or None, default=None
        The user's weights: cells are counted with them and the result is multiplied by them.

    Returns
    -------
    sample_weight : ndarray of shape (n_samples,)
        Weights to pass to an estimator's ``fit``.

    See Also
    --------
    sklearn.utils.class_weight.compute_sample_weight : scikit-learn's class weights only
        (``"balanced"`` is ``strategy_sample_weight("class_balanced", y)``).

    Examples
    --------
    >>> from sklearn_fairloss.weighting import Reweighing, strategy_sample_weight
    >>> y =   [1, 1, 1, 0, 1, 0, 0, 0]
    >>> sex = ["m", "m", "m", "m", "f", "f", "f", "f"]
    >>> strategy_sample_weight(Reweighing(), y, sex).round(3)
    array([0.667, 0.667, 0.667, 2.   , 2.   , 0.667, 0.667, 0.667])
    """
    strategy = check_strategy(strategy)
    weights = strategy.fit_compute(y, sensitive_features, sample_weight=sample_weight)
    if sample_weight is not None:
        weights = weights * check_sample_weight(sample_weight, len(weights), reference="y")
    return weights


def compute_sample_weight(strategy, y, sensitive_features=None, *, sample_weight=None):
    """Deprecated alias of :func:`strategy_sample_weight`.

    It shadowed scikit-learn's :func:`sklearn.utils.class_weight.compute_sample_weight`,
    whose arguments differ; it warns with a ``FutureWarning`` and will be removed.

    Parameters
    ----------
    strategy : WeightingStrategy or str
    y : array-like of shape (n_samples,)
    sensitive_features : array-like, DataFrame or None, default=None
    sample_weight : array-like of shape (n_samples,) or None, default=None

    Returns
    -------
    sample_weight : ndarray of shape (n_samples,)

    Examples
    --------
    >>> import warnings
    >>> from sklearn_fairloss.weighting import compute_sample_weight
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FutureWarning)
    ...     compute_sample_weight("class_balanced", [0, 0, 0, 1])
    array([0.66666667, 0.66666667, 0.66666667, 2.        ])
    """
    warnings.warn(
        "sklearn_fairloss.weighting.compute_sample_weight is deprecated (it shadows "
        "sklearn.utils.class_weight.compute_sample_weight, whose arguments differ); use "
        "strategy_sample_weight(strategy, y, sensitive_features, sample_weight=...).",
        FutureWarning, stacklevel=2)
    return strategy_sample_weight(strategy, y, sensitive_features, sample_weight=sample_weight)
