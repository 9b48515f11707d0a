"""Meta-estimator that fits any scikit-learn classifier with strategy sample weights."""

from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.utils import get_tags
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _routing_enabled,
    get_routing_for_object,
    process_routing,
)
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_consistent_length, check_is_fitted, has_fit_parameter

from .._validation import check_sample_weight, split_sensitive_columns
from ._base import _check_target
from ._docstrings import fill_doc
from ._registry import check_strategy

__all__ = ["WeightedClassifier"]

_DELEGATED = ("predict", "predict_proba", "predict_log_proba", "decision_function")


def _estimator_has(attr):
    """Whether the fitted estimator, or else the unfitted one, has ``attr``."""

    def check(self):
        if hasattr(self, "estimator_"):
            return hasattr(self.estimator_, attr)
        return hasattr(self.estimator, attr)

    return check


def _delegated(method, summary, returns):
    """The meta-estimator's ``method``: the fitted classifier's, with metadata routing.

    Available (``hasattr``) only when the wrapped classifier has ``method``.
    """

    def delegate(self, X, **params):
        check_is_fitted(self)
        if _routing_enabled():
            params = process_routing(self, method, **params)["estimator"][method]
        return getattr(self.estimator_, method)(X, **params)

    delegate.__name__ = method
    delegate.__qualname__ = f"WeightedClassifier.{method}"
    delegate.__doc__ = f"""{summary}

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        **params : dict
            Parameters of the classifier's ``{method}`` (routed when routing is enabled).

        Returns
        -------
        {returns}
        """
    return available_if(_estimator_has(method))(delegate)


@fill_doc
class WeightedClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Fit a classifier with the sample weights of a weighting strategy.

    At ``fit`` the strategy is fitted on the training rows (so each cross-validation fold
    recomputes its weights) and the wrapped classifier is fitted with
    ``sample_weight = user_sample_weight * strategy_weights``. Prediction methods,
    ``classes_`` and ``n_features_in_`` are those of the fitted classifier. The strategy and
    its parameters are hyperparameters: ``GridSearchCV(param_grid={"strategy":
    [Reweighing(), ClassBalanced()]})`` or ``{"strategy__beta": [0.9, 0.99]}``.

    The wrapped classifier's ``fit`` must take ``sample_weight``; for those that do not
    (``KNeighborsClassifier``, ``MLPClassifier``) use :class:`WeightedResampler` in an
    imbalanced-learn pipeline.

    Read more in :doc:`/weighting`.

    Parameters
    ----------
    estimator : classifier
        A scikit-learn classifier whose ``fit`` accepts ``sample_weight``; cloned at ``fit``.
    strategy : WeightingStrategy or str, default="reweighing"
        The weighting strategy (cloned at ``fit``) or a string alias: ``"reweighing"``,
        ``"class_balanced"``, ``"group_balanced"``, ``"temperature"``.

    Attributes
    ----------
    estimator_ : classifier
        The classifier fitted with the weights.
    strategy_ : WeightingStrategy
        The strategy fitted on the training rows (see its ``weight_table()``).
    classes_ : ndarray of shape (n_classes,)
        Class labels, from ``estimator_``.
    n_features_in_ : int
        Number of features seen during ``fit`` (when ``estimator_`` defines it).
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names seen during ``fit`` (when ``estimator_`` defines it).

    See Also
    --------
    strategy_sample_weight : the weights as an array.
    WeightedResampler : draw rows instead, for classifiers without ``sample_weight``.

    {kamiran2012_references}

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_fairloss.weighting import Reweighing, WeightedClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> sex = rng.integers(0, 2, size=200)
    >>> y = (X[:, 0] + sex + rng.normal(size=200) > 0.5).astype(int)
    >>> clf = WeightedClassifier(LogisticRegression(), Reweighing())
    >>> clf.fit(X, y, sensitive_features=sex).predict_proba(X[:2]).shape
    (2, 2)
    >>> clf.classes_
    array([0, 1])
    """

    def __init__(self, estimator, strategy="reweighing"):
        self.estimator = estimator
        self.strategy = strategy

    def fit(self, X, y, sample_weight=None, sensitive_features=None, **fit_params):
        """Fit the strategy on the rows, then the classifier with its weights.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training data, passed to the classifier as it is.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            The user's weights; they count the cells and multiply the strategy's weights.
        sensitive_features : array-like, DataFrame, str or list of str, default=None
            Group of each row (2-D or DataFrame for several attributes), or column name(s) of
            a DataFrame ``X``. Required by strategies that use groups.
        **fit_params : dict
            Further parameters of the classifier's ``fit``; with metadata routing enabled,
            those it requested.

        Returns
        -------
        self : object
            The fitted meta-estimator.
        """
        if _routing_enabled():
            routed = process_routing(self, "fit", **fit_params)
            estimator_params = dict(routed["estimator"]["fit"])
        else:
            estimator_params = fit_params
        if not has_fit_parameter(self.estimator, "sample_weight"):
            raise ValueError(
                f"WeightedClassifier needs a classifier whose fit takes sample_weight; "
                f"{type(self.estimator).__name__}.fit does not. Use WeightedResampler in an "
                "imblearn.pipeline.Pipeline to draw rows instead of weighting them (for a "
                "Pipeline, wrap its final classifier rather than the Pipeline)."
            )
        strategy = check_strategy(self.strategy)
        sensitive, _ = split_sensitive_columns(X, sensitive_features)
        y = _check_target(y, type(self).__name__)
        check_consistent_length(X, y)
        sample_weight = check_sample_weight(sample_weight, y.shape[0], reference="y")
        weights = strategy.fit_compute(y, sensitive, sample_weight=sample_weight)
        if sample_weight is not None:
            weights = weights * sample_weight
        self.strategy_ = strategy
        self.estimator_ = clone(self.estimator).fit(
            X, y, sample_weight=weights, **estimator_params
        )
        self.classes_ = self.estimator_.classes_
        return self

    @property
    def n_features_in_(self):
        """Number of features seen during ``fit``."""
        check_is_fitted(self)  # NotFittedError is an AttributeError: hasattr() is False
        return self.estimator_.n_features_in_

    @property
    def feature_names_in_(self):
        """Feature names seen during ``fit`` (only when ``X`` had string column names)."""
        check_is_fitted(self)
        return self.estimator_.feature_names_in_

    predict = _delegated("predict", "Predicted class labels from the fitted classifier.",
                         "y_pred : ndarray of shape (n_samples,)")
    predict_proba = _delegated("predict_proba", "Class probabilities from the fitted classifier.",
                               "proba : ndarray of shape (n_samples, n_classes)")
    predict_log_proba = _delegated(
        "predict_log_proba", "Log class probabilities from the fitted classifier.",
        "log_proba : ndarray of shape (n_samples, n_classes)")
    decision_function = _delegated(
        "decision_function", "Decision function of the fitted classifier.",
        "scores : ndarray of shape (n_samples,) or (n_samples, n_classes)")

    def get_metadata_routing(self):
        """Metadata routing of this object.

        ``sample_weight`` and ``sensitive_features`` are consumed by the meta-estimator itself
        (request them with ``set_fit_request``); the classifier receives the computed weights
        directly, so its own ``sample_weight`` request is ignored. Other metadata the
        classifier requested is routed to it.

        Returns
        -------
        routing : MetadataRouter
        """
        child = get_routing_for_object(self.estimator)
        fit_request = getattr(child, "fit", None)
        if getattr(child, "_type", None) == "metadata_request" and fit_request is not None:
            if "sample_weight" in fit_request.requests:
                fit_request.add_request(param="sample_weight", alias=False)
        mapping = MethodMapping().add(caller="fit", callee="fit")
        for method in _DELEGATED:
            mapping = mapping.add(caller=method, callee=method)
        return (
            MetadataRouter(owner=type(self).__name__)
            .add_self_request(self)
            .add(estimator=child, method_mapping=mapping)
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.input_tags.sparse = inner.input_tags.sparse
        tags.input_tags.allow_nan = inner.input_tags.allow_nan
        tags.input_tags.string = inner.input_tags.string
        tags.input_tags.categorical = inner.input_tags.categorical
        tags.classifier_tags.multi_class = inner.classifier_tags.multi_class \
            if inner.classifier_tags is not None else True
        return tags
