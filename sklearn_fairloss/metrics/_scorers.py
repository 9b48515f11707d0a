"""Scorers for fairness, calibration and equity-scaled metrics that work in
``cross_val_score``, ``cross_validate`` and ``GridSearchCV`` with any estimator or Pipeline.

A scorer finds the sensitive features in one of two ways:

- ``sensitive_features=`` names column(s) of the raw ``X`` the scorer is called with (a
  DataFrame, the input of the Pipeline), resolved as the estimators resolve column names
  (:func:`sklearn_fairloss._validation.split_sensitive_columns`); no metadata routing is
  needed, and the fold's rows come along with ``X``. The former spelling ``sensitive=`` still
  works, with a ``FutureWarning``;
- otherwise they are routed metadata: with ``sklearn.set_config(enable_metadata_routing=True)``
  pass ``params={"sensitive_features": A}`` to ``cross_validate`` / ``GridSearchCV.fit``, and
  the scorer (which requests ``sensitive_features`` by default, as scikit-learn's group
  splitters request ``groups``) receives the fold's slice.

Only public scikit-learn API is used (``sklearn.utils.metadata_routing.MetadataRequest``);
the scorers are plain callables ``scorer(estimator, X, y_true, **metadata)``.
"""

import inspect
import warnings
from functools import partial

import numpy as np
import pandas as pd
from sklearn.utils.metadata_routing import MetadataRequest

from .._validation import short_list, split_sensitive_columns
from . import _calibration, _distribution, _fairness
from ._group_metrics import (
    _accepts,
    _resolve_metric,
    equity_scaled_score,
    performance_scaled_disparity,
    worst_group_score,
)

__all__ = [
    "make_fairness_scorer",
    "make_calibration_scorer",
    "make_equity_scaled_scorer",
    "GroupMetricScorer",
]


def _jsd_scorer_func(y_true, y_score, *, sensitive_features, sample_weight=None, n_bins=10,
                     method="between_groups", base=2):
    return _distribution.jensen_shannon_divergence(
        y_score, sensitive_features=sensitive_features, sample_weight=sample_weight,
        n_bins=n_bins, method=method, base=base)


def _dcor_scorer_func(y_true, y_score, *, sensitive_features, sample_weight=None):
    return _distribution.distance_correlation(y_score, sensitive_features,
                                              sample_weight=sample_weight)


def _abs_balance_score(y_true, y_proba, **kwargs):
    return abs(_calibration.balance_score(y_true, y_proba, **kwargs))


# name: (function, response_method, greater_is_better)
_FAIRNESS_METRICS = {
    **{f.__name__: (f, "predict", f.__name__.endswith("_ratio")) for f in (
        _fairness.demographic_parity_difference,
        _fairness.demographic_parity_ratio,
        _fairness.equalized_odds_difference,
        _fairness.equalized_odds_ratio,
        _fairness.equal_opportunity_difference,
        _fairness.equal_opportunity_ratio,
        _fairness.predictive_parity_difference,
        _fairness.error_rate_parity_difference,
    )},
    "calibration_error_difference": (_calibration.calibration_error_difference,
                                     "predict_proba", False),
    "jensen_shannon_divergence": (_jsd_scorer_func, "predict_proba", False),
    "distance_correlation": (_dcor_scorer_func, "predict_proba", False),
}
_CALIBRATION_METRICS = {
    "expected_calibration_error": (_calibration.expected_calibration_error, "predict_proba",
                                   False),
    "maximum_calibration_error": (_calibration.maximum_calibration_error, "predict_proba",
                                  False),
    "balance_score": (_abs_balance_score, "predict_proba", False),
    "calibration_error_difference": _FAIRNESS_METRICS["calibration_error_difference"],
}
# scikit-learn metrics that take scores rather than labels.
_SCORE_METRICS = {"roc_auc_score", "average_precision_score", "brier_score_loss", "log_loss",
                  "roc_auc", "average_precision", "top_k_accuracy_score", "d2_brier_score",
                  "d2_log_loss_score"}
_RESPONSE_METHODS = ("predict", "predict_proba", "decision_function")


def _func_name(func):
    if isinstance(func, partial):
        return f"partial({_func_name(func.func)}, ...)"
    return getattr(func, "__name__", repr(func))


class _Deprecated:
    """Default of the deprecated ``sensitive=`` keyword: "not given"."""

    def __repr__(self):
        return "<deprecated>"


_DEPRECATED = _Deprecated()

MSG_SCORER_SF_MISSING = (
    "sensitive_features is required: this scorer was made with sensitive_features=None, so it "
    "reads them as routed metadata. Either name their column(s) of the raw X when making the "
    "scorer (sensitive_features='sex'), or enable metadata routing "
    "(sklearn.set_config(enable_metadata_routing=True)) and pass "
    "params={'sensitive_features': A} to cross_validate (sensitive_features=A to a search's "
    "fit)."
)


def _resolve_spelling(sensitive_features, sensitive, owner):
    """The column argument and the keyword the user spelled it with.

    ``sensitive=`` is the deprecated spelling of ``sensitive_features=``.
    """
    if sensitive is _DEPRECATED:
        return sensitive_features, "sensitive_features"
    warnings.warn(
        f"{owner}(sensitive=...) is deprecated and will be removed in a future release; use "
        f"sensitive_features=... (the name used by the estimators and by fairlearn).",
        FutureWarning, stacklevel=3)
    if sensitive_features is not None:
        raise TypeError(f"{owner} got both sensitive_features= and its deprecated spelling "
                        "sensitive=; pass sensitive_features= only.")
    return sensitive, "sensitive"


def _sensitive_from_X(X, columns, spelling="sensitive_features"):
    """The columns ``columns`` (names, or positions for arrays) of the scorer's ``X``.

    Names are resolved by :func:`sklearn_fairloss._validation.split_sensitive_columns`, as
    the estimators resolve them; ``spelling`` is the keyword the user passed (for messages).
    """
    names = [columns] if isinstance(columns, (str, int, np.integer)) else list(columns)
    if names and all(isinstance(n, str) for n in names):
        if not isinstance(X, pd.DataFrame):
            raise ValueError(
                f"{spelling}={columns!r} names columns of X, but the scorer was called with X "
                f"of type {type(X).__name__}; pass X as a pandas DataFrame (the raw input of "
                "the Pipeline), or route the sensitive features as metadata instead.")
        missing = [n for n in names if n not in X.columns]
        if missing:
            raise ValueError(
                f"{spelling} names column(s) {short_list(missing)} that are not in X; X has "
                f"columns {short_list(map(str, X.columns))}. A scorer reads the raw X given "
                "to cross_validate or the search (before any Pipeline step).")
        return split_sensitive_columns(X, names)[0]
    if names and all(isinstance(n, (int, np.integer)) and not isinstance(n, bool)
                     for n in names):
        if isinstance(X, pd.DataFrame):
            return X.iloc[:, names]
        array = np.asarray(X)
        if array.ndim != 2 or max(names) >= array.shape[1] or min(names) < -array.shape[1]:
            raise ValueError(f"{spelling}={columns!r} are not valid column positions of X "
                             f"with shape {array.shape}.")
        return array[:, names]
    raise ValueError(f"{spelling} must be a column name, a column position, or a list of "
                     f"either; got {columns!r}.")


def _get_response(estimator, X, response_method, pos_label):
    """Call the first available response method; binary probabilities become the positive
    column, binary decision values are signed for ``pos_label``."""
    methods = [response_method] if isinstance(response_method, str) else list(response_method)
    for name in methods:
        if name not in _RESPONSE_METHODS:
            raise ValueError(f"response_method must be one of {list(_RESPONSE_METHODS)} or a "
                             f"list of them; got {name!r}.")
    for name in methods:
        if hasattr(estimator, name):
            break
    else:
        raise AttributeError(f"{type(estimator).__name__} has none of the response methods "
                             f"{methods}.")
    out = getattr(estimator, name)(X)
    classes = getattr(estimator, "classes_", None)
    if classes is None or len(classes) != 2 or name == "predict":
        return out
    if name == "predict_proba":
        col = 1 if pos_label is None else list(classes).index(pos_label)
        return np.asarray(out)[:, col]
    out = np.asarray(out)
    return -out if (pos_label is not None and pos_label == classes[0]) else out


class GroupMetricScorer:
    """A scorer ``scorer(estimator, X, y_true, **metadata)`` for a group metric.

    Build it with :func:`make_fairness_scorer`, :func:`make_calibration_scorer` or
    :func:`make_equity_scaled_scorer`. It calls ``response_method`` on the estimator, finds
    the sensitive features (columns ``sensitive_features`` of ``X``, or the routed
    ``sensitive_features`` metadata), and returns ``sign * score_func(y_true, response,
    sensitive_features=..., sample_weight=..., **kwargs)``.

    Parameters
    ----------
    score_func : callable
    sign : {1, -1}
    response_method : str or list of str
    sensitive_features : str, int, list of them, or None, default=None
        Column name(s) (positions for arrays) of the ``X`` the scorer is called with; None
        reads the routed metadata ``sensitive_features``.
    needs_sensitive : bool
    pos_label : object or None
    kwargs : dict
    pos_label_target : callable or None
        The function whose signature decides whether ``pos_label`` is passed.
    sensitive : str, int, list or None
        Deprecated spelling of ``sensitive_features`` (``FutureWarning``).

    Examples
    --------
    >>> from sklearn_fairloss.metrics import GroupMetricScorer, make_fairness_scorer
    >>> scorer = make_fairness_scorer("demographic_parity_difference",
    ...                               sensitive_features="sex")
    >>> isinstance(scorer, GroupMetricScorer)
    True
    >>> scorer
    GroupMetricScorer(demographic_parity_difference, greater_is_better=False, \
response_method='predict', sensitive_features='sex')
    """

    def __init__(self, score_func, *, sign, response_method, sensitive_features=None,
                 needs_sensitive, pos_label, kwargs, pos_label_target=None,
                 sensitive=_DEPRECATED):
        sensitive_features, spelling = _resolve_spelling(sensitive_features, sensitive,
                                                         "GroupMetricScorer")
        self._score_func = score_func
        self._sign = sign
        self._response_method = response_method
        self._sensitive = sensitive_features
        self._spelling = spelling
        self._needs_sensitive = needs_sensitive
        self._pos_label = pos_label
        self._kwargs = kwargs
        self._pos_label_target = score_func if pos_label_target is None else pos_label_target
        self._requests = {}
        if needs_sensitive:
            self._requests["sensitive_features"] = sensitive_features is None
        if _accepts(score_func, "sample_weight"):
            self._requests["sample_weight"] = None

    def __repr__(self):
        parts = [_func_name(self._score_func)]
        if self._sign < 0:
            parts.append("greater_is_better=False")
        parts.append(f"response_method={self._response_method!r}")
        if self._sensitive is not None:
            parts.append(f"{getattr(self, '_spelling', 'sensitive')}={self._sensitive!r}")
        parts += [f"{k}={v!r}" for k, v in self._kwargs.items()]
        return f"GroupMetricScorer({', '.join(parts)})"

    # -- metadata routing (public sklearn API only) ---------------------------------------
    def set_score_request(self, **kwargs):
        """Request metadata for ``score``: ``sensitive_features`` and/or ``sample_weight``.

        Values are ``True`` (route it), ``False`` (do not), ``None`` (error if passed) or a
        string alias. Needs ``sklearn.set_config(enable_metadata_routing=True)``.

        Returns
        -------
        self : GroupMetricScorer
        """
        import sklearn

        if not sklearn.get_config().get("enable_metadata_routing", False):
            raise RuntimeError(
                "This method is only available when metadata routing is enabled. You can "
                "enable it using sklearn.set_config(enable_metadata_routing=True).")
        for param, alias in kwargs.items():
            if param not in ("sensitive_features", "sample_weight"):
                raise ValueError(f"{self!r} accepts only sensitive_features and "
                                 f"sample_weight as metadata; got {param!r}.")
            self._requests[param] = alias
        return self

    def get_metadata_routing(self):
        """The metadata this scorer requests for ``score`` (used by scikit-learn's routing).

        Returns
        -------
        request : sklearn.utils.metadata_routing.MetadataRequest
        """
        request = MetadataRequest(owner=repr(self))
        for param, alias in self._requests.items():
            request.score.add_request(param=param, alias=alias)
        return request

    def _accept_sample_weight(self):
        # Used by scikit-learn when routing is off (its scorers have the same method).
        return "sample_weight" in self._requests

    # -- scoring --------------------------------------------------------------------------
    def __call__(self, estimator, X, y_true, **kwargs):
        """Score ``estimator`` on ``X`` against ``y_true``.

        Parameters
        ----------
        estimator : fitted estimator or Pipeline
        X : array-like or DataFrame
            The input of ``estimator``; a DataFrame when ``sensitive_features`` names
            columns.
        y_true : array-like of shape (n_samples,)
        **kwargs
            Metadata: ``sensitive_features`` and ``sample_weight``.

        Returns
        -------
        score : float
        """
        unknown = set(kwargs) - {"sensitive_features", "sample_weight"}
        if unknown:
            raise TypeError(f"{self!r} got unexpected metadata {sorted(unknown)}.")
        routed = kwargs.get("sensitive_features")
        sample_weight = kwargs.get("sample_weight")
        call_kwargs = dict(self._kwargs)
        if self._needs_sensitive:
            spelling = getattr(self, "_spelling", "sensitive")
            if self._sensitive is not None:
                if routed is not None:
                    raise ValueError(
                        f"Both {spelling}={self._sensitive!r} and routed sensitive_features "
                        "were given to the scorer; use one of them.")
                sensitive_features = _sensitive_from_X(X, self._sensitive, spelling)
            elif routed is not None:
                sensitive_features = routed
            else:
                raise ValueError(MSG_SCORER_SF_MISSING)
            call_kwargs["sensitive_features"] = sensitive_features
        if sample_weight is not None:
            call_kwargs["sample_weight"] = sample_weight
        pos_label = self._pos_label
        classes = getattr(estimator, "classes_", None)
        if pos_label is None and classes is not None and len(classes) == 2:
            pos_label = classes[1]
        response = _get_response(estimator, X, self._response_method, pos_label)
        if pos_label is not None and "pos_label" not in call_kwargs and _accepts(
                self._pos_label_target, "pos_label"):
            call_kwargs["pos_label"] = pos_label
        if (classes is not None and np.ndim(response) == 2 and "labels" not in call_kwargs
                and _accepts(self._pos_label_target, "labels")):
            call_kwargs["labels"] = np.asarray(classes)
        y_true = y_true.to_numpy() if hasattr(y_true, "to_numpy") else np.asarray(y_true)
        return self._sign * float(self._score_func(y_true, response, **call_kwargs))


def _lookup(metric, registry, kind):
    if isinstance(metric, str):
        if metric not in registry:
            raise ValueError(f"Unknown {kind} metric {metric!r}; expected one of "
                             f"{sorted(registry)} or a callable.")
        return registry[metric]
    if callable(metric):
        return metric, "predict", True
    raise ValueError(f"metric must be a string or a callable; got {metric!r}.")


def _check_sensitive_arg(columns, spelling):
    if columns is not None and not isinstance(columns, (str, int, np.integer, list, tuple)):
        raise ValueError(
            f"{spelling} must be None (routed metadata), a column name or position of X, or a "
            f"list of them; got an object of type {type(columns).__name__}. A scorer reads the "
            "groups of each fold from X or from routed metadata, never from a fixed array.")


#: Keywords a scorer sets itself; passing them through ``**kwargs`` is an error.
_RESERVED = ("sensitive_features", "sample_weight", "y_true", "y_pred", "y_proba", "y_score")


def _takes(func, name):
    """Whether ``func`` takes the keyword ``name`` (True when its signature is unknown)."""
    try:
        parameters = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return True
    return name in parameters or any(p.kind is inspect.Parameter.VAR_KEYWORD
                                     for p in parameters.values())


def _check_kwargs(owner, kwargs, *targets):
    """A keyword no target takes is a TypeError now rather than a NaN in every fold."""
    for name in kwargs:
        if name in _RESERVED or not any(_takes(t, name) for t in targets):
            takers = " or ".join(_func_name(t) for t in targets)
            hint = " (did you mean sensitive_features=?)" if "sensit" in name else ""
            raise TypeError(f"{owner}() got an unexpected keyword argument {name!r}{hint}: "
                            f"it is passed on to {takers}, which does not take it.")


def _scorer(func, greater_is_better, *, sensitive_features, spelling="sensitive_features",
            needs_sensitive=True, **options):
    """The :class:`GroupMetricScorer` of ``func``, negated when lower is better."""
    _check_sensitive_arg(sensitive_features, spelling)
    scorer = GroupMetricScorer(func, sign=1 if greater_is_better else -1,
                               sensitive_features=sensitive_features,
                               needs_sensitive=needs_sensitive, **options)
    scorer._spelling = spelling
    return scorer


def make_fairness_scorer(metric, *, sensitive_features=None, response_method=None,
                         greater_is_better=None, pos_label=None, sensitive=_DEPRECATED,
                         **kwargs):
    """Make a scorer from a fairness metric, for ``cross_val_score`` and ``GridSearchCV``.

    Parameters
    ----------
    metric : str or callable
        A name: ``"demographic_parity_difference"``, ``"demographic_parity_ratio"``,
        ``"equalized_odds_difference"``, ``"equalized_odds_ratio"``,
        ``"equal_opportunity_difference"``, ``"equal_opportunity_ratio"``,
        ``"predictive_parity_difference"``, ``"error_rate_parity_difference"``,
        ``"calibration_error_difference"``, ``"jensen_shannon_divergence"``,
        ``"distance_correlation"``; or a callable
        ``metric(y_true, y_pred, *, sensitive_features, **kwargs)`` (for instance
        ``functools.partial(worst_group_score, recall_score)``).
    sensitive_features : str, int or list of them, default=None
        Column name(s) of the DataFrame ``X`` the scorer is called with (positions for
        arrays) that hold the sensitive features: the raw ``X`` given to
        ``cross_validate`` or the search, before any Pipeline step. This works through any
        Pipeline and needs no metadata routing. When None, the features must be routed as
        metadata ``sensitive_features`` (requested by default; see
        :meth:`GroupMetricScorer.set_score_request`).
    response_method : {"predict", "predict_proba", "decision_function"} or list, \
            default=None
        The estimator's method to call; defaults to the metric's natural input (labels for
        parity metrics, probabilities for calibration and distribution metrics).
    greater_is_better : bool, default=None
        Defaults to the metric's own direction (False for differences, True for ratios and
        for callables). When False the scorer returns the negated value, as scikit-learn's
        ``neg_*`` scorers do.
    pos_label : int, str or bool, default=None
        Positive class; for binary estimators it defaults to ``estimator.classes_[1]``.
    sensitive : str, int or list of them
        Deprecated spelling of ``sensitive_features`` (``FutureWarning``).
    **kwargs
        Passed to the metric (``method="to_overall"``, ``class_agg="mean"``, ``n_bins=...``);
        a keyword the metric does not take is a ``TypeError``.

    {scorer_returns}

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.compose import make_column_transformer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import cross_val_score
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_fairloss.metrics import make_fairness_scorer
    >>> X = pd.DataFrame({"income": [1.0, 2, 3, 4, 5, 6, 7, 8] * 5,
    ...                   "sex": ["F", "M"] * 20})
    >>> y = [0, 0, 0, 1, 0, 1, 1, 1] * 5
    >>> model = make_pipeline(make_column_transformer(("passthrough", ["income"])),
    ...                       LogisticRegression())
    >>> dp = make_fairness_scorer("demographic_parity_difference", sensitive_features="sex")
    >>> scores = cross_val_score(model, X, y, scoring=dp, cv=2)
    >>> [round(float(s), 2) for s in scores]  # minus the difference: greater is better
    [-0.01, -0.01]
    """
    columns, spelling = _resolve_spelling(sensitive_features, sensitive,
                                          "make_fairness_scorer")
    func, default_method, default_gib = _lookup(metric, _FAIRNESS_METRICS, "fairness")
    _check_kwargs("make_fairness_scorer", kwargs, func)
    return _scorer(
        func, default_gib if greater_is_better is None else greater_is_better,
        response_method=default_method if response_method is None else response_method,
        sensitive_features=columns, spelling=spelling, pos_label=pos_label, kwargs=kwargs)


def make_calibration_scorer(metric="expected_calibration_error", *, sensitive_features=None,
                            response_method="predict_proba", greater_is_better=None,
                            pos_label=None, sensitive=_DEPRECATED, **kwargs):
    """Make a scorer from a calibration metric.

    Parameters
    ----------
    metric : str or callable, default="expected_calibration_error"
        ``"expected_calibration_error"``, ``"maximum_calibration_error"``,
        ``"balance_score"`` (scored as its absolute value: 0 is ideal, the sign only says
        over- or under-confident), ``"calibration_error_difference"`` (needs sensitive
        features), or a callable ``metric(y_true, y_proba, **kwargs)``.
    sensitive_features : str, int or list of them, default=None
        Only for ``"calibration_error_difference"``: see :func:`make_fairness_scorer`.
    response_method : str or list of str, default="predict_proba"
    greater_is_better : bool, default=None
        Defaults to False for the named metrics (they are errors), True for callables.
    pos_label : int, str or bool, default=None
    sensitive : str, int or list of them
        Deprecated spelling of ``sensitive_features`` (``FutureWarning``).
    **kwargs
        Passed to the metric (``n_bins``, ``strategy``, ``variant``); a keyword the metric
        does not take is a ``TypeError``.

    {scorer_returns}

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import cross_val_score
    >>> from sklearn_fairloss.metrics import make_calibration_scorer
    >>> X, y = make_classification(n_samples=400, random_state=0)
    >>> ece = make_calibration_scorer("expected_calibration_error", n_bins=10)
    >>> scores = cross_val_score(LogisticRegression(), X, y, scoring=ece, cv=3)
    >>> bool(all(-0.2 < s <= 0 for s in scores))
    True
    """
    columns, spelling = _resolve_spelling(sensitive_features, sensitive,
                                          "make_calibration_scorer")
    func, _, default_gib = _lookup(metric, _CALIBRATION_METRICS, "calibration")
    needs_sensitive = func is _calibration.calibration_error_difference
    if columns is not None and not needs_sensitive:
        raise ValueError(f"{spelling} is only used by 'calibration_error_difference'; "
                         f"metric {metric!r} does not take sensitive features.")
    target = _calibration.balance_score if func is _abs_balance_score else func
    _check_kwargs("make_calibration_scorer", kwargs, target)
    return _scorer(
        func, default_gib if greater_is_better is None else greater_is_better,
        response_method=response_method, sensitive_features=columns, spelling=spelling,
        pos_label=pos_label, kwargs=kwargs, needs_sensitive=needs_sensitive,
        pos_label_target=target)


_GROUP_AGGREGATES = {
    "equity_scaled": (equity_scaled_score, True),
    "worst_group": (worst_group_score, True),
    "performance_scaled_disparity": (performance_scaled_disparity, False),
}


def make_equity_scaled_scorer(metric, *, sensitive_features=None, kind="equity_scaled",
                              response_method=None, pos_label=None, sensitive=_DEPRECATED,
                              **kwargs):
    """Make a scorer from any scikit-learn metric disaggregated by group.

    Parameters
    ----------
    metric : str or callable
        ``metric(y_true, y_pred, **kwargs)`` or a scikit-learn metric name
        (``"accuracy"``, ``"roc_auc"``, ``"f1_score"``...).
    sensitive_features : str, int or list of them, default=None
        See :func:`make_fairness_scorer`.
    kind : {"equity_scaled", "worst_group", "performance_scaled_disparity"}, \
            default="equity_scaled"
        :func:`equity_scaled_score` (FairSeg's ES-Dice, Eye Fairness's ES-AUC),
        :func:`worst_group_score`, or :func:`performance_scaled_disparity` (scored negated,
        lower is fairer).
    response_method : str or list of str, default=None
        Defaults to ``("predict_proba", "decision_function")`` (the first one available)
        for score metrics (ROC AUC, average precision), ``"predict_proba"`` for the Brier
        score and log loss, ``"predict"`` otherwise.
    pos_label : int, str or bool, default=None
    sensitive : str, int or list of them
        Deprecated spelling of ``sensitive_features`` (``FutureWarning``).
    **kwargs
        Passed to the aggregate (``alpha=``, ``method=``) and on to ``metric``; a keyword
        neither takes is a ``TypeError``.

    {scorer_returns}

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_fairloss.metrics import make_equity_scaled_scorer
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> y = (X[:, 0] + rng.normal(size=200) > 0).astype(int)
    >>> es_auc = make_equity_scaled_scorer("roc_auc", sensitive_features=[2])
    >>> X[:, 2] = X[:, 2] > 0  # the group column, passed through to the model as well
    >>> model = LogisticRegression().fit(X, y)
    >>> 0 < es_auc(model, X, y) <= 1
    True
    """
    columns, spelling = _resolve_spelling(sensitive_features, sensitive,
                                          "make_equity_scaled_scorer")
    if kind not in _GROUP_AGGREGATES:
        raise ValueError(f"kind must be one of {sorted(_GROUP_AGGREGATES)}; got {kind!r}.")
    inner = _resolve_metric(metric)
    aggregate, gib = _GROUP_AGGREGATES[kind]
    own = {name for name, p in inspect.signature(aggregate).parameters.items()
           if p.kind is inspect.Parameter.KEYWORD_ONLY} - {"sensitive_features", "sample_weight"}
    _check_kwargs("make_equity_scaled_scorer", {k: v for k, v in kwargs.items() if k not in own},
                  inner)
    if response_method is None:
        name = getattr(inner, "__name__", "")
        if name in ("brier_score_loss", "log_loss", "d2_brier_score", "d2_log_loss_score"):
            response_method = "predict_proba"
        elif name in _SCORE_METRICS:
            response_method = ("predict_proba", "decision_function")
        else:
            response_method = "predict"
    return _scorer(partial(aggregate, inner), gib, response_method=response_method,
                   sensitive_features=columns, spelling=spelling, pos_label=pos_label,
                   kwargs=kwargs, pos_label_target=inner)
