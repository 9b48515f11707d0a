"""UCI Adult (Census Income), bundled."""

import functools

import numpy as np
import pandas as pd

from ._base import DatasetInfo, as_category, check_frame, finish, loader_doc, open_data_text

__all__ = ["load_adult"]

ADULT_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status",
    "occupation", "relationship", "race", "sex", "capital-gain", "capital-loss",
    "hours-per-week", "native-country",
]
ADULT_CATEGORICAL = [
    "workclass", "education", "marital-status", "occupation", "relationship", "race", "sex",
    "native-country",
]
ADULT_SENSITIVE = ["sex", "race", "age", "marital-status"]
ADULT_TARGET = "income>50K"
ADULT_TARGET_NAMES = ["<=50K", ">50K"]
ADULT_N_ROWS = 48842

ADULT_DESCR = """\
.. _adult_dataset:

UCI Adult (Census Income) dataset
---------------------------------

**Rows:** 48,842 (all of ``adult.data``, 32,561 rows, then all of ``adult.test``, 16,281 rows,
in file order; the index runs 0..48841). **Columns:** 14 raw features (6 numeric, 8
categorical). **Target:** ``income>50K``, 1 when the person earns more than 50,000 USD a year
(23.9% of the rows), 0 otherwise; ``target_names`` = ['<=50K', '>50K'].

Features, named as in ``adult.names``: age, workclass, fnlwgt, education, education-num,
marital-status, occupation, relationship, race, sex, capital-gain, capital-loss, hours-per-week,
native-country. Numeric columns are int64; categorical columns are pandas ``category`` with the
values as published (leading spaces stripped).

**Missing values:** the raw files write unknown values as "?" (workclass: 2,799 rows,
occupation: 2,809, native-country: 857; 3,620 rows have at least one). They are missing values
(NaN) in the categorical columns here; no row is dropped. ``OneHotEncoder`` treats missing as a
category of its own.

**Sensitive attributes** (``sensitive``): sex, race, age (numeric, years), marital-status. They
stay in ``data`` as well; drop them from the model's inputs yourself if you want to.

**Preprocessing** from the raw files: the junk first line of ``adult.test`` is skipped, and its
labels ("<=50K.", ">50K.") lose the trailing period. Nothing else is changed.

**Source and licence:** Becker, B. and Kohavi, R. (1996). Adult [Dataset]. UCI Machine Learning
Repository. https://doi.org/10.24432/C5XW20. Extracted by Barry Becker from the 1994 Current
Population Survey of the US Census Bureau. Licensed under Creative Commons Attribution 4.0
International (CC BY 4.0); the package ships gzip-compressed, byte-for-byte copies of
``adult.data`` and ``adult.test``. First cited in Kohavi, R. (1996), "Scaling Up the Accuracy of
Naive-Bayes Classifiers: a Decision-Tree Hybrid", KDD-96.
"""


def _read_file(name, skiprows):
    frame = pd.read_csv(
        open_data_text(name),
        header=None,
        names=[*ADULT_COLUMNS, "income"],
        skiprows=skiprows,
        skipinitialspace=True,
        na_values=["?"],
        keep_default_na=False,
        dtype={column: "str" for column in [*ADULT_CATEGORICAL, "income"]},
    )
    return frame


ADULT = DatasetInfo(ADULT_SENSITIVE, ADULT_TARGET_NAMES, ADULT_DESCR)


@functools.lru_cache(maxsize=1)
def _load_adult_frames():
    train = _read_file("adult.data.gz", skiprows=0)
    test = _read_file("adult.test.gz", skiprows=1)  # "|1x3 Cross validator"
    frame = pd.concat([train, test], ignore_index=True)
    check_frame(frame, ADULT_N_ROWS, "Adult")
    income = frame.pop("income").str.rstrip(".")
    unknown = sorted(set(income.unique()) - set(ADULT_TARGET_NAMES))
    if unknown:  # pragma: no cover - only with corrupted package data
        raise RuntimeError(f"Unexpected Adult income labels {unknown}.")
    target = pd.Series((income == ">50K").to_numpy(dtype=np.int64), name=ADULT_TARGET)
    as_category(frame, ADULT_CATEGORICAL)
    return frame, target


@loader_doc(ADULT)
def load_adult(*, return_X_y=False, return_sensitive=None):
    """Load the UCI Adult (Census Income) data shipped with the package (no download).

    All 48,842 rows of ``adult.data`` and ``adult.test`` (Becker & Kohavi 1996, UCI Machine
    Learning Repository, CC BY 4.0), as raw features in a DataFrame. The task: does the
    person earn more than 50,000 USD a year (1, 23.9% of rows) or not (0)? "?" in the raw
    files becomes a missing value (NaN) in the categorical columns workclass, occupation and
    native-country; no row is dropped. See ``DESCR`` for the full provenance.

    {loader_params}

    Returns
    -------
    {bunch}
        data : DataFrame of shape (48842, 14)
            The raw features, index 0..48841 (``adult.data`` rows first). Numeric columns are
            int64, categorical columns pandas ``category``. The sensitive attributes are
            columns here too.
        target : Series of shape (48842,), int64, named "income>50K"
            1 for income >50K, 0 for <=50K.
        sensitive : DataFrame of shape (48842, 4)
            Copies of the columns sex, race, age and marital-status of ``data``.
        {loader_returns}

    Notes
    -----
    The parsed data is cached in memory after the first call (about 0.2 s); each call
    returns fresh copies, so changing them does not affect later calls.

    References
    ----------
    Becker, B. and Kohavi, R. (1996). Adult. UCI Machine Learning Repository.
    https://doi.org/10.24432/C5XW20 (CC BY 4.0).

    Examples
    --------
    >>> from sklearn_fairloss.datasets import load_adult
    >>> X, y, A = load_adult(return_sensitive="sex")
    >>> X.shape, y.name, A.name
    ((48842, 14), 'income>50K', 'sex')
    >>> round(float(y.mean()), 3)
    0.239
    >>> A.value_counts().to_dict()
    {'Male': 32650, 'Female': 16192}
    >>> int(X["occupation"].isna().sum())
    2809
    >>> adult = load_adult()
    >>> adult.sensitive_names
    ['sex', 'race', 'age', 'marital-status']
    """
    return finish(*_load_adult_frames(), ADULT, return_X_y=return_X_y,
                  return_sensitive=return_sensitive)
