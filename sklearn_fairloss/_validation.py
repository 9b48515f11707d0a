"""Input validation shared by the metrics, the weighting strategies and the estimators.

numpy and pandas only (no torch), so that every layer can use it. Messages are constant and
name the argument.
"""

import numbers

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = ["check_sample_weight", "default_pos_label", "sensitive_frame", "split_sensitive_columns",
           "take_rows"]

MSG_SF_MISSING = (
    "sensitive_features is required: pass an array-like or DataFrame with one row per sample "
    "(for a scorer: route it with set_score_request(sensitive_features=True) or name its "
    "column(s) of X with sensitive_features=...)."
)
MSG_SF_SCALAR = (
    "sensitive_features must be a 1-D or 2-D array-like or a DataFrame; got the scalar {!r}."
)
MSG_SF_STRING = (
    "sensitive_features={!r} is a single string, not a 1-D or 2-D array-like: pass the group "
    "of each row, or a column name of X to an estimator or scorer given a DataFrame X."
)
MSG_SF_NDIM = "sensitive_features must be 1-D or 2-D; got an array with {} dimensions."
MSG_SF_EMPTY = "sensitive_features has no columns."
MSG_SF_NAN = (
    "sensitive_features contains missing values (NaN/None) in column(s) {}; encode missing "
    "values as a group of their own explicitly."
)
MSG_SF_NEEDS_FRAME = (
    "sensitive_features={!r} names columns, which needs X to be a pandas DataFrame; got X of "
    "type {}. Pass the sensitive features as an array instead."
)
MSG_SF_NOT_IN_X = "sensitive_features names columns {} that are not in X; X has columns {}."
MSG_LENGTH = "{} has {} rows but {} has {} rows; they must have the same length."
MSG_SW_NOT_NUMERIC = "sample_weight must hold numbers; got values that are not numeric."
MSG_SW_NDIM = "sample_weight must be 1-D; got an array of shape {}."
MSG_SW_NEGATIVE = "sample_weight must be finite and non-negative; found negative, NaN or inf."
MSG_SW_ZERO = (
    "sample_weight sums to zero: all weights are zero; at least one row needs a positive weight."
)


def _as_array(values):
    """``np.asarray(values)``, except that labels of mixed types stay distinct: numpy would
    turn ``["1", 1]`` into two equal strings."""
    array = np.asarray(values)
    if array.dtype.kind == "U" and not isinstance(values, np.ndarray):
        flat = np.asarray(values, dtype=object).ravel()
        if any(not isinstance(v, str) for v in flat):
            return np.asarray(values, dtype=object)
    return array


def sensitive_frame(sensitive_features, n_samples=None, reference="y"):
    """Any accepted form of ``sensitive_features`` as a DataFrame with a positional index.

    Accepts a 1-D array-like or Series (one attribute), a 2-D array, a DataFrame or a dict of
    1-D arrays (several attributes). Unnamed attributes are called ``sensitive_feature_<j>``.
    Checks that there is at least one column, no missing value and, when ``n_samples`` is
    given, ``n_samples`` rows (the error names ``reference`` as the other argument).

    Examples
    --------
    >>> from sklearn_fairloss._validation import sensitive_frame
    >>> sensitive_frame(["a", "b"]).columns.tolist()
    ['sensitive_feature_0']
    """
    if sensitive_features is None:
        raise ValueError(MSG_SF_MISSING)
    if isinstance(sensitive_features, pd.DataFrame):
        frame = sensitive_features.reset_index(drop=True)
        frame.columns = [str(c) for c in frame.columns]
    elif isinstance(sensitive_features, pd.Series):
        name = sensitive_features.name
        name = "sensitive_feature_0" if name is None else str(name)
        frame = sensitive_features.reset_index(drop=True).to_frame(name=name)
    elif isinstance(sensitive_features, dict):
        frame = pd.DataFrame({str(k): _as_array(v) for k, v in sensitive_features.items()})
    elif isinstance(sensitive_features, str):
        raise ValueError(MSG_SF_STRING.format(sensitive_features))
    elif np.ndim(sensitive_features) == 0:
        raise ValueError(MSG_SF_SCALAR.format(sensitive_features))
    else:
        array = _as_array(sensitive_features)
        if array.ndim == 1:
            array = array[:, None]
        if array.ndim != 2:
            raise ValueError(MSG_SF_NDIM.format(array.ndim))
        frame = pd.DataFrame(
            {f"sensitive_feature_{j}": array[:, j] for j in range(array.shape[1])})
    if frame.shape[1] == 0:
        raise ValueError(MSG_SF_EMPTY)
    if n_samples is not None and frame.shape[0] != n_samples:
        raise ValueError(MSG_LENGTH.format("sensitive_features", frame.shape[0], reference,
                                           n_samples))
    missing = frame.isna().any()
    if missing.any():
        raise ValueError(MSG_SF_NAN.format(list(frame.columns[missing.to_numpy()])))
    return frame


def check_sample_weight(sample_weight, n_samples, reference="y"):
    """``sample_weight`` as a float64 1-D array of ``n_samples`` finite, non-negative numbers
    that are not all zero; ``None`` stays ``None`` and a number is broadcast.

    Examples
    --------
    >>> from sklearn_fairloss._validation import check_sample_weight
    >>> check_sample_weight([1, 2], 2)
    array([1., 2.])
    """
    if sample_weight is None:
        return None
    if isinstance(sample_weight, numbers.Number) and not isinstance(sample_weight, bool):
        sample_weight = np.full(n_samples, float(sample_weight))
    if isinstance(sample_weight, (pd.Series, pd.DataFrame)):
        sample_weight = sample_weight.to_numpy()
    try:
        sample_weight = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(MSG_SW_NOT_NUMERIC) from exc
    if sample_weight.ndim != 1:
        raise ValueError(MSG_SW_NDIM.format(sample_weight.shape))
    if sample_weight.shape[0] != n_samples:
        raise ValueError(MSG_LENGTH.format("sample_weight", sample_weight.shape[0], reference,
                                           n_samples))
    if not np.all(np.isfinite(sample_weight)) or np.any(sample_weight < 0):
        raise ValueError(MSG_SW_NEGATIVE)
    if not np.any(sample_weight > 0):
        raise ValueError(MSG_SW_ZERO)
    return sample_weight


def default_pos_label(labels):
    """The conventional positive class of binary labels: 1 (``True`` for booleans) when the
    labels are within {0, 1} or {-1, 1}, else None (the caller must be told).

    Examples
    --------
    >>> from sklearn_fairloss._validation import default_pos_label
    >>> default_pos_label([-1, 1]), default_pos_label([False, True]), default_pos_label(["a"])
    (1, True, None)
    """
    values = set(np.asarray(labels).tolist())
    if values <= {0, 1} or values <= {-1, 1}:
        return True if any(isinstance(v, (bool, np.bool_)) for v in values) else 1
    return None


def short_list(values, limit=10):
    """``values`` as a list for an error message, cut to ``limit`` items with a count of the
    rest, so that a message stays short however wide the data.

    Examples
    --------
    >>> from sklearn_fairloss._validation import short_list
    >>> short_list(["a", "b"])
    "['a', 'b']"
    >>> short_list(range(30), limit=3)
    '[0, 1, 2, ... (27 more)]'
    """
    values = list(values)
    if len(values) <= limit:
        return repr(values)
    return repr(values[:limit])[:-1] + f", ... ({len(values) - limit} more)]"


def _is_column_names(sensitive_features, X):
    if isinstance(sensitive_features, str):
        return True
    if (isinstance(sensitive_features, (list, tuple)) and len(sensitive_features) > 0
            and isinstance(X, pd.DataFrame)
            and all(isinstance(s, str) for s in sensitive_features)):
        # Names when one of them is a column; otherwise names only when there are no more
        # of them than X has columns (a longer list is group labels, one per row, whose
        # length the caller checks).
        if any(s in X.columns for s in sensitive_features):
            return True
        return len(sensitive_features) <= X.shape[1] and len(sensitive_features) != X.shape[0]
    return False


def split_sensitive_columns(X, sensitive_features):
    """Resolve column-name ``sensitive_features`` against ``X``.

    A string, or a list of strings that are not one label per row, names columns of a
    DataFrame ``X``; anything else is the sensitive features themselves.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)
    sensitive_features : array-like, DataFrame, str, list of str or None

    Returns
    -------
    sensitive : array-like or DataFrame or None
        The sensitive features as data.
    names : list of str or None
        The column names when ``sensitive_features`` named columns of ``X``, else None.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_fairloss._validation import split_sensitive_columns
    >>> X = pd.DataFrame({"age": [30, 40], "sex": ["F", "M"]})
    >>> sensitive, names = split_sensitive_columns(X, "sex")
    >>> sensitive["sex"].tolist(), names
    (['F', 'M'], ['sex'])
    """
    if sensitive_features is None or not _is_column_names(sensitive_features, X):
        return sensitive_features, None
    names = [sensitive_features] if isinstance(sensitive_features, str) else list(
        sensitive_features)
    if not isinstance(X, pd.DataFrame):
        raise ValueError(MSG_SF_NEEDS_FRAME.format(sensitive_features, type(X).__name__))
    missing = [name for name in names if name not in X.columns]
    if missing:
        raise ValueError(MSG_SF_NOT_IN_X.format(short_list(missing), short_list(X.columns)))
    return X[names], names


def take_rows(data, index):
    """Rows ``index`` of an array-like, a Series or DataFrame, or a sparse matrix.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_fairloss._validation import take_rows
    >>> take_rows(pd.Series(["a", "b", "c"], index=[7, 8, 9]), [0, 2]).tolist()
    ['a', 'c']
    >>> take_rows([[1, 2], [3, 4]], [1]).tolist()
    [[3, 4]]
    """
    if isinstance(data, (pd.DataFrame, pd.Series)):
        return data.iloc[index]
    if sp.issparse(data):
        return data.tocsr()[index]
    return np.asarray(data)[index]
