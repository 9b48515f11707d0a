"""Base class of the sample-weight strategies (the template ``fit``) and its input checks.

A strategy is a small scikit-learn style parameter holder (``get_params``, ``clone``,
picklable). Every strategy here gives each row a weight that depends only on the row's
*cell*: its class, and its group when sensitive features are given. A strategy is fitted on
training data (it learns the classes, the groups and the weighted count of every
group x class cell) and then looks the weights up for any rows of known cells.

Contract for estimators (``FairLossClassifier(sample_weight_strategy=...)``)
----------------------------------------------------------------------------
Inside ``fit``, on the training rows only (so each cross-validation fold recomputes them)::

    from sklearn_fairloss.weighting import strategy_sample_weight

    weights = strategy_sample_weight(
        self.sample_weight_strategy, y, sensitive_features, sample_weight=sample_weight
    )

``sample_weight_strategy`` may be a strategy instance or a string alias (see
:func:`check_strategy`); it is cloned, never modified. ``y`` is the 1-D target of the rows,
``sensitive_features`` a 1-D array-like / Series, a 2-D array or a DataFrame of the same rows
(several columns make intersectional groups), or None for strategies that need no groups.
``sample_weight`` is the user's weights or None. The result is a float64 array of shape
``(n_samples,)`` equal to ``sample_weight * strategy_weights``, where the strategy's weights
have (``sample_weight``-weighted) mean 1 on these rows: without user weights the mean of the
result is exactly 1, so learning rates keep their meaning. The strategy counts the cells with
the user's weights, so a weight of 2 is the same as a repeated row.

An estimator that wants to keep the fitted strategy (to report its table) uses the two-step
form, which gives the same numbers::

    strategy = check_strategy(self.sample_weight_strategy)      # a fresh clone
    self.sample_weight_strategy_ = strategy.fit(y, sensitive_features,
                                                sample_weight=sample_weight)
    weights = self.sample_weight_strategy_.compute(y, sensitive_features)
    if sample_weight is not None:
        weights = weights * sample_weight

Errors (all ``ValueError`` with the argument named): a strategy that needs groups called
without ``sensitive_features``; ``sensitive_features`` or ``sample_weight`` of the wrong
length; missing values in ``sensitive_features``; negative or all-zero ``sample_weight``;
at ``compute`` time, classes or groups not seen in ``fit``.

The string aliases and :func:`check_strategy` live in ``_registry.py``,
:func:`strategy_sample_weight` in ``_compute.py`` and the product of strategies in
``_compose.py``; this module imports none of them.
"""


import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

from .._groups import GroupEncoder
from .._param_validation import ParamsValidationMixin
from .._validation import check_sample_weight, sensitive_frame

__all__ = ["WeightingStrategy"]

MSG_NEEDS_GROUPS = (
    "{} needs sensitive_features: its weights depend on the group of each row. Pass "
    "sensitive_features=... (in a Pipeline or a search, route it with "
    "set_fit_request(sensitive_features=True))."
)


# ----------------------------------------------------------------------------------------------
# Validation helpers
# ----------------------------------------------------------------------------------------------


def _check_target(y, owner="The weighting strategy"):
    """Return ``y`` as a 1-D array of class labels."""
    if y is None:
        raise ValueError(
            f"{owner} requires y to be passed, but the target y is None: the weights depend "
            "on the class of each row."
        )
    y = column_or_1d(y, warn=True)
    check_classification_targets(y)
    return y


def _encode_classes(y, classes):
    """Index of each label of ``y`` in ``classes``; unseen labels are an error."""
    try:
        index = np.searchsorted(classes, y)
    except TypeError as exc:
        raise ValueError(
            f"y holds labels of a type not seen during fit (classes are {list(classes)})."
        ) from exc
    index = np.clip(index, 0, len(classes) - 1)
    unseen = classes[index] != y
    if np.any(unseen):
        raise ValueError(
            f"y holds class(es) {sorted(set(np.asarray(y)[unseen].tolist()))[:10]} not seen "
            f"during fit; the classes seen were {list(classes)}."
        )
    return index.astype(np.int64)


def _is_named(sensitive_features):
    """Whether the attributes carry names of their own (a DataFrame or a named Series)."""
    return isinstance(sensitive_features, pd.DataFrame) or (
        isinstance(sensitive_features, pd.Series) and sensitive_features.name is not None
    )


# ----------------------------------------------------------------------------------------------
# The strategy base class
# ----------------------------------------------------------------------------------------------


class WeightingStrategy(ParamsValidationMixin, BaseEstimator):
    """Base class of the sample-weight strategies.

    A strategy learns, on training data, the weighted count ``n[g, k]`` of every
    group x class cell and turns the table into one weight per cell; a row gets the weight of
    its cell. The weights are scaled so that their (``sample_weight``-weighted) mean over the
    training rows is 1, so that a learning rate or a regularisation strength keeps its meaning.

    Subclasses declare ``_parameter_constraints`` (checked when ``fit`` starts) and implement
    ``_cell_factors(counts)`` (counts of shape ``(n_groups, n_classes)`` to unnormalised,
    positive factors of the same shape; ``n_groups`` is 1 when no groups are used) and
    ``_uses_groups()`` (whether sensitive features are needed). Strategies multiply:
    ``a * b`` is :class:`ProductWeighting` ``([a, b])``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The classes seen in ``fit``.
    groups_ : ndarray of shape (n_groups,) or None
        The groups seen in ``fit`` (tuples when several attributes were given), or None when
        the strategy uses no groups.
    cell_counts_ : ndarray of shape (n_groups, n_classes)
        The ``sample_weight``-weighted number of training rows in each cell.
    cell_weights_ : ndarray of shape (n_groups, n_classes)
        The weight of a row in each cell, normalised to mean 1 over the training rows. Cells
        without training rows have weight 0.

    Examples
    --------
    A strategy that gives the rows of each class a total weight proportional to the square
    root of the class size:

    >>> import numpy as np
    >>> from sklearn_fairloss.weighting import WeightingStrategy
    >>> class SqrtClass(WeightingStrategy):
    ...     def _uses_groups(self):
    ...         return False
    ...     def _cell_factors(self, counts):
    ...         return 1.0 / np.sqrt(counts.sum(axis=0, keepdims=True))
    >>> SqrtClass().fit_compute([0, 0, 0, 0, 1]).round(3)
    array([0.833, 0.833, 0.833, 0.833, 1.667])
    """

    #: The class of ``a * b``. Set by the subclass declared with ``product=True``
    #: (:class:`ProductWeighting`), so that this module need not import it.
    _product_class = None

    def __init_subclass__(cls, product=False, **kwargs):
        super().__init_subclass__(**kwargs)
        if product:
            WeightingStrategy._product_class = cls

    def _uses_groups(self):
        raise NotImplementedError

    def _cell_factors(self, counts):
        raise NotImplementedError

    def __mul__(self, other):
        if not isinstance(other, WeightingStrategy):
            return NotImplemented
        product = WeightingStrategy._product_class
        left = self.strategies if type(self) is product else [self]
        right = other.strategies if type(other) is product else [other]
        return product([*left, *right])

    def _encode(self, y, sensitive_features, fitted):
        """Cell codes ``(group_codes, class_codes)`` of the rows."""
        if fitted:
            class_codes = _encode_classes(y, self.classes_)
        else:
            self.classes_, class_codes = np.unique(y, return_inverse=True)
            class_codes = class_codes.astype(np.int64)
        if not self._uses_groups():
            if sensitive_features is not None:  # not used, but a wrong length is still a bug
                sensitive_frame(sensitive_features, len(y), reference="y")
            return np.zeros(len(y), dtype=np.int64), class_codes
        if sensitive_features is None:
            raise ValueError(MSG_NEEDS_GROUPS.format(type(self).__name__))
        if fitted:
            groups = self._group_encoder.transform(sensitive_features, n_samples=len(y),
                                                   reference="y")
        else:
            self._group_encoder = GroupEncoder()
            self._named_groups = _is_named(sensitive_features)
            groups = self._group_encoder.fit_transform(sensitive_features, len(y),
                                                       reference="y")
        return groups.cells, class_codes

    def _group_index(self):
        """The fitted groups as a MultiIndex (one level per attribute)."""
        encoder = self._group_encoder
        levels = [categories[encoder.cell_codes_[:, j]]
                  for j, categories in enumerate(encoder.categories_)]
        names = encoder.names_ if self._named_groups else None
        return pd.MultiIndex.from_arrays(levels, names=names)

    def fit(self, y, sensitive_features=None, sample_weight=None):
        """Learn the cell counts and the weight of each cell from training data.

        Parameters
        ----------
        y : array-like of shape (n_samples,)
            Class labels of the training rows.
        sensitive_features : array-like of shape (n_samples,) or (n_samples, k), \
                DataFrame or None, default=None
            Group of each row; several columns make intersectional groups. Required by
            strategies that use groups, ignored by the others.
        sample_weight : array-like of shape (n_samples,) or None, default=None
            The user's weights; the cells are counted with them.

        Returns
        -------
        self : object
            The fitted strategy.
        """
        self._validate_params()
        y = _check_target(y)
        if y.shape[0] == 0:
            raise ValueError("y is empty: at least one training row is needed.")
        sample_weight = check_sample_weight(sample_weight, y.shape[0], reference="y")
        group_codes, class_codes = self._encode(y, sensitive_features, fitted=False)
        n_groups = len(self._group_encoder.cells_) if self._uses_groups() else 1
        counts = np.zeros((n_groups, len(self.classes_)))
        np.add.at(counts, (group_codes, class_codes),
                  1.0 if sample_weight is None else sample_weight)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            factors = np.asarray(self._cell_factors(counts), dtype=np.float64)
        factors = np.broadcast_to(factors, counts.shape).copy()
        factors[counts == 0] = 0.0
        if not np.all(np.isfinite(factors)) or np.any(factors < 0):
            raise ValueError(
                f"{type(self).__name__} produced non-finite or negative weights for the cells "
                f"{counts.tolist()}; check its parameters."
            )
        total = float(np.sum(counts * factors))
        if not total > 0:
            raise ValueError(
                f"{type(self).__name__} gives every training row a weight of zero."
            )
        self.cell_counts_ = counts
        self.cell_weights_ = factors * (counts.sum() / total)
        self.groups_ = self._group_labels() if self._uses_groups() else None
        return self

    def _group_labels(self):
        """The fitted groups: labels for one attribute, tuples of labels for several."""
        encoder = self._group_encoder
        if len(encoder.names_) == 1:
            return encoder.categories_[0]
        labels = np.empty(len(encoder.cells_), dtype=object)
        labels[:] = encoder.cells_
        return labels

    def _row_weights(self, y, sensitive_features, allow_empty):
        check_is_fitted(self, "cell_weights_")
        y = _check_target(y)
        group_codes, class_codes = self._encode(y, sensitive_features, fitted=True)
        if not allow_empty:
            empty = self.cell_counts_[group_codes, class_codes] == 0
            if np.any(empty):
                raise ValueError(
                    f"{int(empty.sum())} row(s) fall in group x class cells that had no "
                    "training rows (or only zero sample_weight); their weight is undefined."
                )
        return self.cell_weights_[group_codes, class_codes]

    def compute(self, y, sensitive_features=None):
        """Weight of each row, looked up from the cells learned in ``fit``.

        Parameters
        ----------
        y : array-like of shape (n_samples,)
            Class labels of the rows; classes not seen in ``fit`` are an error.
        sensitive_features : array-like, DataFrame or None, default=None
            Group of each row, as in ``fit``; groups not seen in ``fit`` are an error.

        Returns
        -------
        weights : ndarray of shape (n_samples,)
            The strategy's weights (without the user's ``sample_weight``). On the rows given to
            ``fit`` they have mean 1 (weighted by ``sample_weight`` when one was given).
        """
        return self._row_weights(y, sensitive_features, allow_empty=False)

    def fit_compute(self, y, sensitive_features=None, sample_weight=None):
        """Fit on the rows and return their weights (``fit(...)`` then ``compute(...)``).

        Rows with zero ``sample_weight`` may fall in cells without any positive weight; they
        get weight 0 instead of an error.

        Returns
        -------
        weights : ndarray of shape (n_samples,)
            The strategy's weights, without the user's ``sample_weight``.
        """
        self.fit(y, sensitive_features, sample_weight=sample_weight)
        return self._row_weights(y, sensitive_features, allow_empty=True)

    def weight_table(self):
        """The fitted cell weights as a DataFrame (rows: groups, columns: classes).

        Returns
        -------
        table : pandas.DataFrame of shape (n_groups, n_classes)
        """
        check_is_fitted(self, "cell_weights_")
        index = self._group_index() if self._uses_groups() else pd.Index(["all"], name="group")
        return pd.DataFrame(self.cell_weights_, index=index,
                            columns=pd.Index(self.classes_, name="class"))
