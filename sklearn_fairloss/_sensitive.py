"""Encoding of the ``sensitive_features`` fit parameter of the estimators.

``sensitive_features`` may be a 1-D array-like (one attribute), a 2-D array or a DataFrame
(several attributes), or column name(s) of ``X`` when ``X`` is a DataFrame
(:func:`split_sensitive_columns`, defined in :mod:`sklearn_fairloss._validation`). The
estimator turns it into two per-row tensors that travel in every training batch:

- ``sensitive``: int64 codes, shape ``(n, k)``, one column per attribute, codes
  ``0 .. n_groups_j - 1`` in sorted order of the attribute's values;
- ``sensitive_values``: float32, shape ``(n, k)``, the attribute's own value where the
  attribute is numeric (age as a number), its code otherwise.

Both come from :class:`sklearn_fairloss._groups.GroupEncoder`, the package's one group
encoding; this module keeps the estimator's interface to it.
"""

from ._groups import GroupEncoder
from ._validation import split_sensitive_columns

__all__ = ["SensitiveEncoding", "split_sensitive_columns", "encode_sensitive_features"]


class SensitiveEncoding(GroupEncoder):
    """A fitted :class:`GroupEncoder` under the names the estimator reads.

    Examples
    --------
    >>> from sklearn_fairloss._sensitive import SensitiveEncoding
    >>> encoding = SensitiveEncoding().fit(["b", "a", "b"])
    >>> encoding.names, encoding.categories[0].tolist(), encoding.n_groups
    (['sensitive_feature_0'], ['a', 'b'], [2])
    """

    def __repr__(self):
        return "SensitiveEncoding()"

    @property
    def names(self):
        return self.names_

    @property
    def categories(self):
        return self.categories_

    @property
    def numeric(self):
        return self.numeric_

    @property
    def n_groups(self):
        return self.n_groups_


def encode_sensitive_features(sensitive_features, n_samples, encoding=None):
    """Validate ``sensitive_features`` and encode them as group codes and values.

    Parameters
    ----------
    sensitive_features : array-like of shape (n_samples,) or (n_samples, k), or DataFrame
    n_samples : int
        The number of rows of ``X``; a different length is an error.
    encoding : SensitiveEncoding or None
        The encoding learned at fit time; when given, groups not seen then are an error.

    Returns
    -------
    codes : ndarray of shape (n_samples, k), int64
    values : ndarray of shape (n_samples, k), float32
    encoding : SensitiveEncoding

    Examples
    --------
    >>> from sklearn_fairloss._sensitive import encode_sensitive_features
    >>> codes, values, encoding = encode_sensitive_features([30, 50, 30], 3)
    >>> codes.ravel().tolist(), values.ravel().tolist(), encoding.numeric
    ([0, 1, 0], [30.0, 50.0, 30.0], [True])
    """
    if encoding is None:
        encoding = SensitiveEncoding()
        groups = encoding.fit_transform(sensitive_features, n_samples, reference="X")
    else:
        groups = encoding.transform(sensitive_features, n_samples=n_samples, reference="X")
    return groups.codes, groups.values, encoding
