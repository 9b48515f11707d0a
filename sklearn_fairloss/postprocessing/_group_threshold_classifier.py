"""Any scikit-learn classifier with one decision threshold per group, under a fairness bound
certified on held-out rows: the group-aware route of ``fairness_bound=`` for any model."""

import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split
from sklearn.utils import get_tags
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_consistent_length, check_is_fitted, column_or_1d

from .._param_validation import (
    InstanceOf,
    Integer,
    Options,
    ParamsValidationMixin,
    Real,
    Satisfies,
)
from .._validation import check_sample_weight, split_sensitive_columns, take_rows
from ._certification import certify_group_thresholds, certifying_fraction, fill_doc
from ._group_index import encode_groups
from ._group_thresholds import CONSTRAINTS, UNSEEN_GROUPS, GroupThresholds

__all__ = ["GroupThresholdClassifier"]

#: The rates whose gap each constraint bounds ("all": selection rate; 1: true-positive rate).
_CONDITIONS = {"demographic_parity": ("all",), "equal_opportunity": (1,)}


def _is_probabilistic_classifier(estimator):
    return hasattr(estimator, "fit") and hasattr(estimator, "predict_proba")


@fill_doc
class GroupThresholdClassifier(ParamsValidationMixin, MetaEstimatorMixin, ClassifierMixin,
                               BaseEstimator):
    """A classifier with one threshold per group, its fairness gap certified below a bound.

    The group-aware route of ``FairLossClassifier(fairness_bound=...)`` around any
    scikit-learn classifier with ``predict_proba`` (gradient boosting, a pipeline): at
    ``fit`` a stratified share of the rows is held out (:func:`certifying_fraction`: large
    enough that the margin of the two smallest groups is at most half the bound), the
    classifier is fitted on the other rows, and :class:`GroupThresholds` is fitted on their
    probabilities at the largest tolerance whose decisions on the held-out rows have an upper
    confidence bound of the gap (:func:`rate_gap_upper_bound`, Agresti and Caffo's interval at
    ``fairness_confidence``) at most ``fairness_bound`` (:func:`certify_group_thresholds`).
    Deterministic (one threshold per group, no randomisation as in fairlearn's
    ``ThresholdOptimizer``), and ``predict_proba`` is the classifier's own, unchanged.

    The thresholds are fitted on out-of-fold probabilities of the training rows (``cv``); the
    classifier is trained on the rows not held out (it is not refitted on all rows: the
    certificate is for the fitted model). Groups are needed at ``predict``; a group not seen in
    ``fit`` gets the group-blind threshold 1/2 with a warning (``unseen_groups="global"``) or
    an error.

    Read more in :doc:`/fairness_bound`.

    Parameters
    ----------
    estimator : classifier
        A binary classifier with ``fit`` and ``predict_proba``; cloned at ``fit``.
    constraint : {"demographic_parity", "equal_opportunity"}, default="demographic_parity"
        The gap bounded: of the groups' selection rates, or of their true-positive rates.
    fairness_bound : float in (0, 1), default=0.02
        The largest gap allowed on unseen data.
    fairness_confidence : float in (0.5, 1), default=0.9
        The confidence of the held-out upper bound.
    validation_fraction : float in (0, 1), default=0.1
        The smallest share of rows held out to certify (more when the groups are small).
    cv : int or None, default=5
        The thresholds are fitted on out-of-fold probabilities of the training rows
        (``cv``-fold cross-fitting, stratified, ``cv`` more fits of the classifier; fewer folds
        when a class has fewer training rows), because
        a flexible classifier's probabilities of the rows it was fitted on are over-confident
        (gradient boosting on a few thousand rows, a random forest) and thresholds set on them
        do not carry over to new rows. ``None``: the fitted classifier's own probabilities of
        its training rows (one fit; for an early-stopped or strongly regularised model). The
        fold models must score on the final model's scale: a neural network's do not (around
        ``FairLossClassifier``, ``cv=5`` could not certify 2 of 3 Adult splits; use its own
        ``fairness_bound`` with ``decision=GroupThresholds()``).
    unseen_groups : {"global", "error"}, default="global"
        At predict, for a group not seen in ``fit``: the threshold 1/2 with a warning, or an
        error.
    random_state : int, RandomState instance or None, default=None
        Seeds the held-out split.

    Attributes
    ----------
    estimator_ : classifier
        The classifier fitted on the rows not held out.
    group_thresholds_ : GroupThresholds
        The thresholds, fitted on those rows; ``group_thresholds_.tolerance_`` is the tolerance
        chosen.
    classes_ : ndarray of shape (2,)
        Class labels; the second is the positive class.
    fairness_valid_ : float
        The gap of the decisions on the held-out rows.
    fairness_margin_ : float
        The margin of its upper confidence bound (``fairness_valid_ + fairness_margin_`` is
        the certified bound).
    fairness_validation_fraction_ : float
        The share of rows held out.
    sensitive_columns_ : list of str or None
        The columns of ``X`` named by ``sensitive_features`` in ``fit`` (``predict`` reads
        them when it is given no groups), else None.
    n_features_in_ : int
        Number of features seen during ``fit`` (when ``estimator_`` defines it).

    See Also
    --------
    GroupThresholds : the thresholds alone, on any probabilities.
    sklearn_fairloss.FairLossClassifier : ``fairness_bound=`` with a group-blind route too.

    {certificate_references}
    .. [3] Hardt, M., Price, E. and Srebro, N. (2016). "Equality of Opportunity in Supervised
       Learning." NeurIPS.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_fairloss.postprocessing import GroupThresholdClassifier
    >>> rng = np.random.default_rng(0)
    >>> sex = rng.integers(0, 2, size=6000)
    >>> X = np.column_stack([rng.normal(size=6000) + sex, rng.normal(size=6000)])
    >>> y = (X[:, 0] + rng.normal(size=6000) > 1).astype(int)
    >>> clf = GroupThresholdClassifier(LogisticRegression(), fairness_bound=0.05,
    ...                                random_state=0).fit(X, y, sensitive_features=sex)
    >>> bool(clf.fairness_valid_ + clf.fairness_margin_ <= 0.05)
    True
    >>> clf.predict(X[:3], sensitive_features=sex[:3]).shape
    (3,)
    """

    _parameter_constraints = {
        "estimator": [Satisfies(_is_probabilistic_classifier,
                                "a classifier with fit and predict_proba")],
        "constraint": [Options(*CONSTRAINTS)],
        "fairness_bound": [Real(0, 1, low_open=True, high_open=True)],
        "fairness_confidence": [Real(0.5, 1, low_open=True, high_open=True)],
        "validation_fraction": [Real(0, 1, low_open=True, high_open=True)],
        "cv": [None, Integer(2)],
        "unseen_groups": [Options(*UNSEEN_GROUPS)],
        "random_state": [None, InstanceOf((int, np.integer, np.random.RandomState),
                                          "an int or a RandomState")],
    }

    def __init__(self, estimator, *, constraint="demographic_parity", fairness_bound=0.02,
                 fairness_confidence=0.9, validation_fraction=0.1, cv=5, unseen_groups="global",
                 random_state=None):
        self.estimator = estimator
        self.constraint = constraint
        self.fairness_bound = fairness_bound
        self.fairness_confidence = fairness_confidence
        self.validation_fraction = validation_fraction
        self.cv = cv
        self.unseen_groups = unseen_groups
        self.random_state = random_state

    def fit(self, X, y, *, sensitive_features=None, sample_weight=None, **fit_params):
        """Hold out rows, fit the classifier on the others and certify the group thresholds.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training data, passed to the classifier as it is.
        y : array-like of shape (n_samples,)
            Binary class labels.
        sensitive_features : array-like, DataFrame, str or list of str
            The protected attribute(s) of each row (2-D or DataFrame for several: their
            cells are the groups), or column name(s) of a DataFrame ``X``. Required.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights, for the classifier (when its ``fit`` takes them), the thresholds and
            the certification.
        **fit_params : dict
            Further parameters of the classifier's ``fit``, for every row (sliced to the
            training rows when they are one value per row).

        Returns
        -------
        self : GroupThresholdClassifier
        """
        for name in [n for n in vars(self) if n.endswith("_") and not n.startswith("__")]:
            delattr(self, name)  # a failed fit leaves no state of an earlier one
        self._validate_params()
        if sensitive_features is None:
            raise ValueError("GroupThresholdClassifier.fit needs sensitive_features: the "
                             "protected attribute(s) of each row, or column name(s) of X.")
        sensitive, names = split_sensitive_columns(X, sensitive_features)
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        check_consistent_length(X, y)
        classes, codes = np.unique(y, return_inverse=True)
        if len(classes) != 2:
            raise ValueError(f"Only binary classification is supported: "
                             f"GroupThresholdClassifier needs a binary y; got {len(classes)} "
                             "classes.")
        n = len(y)
        weights = check_sample_weight(sample_weight, n, reference="y")
        weights = np.ones(n) if weights is None else weights
        cells = encode_groups(sensitive, n, reference="y")[0]
        conditions = _CONDITIONS[self.constraint]
        fraction = certifying_fraction(codes, weights, [cells], conditions, self.fairness_bound,
                                       self.fairness_confidence, self.validation_fraction)
        try:
            train, held_out = train_test_split(np.arange(n), test_size=fraction, stratify=codes,
                                               random_state=self.random_state)
        except ValueError as exc:
            raise ValueError(f"could not hold out a stratified share {fraction:.3g} of the rows "
                             f"to certify the bound ({exc}). Use more data.") from exc
        train, held_out = np.sort(train), np.sort(held_out)
        params = {k: take_rows(v, train) if _is_per_row(v, n) else v for k, v in fit_params.items()}
        if sample_weight is not None:
            params["sample_weight"] = weights[train]
        X_train, y_train = take_rows(X, train), classes[codes[train]]
        estimator = clone(self.estimator).fit(X_train, y_train, **params)
        proba = self._positive(estimator, estimator.predict_proba(X), classes)
        if self.cv is not None:  # the thresholds see probabilities of rows a model did not fit
            n_splits = min(self.cv, int(np.bincount(codes[train]).min()))
            if n_splits < 2:
                raise ValueError(f"cv={self.cv} needs two training rows of each class; use "
                                 "more data or cv=None.")
            folds = StratifiedKFold(n_splits, shuffle=True, random_state=self.random_state)
            proba[train] = self._positive(estimator, cross_val_predict(
                clone(self.estimator), X_train, y_train, cv=folds, method="predict_proba",
                params=params), classes)
        rule = GroupThresholds(self.constraint, unseen_groups=self.unseen_groups)
        rule, estimate = certify_group_thresholds(
            rule, proba, codes, weights, sensitive, train, held_out, cells,
            self.fairness_bound, conditions, self.fairness_confidence)
        if estimate.upper > self.fairness_bound + 1e-12:
            warnings.warn(
                f"fairness_bound={self.fairness_bound:g} was not met on the held-out rows: the "
                f"upper bound of the gap is {estimate.upper:.4f} ({estimate.value:.4f} + margin "
                f"{estimate.margin:.4f} for these group sizes) at tolerance "
                f"{rule.tolerance_:.4f}; that rule is kept. Raise fairness_bound, lower "
                "fairness_confidence or add data.", UserWarning, stacklevel=2)
        self.estimator_, self.group_thresholds_, self.classes_ = estimator, rule, classes
        self.fairness_valid_, self.fairness_margin_ = estimate.value, estimate.margin
        self.fairness_validation_fraction_ = fraction
        self.sensitive_columns_ = names
        if hasattr(estimator, "n_features_in_"):
            self.n_features_in_ = estimator.n_features_in_
        if hasattr(estimator, "feature_names_in_"):
            self.feature_names_in_ = estimator.feature_names_in_
        return self

    @staticmethod
    def _positive(estimator, proba, classes):
        """Both columns of ``proba`` in the order of ``classes`` (binary)."""
        positive = int(np.flatnonzero(estimator.classes_ == classes[1])[0])
        return np.column_stack([1 - proba[:, positive], proba[:, positive]])

    def predict_proba(self, X):
        """Class probabilities of the fitted classifier (group-blind, unchanged).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, 2)
            In the order of ``classes_``.
        """
        check_is_fitted(self)
        proba = self.estimator_.predict_proba(X)
        order = [int(np.flatnonzero(self.estimator_.classes_ == c)[0]) for c in self.classes_]
        return proba[:, order]

    def predict(self, X, *, sensitive_features=None):
        """Class labels: positive where the positive-class probability reaches the threshold
        of the row's group.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        sensitive_features : array-like, DataFrame, str or list of str, default=None
            The protected attribute(s) of each row, as given to ``fit``. Required, unless
            ``fit`` named columns of a DataFrame ``X`` and ``X`` has them (then
            ``cross_val_score(clf, X, y, params={"sensitive_features": "sex"})`` works).

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        if sensitive_features is None and self.sensitive_columns_ is not None and hasattr(
                X, "columns") and set(self.sensitive_columns_) <= set(X.columns):
            sensitive_features = self.sensitive_columns_  # the columns named in fit
        if sensitive_features is None:
            raise ValueError("GroupThresholdClassifier.predict needs sensitive_features: the "
                             "protected attribute(s) of each row, as given to fit.")
        sensitive, _ = split_sensitive_columns(X, sensitive_features)
        codes = self.group_thresholds_.predict(self.predict_proba(X),
                                               sensitive_features=sensitive)
        return self.classes_[codes]

    def score(self, X, y, sample_weight=None, *, sensitive_features=None):
        """Accuracy of :meth:`predict` (which needs ``sensitive_features``).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
        sensitive_features : array-like, DataFrame, str or list of str

        Returns
        -------
        float
        """
        from sklearn.metrics import accuracy_score

        return accuracy_score(y, self.predict(X, sensitive_features=sensitive_features),
                              sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False  # one threshold per group of the positive class
        inner = get_tags(self.estimator)
        tags.input_tags.sparse = inner.input_tags.sparse
        tags.input_tags.allow_nan = inner.input_tags.allow_nan
        tags.input_tags.string = inner.input_tags.string
        tags.input_tags.categorical = inner.input_tags.categorical
        return tags


def _is_per_row(value, n):
    return hasattr(value, "__len__") and not isinstance(value, str) and len(value) == n
