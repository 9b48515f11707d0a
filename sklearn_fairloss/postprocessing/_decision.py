"""Decision rules: from class probabilities to predicted classes.

A decision rule is a small scikit-learn style object (``get_params``/``set_params``,
``clone``-able, picklable) fitted after the classifier, on its (calibrated) probabilities:

- ``fit(proba, y=None, *, sample_weight=None, sensitive_features=None, class_prior=None,
  log_prior_shift=None) -> self``. ``proba`` has shape ``(n_samples, n_classes)`` (the binary
  rules also take the positive-class column alone); ``y`` holds integer class codes
  ``0 .. n_classes - 1``; ``class_prior`` is the class distribution of the training data and
  ``log_prior_shift`` the log prior shift the training objective taught (class weights, a
  reweighting strategy, a prior-shifting loss). A rule uses what it needs and ignores the rest,
  so that a caller can always pass everything.
- ``predict(proba, sensitive_features=None)`` -> integer class codes (column indices).
- ``needs_held_out`` (class attribute): the rule learns from labels, so it must be fitted on
  rows the classifier did not train on.
- ``requires_sensitive_features`` (property): whether :meth:`~DecisionRuleBase.predict`
  needs ``sensitive_features``.

Numpy only: the rules post-process any classifier's ``predict_proba``.
"""

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .._param_validation import Options, ParamsValidationMixin
from .._validation import check_sample_weight
from ._checks import check_codes, check_positive_proba, check_proba

__all__ = ["Argmax", "DecisionRuleBase"]


class DecisionRuleBase(ParamsValidationMixin, BaseEstimator):
    """Base class of the decision rules: validation, :meth:`fit` and :meth:`predict`.

    Subclasses declare ``_parameter_constraints`` (checked when :meth:`fit` starts) and
    implement ``_fit(proba, y, sample_weight, **context)`` (``context``: the keywords
    ``sensitive_features``, ``class_prior`` and ``log_prior_shift`` of :meth:`fit`; accept
    ``**_`` for those not used) and ``_predict(proba, sensitive_features)`` on validated
    arrays. A rule for binary problems sets ``binary = True``: its ``proba`` is then the
    positive-class probabilities, shape ``(n_samples,)``, from either form.

    Examples
    --------
    A binary rule whose threshold is the share of negative labels in fit:

    >>> import numpy as np
    >>> from sklearn_fairloss.postprocessing import DecisionRuleBase
    >>> class PositiveShareRule(DecisionRuleBase):
    ...     binary = True
    ...     def _fit(self, proba, y, sample_weight, **_):
    ...         self.threshold_ = 1.0 - float(np.mean(y))  # the share of negatives
    ...     def _predict(self, proba, sensitive_features):
    ...         return (proba >= self.threshold_).astype(np.int64)
    >>> proba = np.array([0.1, 0.6, 0.8, 0.9])
    >>> PositiveShareRule().fit(proba, [0, 0, 0, 1]).predict(proba)
    array([0, 0, 1, 1])
    """

    #: Whether the rule learns from labels and must be fitted on held-out rows.
    needs_held_out = False
    #: Whether :meth:`fit` needs ``proba``; a rule that does not accepts ``proba=None``.
    needs_proba = True
    #: Whether the rule decides between two classes only, from the positive-class column.
    binary = False

    @property
    def requires_sensitive_features(self):
        """Whether :meth:`predict` needs ``sensitive_features``."""
        return False

    #: The error of a binary rule given more classes (``where`` names the rule's origin).
    _binary_message = ("{where} decides between two classes, which needs a binary y; got "
                       "{n_classes} classes.")

    def _check_n_classes(self, n_classes, where):
        """Raise a ``ValueError`` starting with ``where`` (e.g. ``"decision='f1'"``) when
        the rule cannot decide between ``n_classes`` classes."""
        if self.binary and n_classes != 2:
            raise ValueError(self._binary_message.format(where=where, n_classes=n_classes))

    def _check_proba(self, proba, n_classes=None):
        return check_positive_proba(proba) if self.binary else check_proba(proba, n_classes)

    def fit(self, proba, y=None, *, sample_weight=None, sensitive_features=None,
            class_prior=None, log_prior_shift=None):
        """Fit the rule on class probabilities.

        Parameters
        ----------
        proba : array-like of shape (n_samples, n_classes) or None
            Class probabilities (``predict_proba``); the binary rules also take the
            positive-class column alone, shape (n_samples,). None is accepted by the rules
            that learn nothing from them (``needs_proba = False``) when ``class_prior`` or
            ``log_prior_shift`` tells the number of classes.
        y : array-like of shape (n_samples,), default=None
            Integer class codes ``0 .. n_classes - 1``; needed by the rules that learn from
            labels (``needs_held_out``).
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.
        sensitive_features : array-like or DataFrame, default=None
            Protected attribute(s) per row; needed by the per-group rules.
        class_prior : array-like of shape (n_classes,), default=None
            Class distribution of the training data (see :class:`Argmax`).
        log_prior_shift : array-like of shape (n_classes,), default=None
            Log prior shift taught by the training objective (see :class:`Argmax`).

        Returns
        -------
        self : object
        """
        self._validate_params()
        n_classes = next((np.shape(v)[-1] for v in (proba, class_prior, log_prior_shift)
                          if v is not None and np.ndim(v) in (1, 2)), None)
        if proba is not None and np.ndim(proba) == 1:
            n_classes = 2  # the positive-class column of a binary problem
        if n_classes is not None:
            self._check_n_classes(n_classes, repr(self))
        if proba is None:
            if self.needs_proba or n_classes is None:
                what = "proba" if self.needs_proba else "proba, class_prior or log_prior_shift"
                raise ValueError(f"{type(self).__name__}.fit needs {what}; got None.")
            n_samples = None if y is None else len(y)
        else:
            proba = self._check_proba(proba)
            n_samples = proba.shape[0]
        self.n_classes_ = 2 if self.binary else n_classes
        if y is not None:
            y = check_codes(y, len(y) if n_samples is None else n_samples, self.n_classes_,
                            reference="proba")
        if n_samples is not None:
            sample_weight = check_sample_weight(sample_weight, n_samples, reference="proba")
        self._fit(proba, y, sample_weight, sensitive_features=sensitive_features,
                  class_prior=class_prior, log_prior_shift=log_prior_shift)
        return self

    def predict(self, proba, sensitive_features=None):
        """Predicted class codes: column indices of ``proba`` (``classes_[codes]`` gives
        the labels of a scikit-learn classifier).

        Parameters
        ----------
        proba : array-like of shape (n_samples, n_classes)
            Class probabilities of the rows to decide, in the form given to :meth:`fit`
            (the binary rules also take the positive-class column alone).
        sensitive_features : array-like or DataFrame, default=None
            Protected attribute(s) per row; needed when ``requires_sensitive_features``.

        Returns
        -------
        ndarray of shape (n_samples,), int64
            The column index of the predicted class.
        """
        check_is_fitted(self, "n_classes_")
        proba = self._check_proba(proba, self.n_classes_)
        return self._predict(proba, sensitive_features)


def _check_class_vector(values, n_classes, name, positive=False):
    """A finite float64 vector of one value per class (positive ones if ``positive``)."""
    array = np.asarray(values, dtype=np.float64)
    if array.shape != (n_classes,):
        raise ValueError(f"{name} must have one value per class, shape ({n_classes},); got "
                         f"shape {array.shape}.")
    if not np.all(np.isfinite(array)) or (positive and np.any(array <= 0)):
        kind = "positive and finite" if positive else "finite"
        raise ValueError(f"{name} must be {kind}; got {array.tolist()}.")
    return array


class Argmax(DecisionRuleBase):
    r"""The most probable class under a chosen class prior.

    Predicts :math:`\arg\max_k \log p_k - o_k`, where :math:`p` are the probabilities given
    to :meth:`predict` and the offset :math:`o` depends on ``prior``:

    - ``"training"``: :math:`o` is the ``log_prior_shift`` given to :meth:`fit` (zero when
      None), so that the decision is the one the training objective aims at: with class
      weights, a reweighting strategy or a prior-shifting loss the model's probabilities are
      corrected back to the data's prior, and this rule moves the decisions as those weights
      ask (as scikit-learn's ``class_weight`` does). Without a shift it is the most probable
      class. ``FairLossClassifier(decision="argmax")``.
    - ``"data"``: :math:`o = 0`, the most probable class, the Bayes rule for accuracy.
      ``decision="proba"``.
    - ``"uniform"``: :math:`o = \log \pi`, the log of the ``class_prior`` given to
      :meth:`fit` (when None, the weighted class frequencies of ``y``): the most probable
      class under equal class priors, :math:`\arg\max_k p_k / \pi_k`, the Bayes rule for
      balanced error. ``decision="balanced"``.

    Parameters
    ----------
    prior : {"training", "data", "uniform"}, default="training"
        The class prior the decision assumes (see above).

    Attributes
    ----------
    log_offset_ : ndarray of shape (n_classes,)
        The offset :math:`o` subtracted from the log probabilities.
    n_classes_ : int
        Number of classes seen in :meth:`fit`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_fairloss.postprocessing import Argmax
    >>> proba = np.array([[0.9, 0.1], [0.7, 0.3], [0.2, 0.8]])
    >>> Argmax(prior="data").fit(proba).predict(proba)
    array([0, 0, 1])
    >>> # a rare positive class (20 % of the rows) counts as much as the common one
    >>> Argmax(prior="uniform").fit(proba, class_prior=[0.8, 0.2]).predict(proba)
    array([0, 1, 1])
    """

    needs_proba = False
    _parameter_constraints = {"prior": [Options("training", "data", "uniform")]}

    def __init__(self, prior="training"):
        self.prior = prior

    def _fit(self, proba, y, sample_weight, *, class_prior=None, log_prior_shift=None, **_):
        k = self.n_classes_
        if self.prior == "data":
            self.log_offset_ = np.zeros(k)
        elif self.prior == "training":
            self.log_offset_ = np.zeros(k) if log_prior_shift is None else (
                _check_class_vector(log_prior_shift, k, "log_prior_shift"))
        else:
            if class_prior is None:
                if y is None:
                    raise ValueError("Argmax(prior='uniform') needs class_prior or y in fit "
                                     "(the class frequencies of the training data).")
                counts = np.bincount(y, weights=sample_weight, minlength=k)
                if np.any(counts <= 0):
                    raise ValueError("y has no (weighted) row of class(es) "
                                     f"{np.flatnonzero(counts <= 0).tolist()}; pass class_prior.")
                class_prior = counts / counts.sum()
            self.log_offset_ = np.log(_check_class_vector(class_prior, k, "class_prior",
                                                          positive=True))

    def _predict(self, proba, sensitive_features):
        with np.errstate(divide="ignore"):
            return np.argmax(np.log(proba) - self.log_offset_, axis=1)
