"""The estimator's own encoding of ``X``: numeric columns scaled, categorical columns coded.

:class:`FeatureEncoder` turns what a tabular analyst passes to ``fit`` (a DataFrame with
numeric, string and categorical columns, or a numeric array) into the one float32 matrix the
network reads: the numeric columns first, scaled (a quantile transformation to a normal
distribution by default, as the TabM and numerical-embedding papers do), then the binary
columns (two values in ``fit``, such as one-hot indicators) mapped to 0 and 1, then one
integer code per categorical column, stored as a float (exact below 2**24). Code 0 is reserved for a
category unseen in ``fit`` or a missing value; the network learns an embedding per code.
"""

import numbers

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.preprocessing import OrdinalEncoder, QuantileTransformer, StandardScaler
from sklearn.utils import check_array

from ._validation import short_list

__all__ = ["FEATURE_SCALINGS", "FeatureEncoder", "categorical_columns"]

#: Spellings of ``feature_scaling``.
FEATURE_SCALINGS = ("quantile", "standard", None)


def _is_text_like(series):
    return not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series))


def categorical_columns(X, categorical_features):
    """Positions of the categorical columns of ``X`` for ``categorical_features``.

    ``"from_dtype"``: the columns of a DataFrame whose dtype is not numeric or boolean
    (``object``, ``string``, ``category``); none for an array. An array-like of column names,
    positions or a boolean mask picks them explicitly; None: no categorical column.
    """
    n_columns = X.shape[1]
    if categorical_features is None:
        return []
    if isinstance(categorical_features, str):
        if categorical_features != "from_dtype":
            raise ValueError("categorical_features must be 'from_dtype', None or an array-like "
                             f"of column names, positions or a boolean mask; got "
                             f"{categorical_features!r}.")
        if not isinstance(X, pd.DataFrame):
            return []
        return [i for i, c in enumerate(X.columns) if _is_text_like(X[c])]
    picked = np.asarray(categorical_features).ravel().tolist()
    if picked and all(isinstance(v, (bool, np.bool_)) for v in picked):
        if len(picked) != n_columns:
            raise ValueError(f"categorical_features is a boolean mask of {len(picked)} values "
                             f"but X has {n_columns} columns.")
        return [i for i, v in enumerate(picked) if v]
    if all(isinstance(v, numbers.Integral) for v in picked):
        bad = [v for v in picked if not -n_columns <= v < n_columns]
        if bad:
            raise ValueError(f"categorical_features has positions {short_list(bad)} outside "
                             f"the {n_columns} columns of X.")
        return sorted({int(v) % n_columns for v in picked})
    if not isinstance(X, pd.DataFrame):
        raise ValueError("categorical_features names columns, but X is not a DataFrame; pass "
                         "column positions or a boolean mask.")
    missing = [v for v in picked if v not in set(X.columns)]
    if missing:
        raise ValueError(f"categorical_features names columns {short_list(missing)} that are "
                         "not in X.")
    return [X.columns.get_loc(v) for v in picked]


def _columns(X, index):
    if isinstance(X, pd.DataFrame):
        return X.iloc[:, index]
    if sp.issparse(X):
        return X[:, index].toarray()
    return np.asarray(X)[:, index]


class FeatureEncoder:
    """Scale the numeric columns of ``X`` and code its categorical ones, for the network.

    Parameters
    ----------
    categorical_features : "from_dtype", None or array-like
        Which columns are categorical (see :func:`categorical_columns`).
    scaling : {"quantile", "standard", None}
        ``"quantile"``: scikit-learn's ``QuantileTransformer`` to a normal distribution,
        fitted on the training rows with a little noise that separates tied values (Gorishniy
        et al. 2022; TabM, 2025); ``"standard"``: ``StandardScaler``; None: as given.
    seed : int
        Seeds the quantile transformation's noise and subsample.

    Attributes
    ----------
    n_numerical_ : int
        Numeric columns with more than two values, the first ``n_numerical_`` columns of the
        output (the ones the network embeds).
    n_binary_ : int
        Numeric columns with at most two values in ``fit``, next in the output, as 0/1
        (as given when ``scaling`` is None).
    cardinalities_ : list of int
        For each categorical column, its number of codes (categories seen in ``fit`` + 1 for
        code 0, unseen or missing).
    """

    def __init__(self, categorical_features="from_dtype", scaling="quantile", seed=0):
        self.categorical_features = categorical_features
        self.scaling = scaling
        self.seed = seed

    #: Rows encoded at a time: the float64 temporaries of scaling stay this many rows high.
    block_rows = 16384

    def fit(self, X):
        """Learn the encoding on the training rows ``X`` (statistics over row blocks and one
        column at a time: no float64 copy of ``X`` is made)."""
        cat = categorical_columns(X, self.categorical_features)
        self.categorical_index_ = cat
        candidates = [i for i in range(X.shape[1]) if i not in set(cat)]
        self.numerical_index_ = candidates
        k, n_rows = len(candidates), X.shape[0]
        low, high = np.full(k, np.inf), np.full(k, -np.inf)
        for block in self._blocks(X):
            numeric = self._numeric(block)
            low = np.minimum(low, numeric.min(axis=0, initial=np.inf))
            high = np.maximum(high, numeric.max(axis=0, initial=-np.inf))
        binary = np.ones(k, dtype=bool)
        for block in self._blocks(X):
            numeric = self._numeric(block)
            binary &= np.all((numeric == low) | (numeric == high), axis=0)
        self.binary_index_ = [i for i, b in zip(candidates, binary) if b]
        # 0/1 from the two values, unless the user asked for the values as given
        self.binary_range_ = ((low[binary], high[binary]) if self.scaling is not None
                              else (np.zeros(binary.sum()), np.ones(binary.sum())))
        self.numerical_index_ = [i for i, b in zip(candidates, binary) if not b]
        self.n_numerical_, self.n_binary_ = len(self.numerical_index_), len(self.binary_index_)
        self.scaler_ = None
        if self.scaling is not None and self.n_numerical_:
            if self.scaling == "quantile":
                # one transformer per column, fitted on that column alone (memory: one column)
                rng = np.random.default_rng(self.seed)
                self.scaler_ = []
                for i in self.numerical_index_:
                    column = self._numeric(X, [i])
                    # noise of 1e-3 standard deviations separates tied values (as TabM's code
                    # does), in proportion to the column's spread: the model does not depend
                    # on the unit of a column
                    noise = 1e-3 * np.std(column) * rng.standard_normal(column.shape)
                    self.scaler_.append(QuantileTransformer(
                        n_quantiles=max(min(n_rows // 30, 1000), 10),
                        output_distribution="normal", subsample=None,
                        random_state=self.seed).fit(column + noise))
            else:
                self.scaler_ = StandardScaler()
                for block in self._blocks(X):
                    self.scaler_.partial_fit(self._numeric(block))
        self.encoder_ = None
        self.cardinalities_ = []
        if cat:
            self.encoder_ = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
                                           encoded_missing_value=-1, dtype=np.float64)
            self.encoder_.fit(self._categorical(X))
            self.cardinalities_ = [len(c) + 1 for c in self.encoder_.categories_]
        return self

    def fit_transform(self, X):
        """Learn the encoding on the training rows ``X`` and return them encoded."""
        return self.fit(X).transform(X)

    def _blocks(self, X, rows=None):
        """``X`` in blocks of :attr:`block_rows` rows (of ``X[rows]`` when ``rows`` is given)."""
        n_rows = X.shape[0] if rows is None else len(rows)
        for start in range(0, n_rows, self.block_rows):
            stop = min(start + self.block_rows, n_rows)
            index = slice(start, stop) if rows is None else rows[start:stop]
            yield X.iloc[index] if isinstance(X, pd.DataFrame) else X[index]

    def _numeric(self, X, index=None):
        index = self.numerical_index_ if index is None else index
        if not index:
            return np.empty((X.shape[0], 0))
        values = _columns(X, index)
        try:
            return check_array(values, dtype=np.float64, ensure_min_features=0,
                               input_name="X")
        except (TypeError, ValueError) as exc:
            if "NaN" in str(exc) or "infinity" in str(exc):
                raise
            raise ValueError(f"X has numeric columns that do not convert to numbers ({exc}); "
                             "name the text columns in categorical_features.") from exc

    def _categorical(self, X):
        values = _columns(X, self.categorical_index_)
        if isinstance(values, pd.DataFrame):
            # OrdinalEncoder compares categories as one type: strings and numbers mixed in
            # one column become strings, missing values stay missing
            values = values.apply(lambda s: s.map(lambda v: v if pd.isna(v) else str(v))
                                  .astype(object))
        return values

    def transform(self, X, rows=None):
        """Encode ``X`` with what ``fit`` learned: float32 ``(n, n_numerical_ + n_binary_ +
        len(cardinalities_))``, written block by block into one array (the rows ``X[rows]``,
        in that order, when ``rows`` is given)."""
        n_rows = X.shape[0] if rows is None else len(rows)
        n_plain = self.n_numerical_ + self.n_binary_
        out = np.empty((n_rows, n_plain + len(self.cardinalities_)), dtype=np.float32)
        low, high = self.binary_range_
        start = 0
        for block in self._blocks(X, rows):
            stop = start + block.shape[0]
            numeric = self._numeric(block)
            if isinstance(self.scaler_, list):
                for j, scaler in enumerate(self.scaler_):
                    out[start:stop, j] = scaler.transform(numeric[:, j:j + 1])[:, 0]
            else:
                if self.scaler_ is not None:
                    numeric = self.scaler_.transform(numeric)
                out[start:stop, :self.n_numerical_] = numeric
            out[start:stop, self.n_numerical_:n_plain] = (
                (self._numeric(block, self.binary_index_) - low)
                / np.where(high > low, high - low, 1.0))
            if self.encoder_ is not None:
                out[start:stop, n_plain:] = self.encoder_.transform(self._categorical(block)) + 1
            start = stop
        return out
