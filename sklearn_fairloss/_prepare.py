"""The preparation step of :meth:`FairLossClassifier.fit`: validate the data once.

``fit`` is three steps, and this module is the first: :func:`prepare_training_data` checks
``X``, ``y``, ``sample_weight`` and ``sensitive_features``, learns the classes and the groups,
computes the row weights and draws the held-out split, and returns everything as one frozen
:class:`TrainingData`. It sets nothing on the estimator: the estimator's fitted attributes are
assigned only when the whole ``fit`` has succeeded.
"""

import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d, validate_data

from ._features import FeatureEncoder, categorical_columns
from ._groups import GroupCodes, GroupEncoder
from ._validation import check_sample_weight, short_list, split_sensitive_columns, take_rows
from .weighting import check_strategy

__all__ = ["AUTO_EARLY_STOPPING_ROWS", "TrainingData", "check_same_length", "class_codes",
           "densify",
           "encode_features", "prepare_training_data", "use_early_stopping"]


def densify(X):
    """Sparse input (a one-hot ColumnTransformer's usual output) becomes a dense array."""
    return X.toarray() if sp.issparse(X) else X


def _n_rows(value):
    shape = getattr(value, "shape", None)
    if shape is not None and len(shape) > 0:
        return shape[0]
    return len(value) if hasattr(value, "__len__") else np.asarray(value).shape[0]


def check_same_length(X, **arrays):
    """Raise a ValueError naming the argument whose length differs from X's."""
    n_samples = _n_rows(X)
    for name, value in arrays.items():
        if value is None or isinstance(value, (str, numbers.Number)):
            continue
        length = _n_rows(value)
        if length != n_samples:
            raise ValueError(f"{name} has {length} rows but X has {n_samples} rows; "
                             "they must have the same length.")


@dataclass(frozen=True)
class TrainingData:
    """The validated training data of one ``fit``, as the training and post-processing
    steps consume it.

    ``X`` is float32 and dense, encoded by ``feature_encoder`` (numeric columns scaled, then
    categorical codes); ``y_codes`` index ``classes``; ``user_weights`` are the
    user's ``sample_weight`` (ones without); ``weights`` the training weights (user weights x
    the weighting strategy's x the class weights); ``sensitive`` the protected attributes as
    given (None without), ``groups`` their codes from ``group_encoder``; ``valid_index`` the
    held-out rows (None when nothing needs them); ``seed`` seeds everything random in ``fit``.
    """

    X: np.ndarray
    feature_encoder: object
    y_codes: np.ndarray
    classes: np.ndarray
    n_features_in: int
    feature_names_in: object
    user_weights: np.ndarray
    weights: np.ndarray
    strategy: object
    sensitive: object
    sensitive_columns: object
    group_encoder: object
    groups: object
    train_index: np.ndarray
    valid_index: object
    seed: int
    early_stopping: bool

    @property
    def n_classes(self):
        return len(self.classes)

    def class_prior(self):
        """Class frequencies with the user's weights."""
        prior = np.bincount(self.y_codes, weights=self.user_weights, minlength=self.n_classes)
        return prior / prior.sum()


def class_weight_per_class(class_weight, classes, y_codes):
    """The weight of each class for ``class_weight`` (None, "balanced" or a dict)."""
    n_classes = len(classes)
    if class_weight is None:
        return np.ones(n_classes)
    if isinstance(class_weight, str) and class_weight == "balanced":
        return len(y_codes) / (n_classes * np.bincount(y_codes, minlength=n_classes))
    if isinstance(class_weight, dict):
        unknown = [label for label in class_weight if label not in set(classes.tolist())]
        if unknown:
            raise ValueError(f"class_weight has keys {unknown} that are not classes of y "
                             f"({classes.tolist()}).")
        weights = np.array([float(class_weight.get(label, 1.0)) for label in classes])
        if not np.all(np.isfinite(weights)) or np.any(weights < 0):
            raise ValueError("class_weight values must be finite and non-negative.")
        return weights
    raise ValueError(f"class_weight must be None, 'balanced' or a dict; got {class_weight!r}.")


def _validate_X_y(estimator, X, y, sensitive_features, seed, classes=None, encode=True):
    """Take sensitive columns out of a DataFrame ``X``, validate ``X`` and ``y`` on a
    parameter copy of ``estimator`` (so that its messages and tags apply, and nothing is set on
    the estimator itself), and encode ``X`` for the network (:class:`FeatureEncoder`).
    ``classes`` (sorted labels, ``partial_fit``'s) replaces the classes found in ``y``; with
    ``encode=False`` the encoder is fitted and ``X`` returned as validated, not encoded."""
    sensitive, columns = split_sensitive_columns(X, sensitive_features)
    if columns is not None and not estimator.sensitive_as_input:
        X = X.drop(columns=columns)
    check_same_length(X, y=y)
    schema = clone(estimator)
    encoder = FeatureEncoder(estimator.categorical_features, estimator.feature_scaling, seed)
    X = _with_categorical_dtypes(X, estimator.categorical_features)
    if _categorical_positions(X, estimator.categorical_features):
        validate_data(schema, X, skip_check_array=True)
        y = column_or_1d(y, warn=True)
    else:
        _refuse_text(estimator, X, columns)
        X, y = validate_data(schema, X, y, dtype=np.float32, accept_sparse=True)
        X = densify(X)
    encoder.fit(X)
    if encode:
        X = encoder.transform(X)
    check_classification_targets(y)
    if classes is None:
        classes, y_codes = np.unique(y, return_inverse=True)
    else:
        y_codes = class_codes(y, classes)
    if len(classes) < 2:
        raise ValueError(f"{type(estimator).__name__} needs at least 2 classes in y; got 1 "
                         f"class: {classes.tolist()}.")
    names = getattr(schema, "feature_names_in_", None)
    return X, encoder, y, y_codes.astype(np.int64), classes, schema.n_features_in_, names, \
        sensitive, columns


def class_codes(y, classes):
    """The index of each label of ``y`` in the sorted ``classes``; a label that is not one of
    them is an error naming ``classes``."""
    y = np.asarray(y)
    codes = np.asarray(pd.Index(classes, tupleize_cols=False).get_indexer(y))
    known = codes >= 0
    if not known.all():
        unknown = pd.unique(y[~known])
        raise ValueError(f"y holds label(s) {short_list(unknown.tolist())} that are not in "
                         f"classes={classes.tolist()}: partial_fit's first call must list every "
                         "class.")
    return codes.astype(np.int64)


def _with_categorical_dtypes(X, categorical_features):
    """A list or other non-array ``X`` with explicit categorical positions, as an object
    array (so that its text columns survive until the encoder)."""
    if (categorical_features is None or isinstance(categorical_features, str)
            or hasattr(X, "shape")):
        return X
    return np.asarray(X, dtype=object)


def _categorical_positions(X, categorical_features):
    if not hasattr(X, "shape") or len(X.shape) != 2:
        return []  # validate_data gives the usual message for this X
    return categorical_columns(X, categorical_features)


def _refuse_text(estimator, X, sensitive_columns):
    """With ``categorical_features=None``, text columns of a DataFrame are an error that
    names them and the fix."""
    if not isinstance(X, pd.DataFrame):
        return
    text = [c for c in X.columns if not (pd.api.types.is_numeric_dtype(X[c])
                                         or pd.api.types.is_bool_dtype(X[c]))]
    sensitive = [c for c in text if c in set(sensitive_columns or ())]
    if sensitive:
        raise ValueError(
            f"sensitive_features column(s) {sensitive} are not numeric but stay model inputs "
            "(sensitive_as_input=True) with categorical_features=None: pass "
            "sensitive_as_input=False to use them as groups only, or "
            "categorical_features='from_dtype' to embed them.")
    if text:
        raise ValueError(
            f"X has non-numeric column(s) {short_list(text)}, and categorical_features=None: "
            f"{type(estimator).__name__} needs numbers. Use categorical_features='from_dtype' "
            "(learned embeddings) or encode them first (e.g. OneHotEncoder).")


def encode_features(estimator, X):
    """``X`` at predict time, checked against ``fit`` (feature count and names) and encoded
    with the fitted :class:`FeatureEncoder` (``estimator._feature_encoder``)."""
    encoder = estimator._feature_encoder
    if encoder.categorical_index_:
        validate_data(estimator, X, skip_check_array=True, reset=False)
        return encoder.transform(X)
    X = validate_data(estimator, X, dtype=np.float32, accept_sparse=True, reset=False)
    return encoder.transform(densify(X))


#: ``early_stopping="auto"`` holds out validation rows from this many training rows on.
AUTO_EARLY_STOPPING_ROWS = 100


def use_early_stopping(setting, y_codes, validation_fraction):
    """Whether ``fit`` stops early: ``setting`` itself, or for ``"auto"``, whether there are
    at least :data:`AUTO_EARLY_STOPPING_ROWS` rows and a stratified held-out split of
    ``validation_fraction`` can hold every class (two rows of each, one row per class held
    out)."""
    if not isinstance(setting, str):
        return bool(setting)
    counts = np.bincount(y_codes)
    n_held_out = int(np.ceil(validation_fraction * len(y_codes)))
    return bool(len(y_codes) >= AUTO_EARLY_STOPPING_ROWS and counts.min() >= 2
                and len(y_codes) - n_held_out >= len(counts) <= n_held_out)


def _hold_out(y_codes, validation_fraction, seed):
    index = np.arange(len(y_codes))
    try:
        return train_test_split(index, test_size=validation_fraction, stratify=y_codes,
                                random_state=seed)
    except ValueError as exc:
        raise ValueError(
            f"could not hold out a stratified split of validation_fraction={validation_fraction}"
            f" for early stopping, post_calibration or a metric decision ({exc}). Use more data "
            "or a larger validation_fraction.") from exc


def prepare_training_data(estimator, X, y, sample_weight, sensitive_features, *,
                          needs_held_out):
    """Validate the arguments of ``fit`` once and return a :class:`TrainingData`.

    Parameters
    ----------
    estimator : FairLossClassifier
        Read only: its parameters (``class_weight``, ``sample_weight_strategy``,
        ``sensitive_as_input``, ``validation_fraction``, ``random_state``).
    X, y, sample_weight, sensitive_features
        The arguments of ``fit``.
    needs_held_out : bool
        Whether a post-hoc calibrator or the decision rule needs held-out rows (early stopping
        is decided here, from ``early_stopping`` and the data).

    Returns
    -------
    TrainingData
    """
    seed = int(check_random_state(estimator.random_state).randint(np.iinfo(np.int32).max))
    X, feature_encoder, y, y_codes, classes, n_features, names, sensitive, columns = \
        _validate_X_y(estimator, X, y, sensitive_features, seed, encode=False)
    n_samples = len(y_codes)
    user_weights = check_sample_weight(sample_weight, n_samples, reference="X")
    if user_weights is None:
        user_weights = np.ones(n_samples)
    weights, strategy = user_weights, None
    if estimator.sample_weight_strategy is not None:
        strategy = check_strategy(estimator.sample_weight_strategy)
        strategy.fit(y, sensitive, sample_weight=weights)
        weights = weights * strategy.compute(y, sensitive)
    weights = weights * class_weight_per_class(estimator.class_weight, classes, y_codes)[y_codes]
    encoder = groups = None
    if sensitive is not None:
        encoder = GroupEncoder().fit(sensitive, n_samples=n_samples, reference="X")
        groups = encoder.transform(sensitive)
    early_stopping = use_early_stopping(estimator.early_stopping, y_codes,
                                        estimator.validation_fraction)
    train_index, valid_index = np.arange(n_samples), None
    order = None
    if needs_held_out or early_stopping:
        train_index, valid_index = _hold_out(y_codes, estimator.validation_fraction, seed)
        # the rows are laid out training rows first, then held-out rows, so that both are
        # slices of the one encoded array (no copy of X for the split)
        order = np.concatenate([train_index, valid_index])
        y_codes, user_weights, weights = y_codes[order], user_weights[order], weights[order]
        sensitive = None if sensitive is None else take_rows(sensitive, order)
        groups = None if groups is None else GroupCodes(
            groups.codes[order], groups.values[order], groups.cells[order])
        train_index = np.arange(len(train_index))
        valid_index = np.arange(len(train_index), n_samples)
    X = feature_encoder.transform(X, rows=order)  # the one copy of X: encoded, float32
    return TrainingData(
        X=X, feature_encoder=feature_encoder, y_codes=y_codes, classes=classes,
        n_features_in=n_features,
        feature_names_in=names, user_weights=user_weights, weights=weights, strategy=strategy,
        sensitive=sensitive, sensitive_columns=columns, group_encoder=encoder, groups=groups,
        train_index=train_index, valid_index=valid_index, seed=seed,
        early_stopping=early_stopping)
